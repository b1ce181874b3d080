//! Rules over `.kamal/secrets`, `.kamal/secrets-common` and
//! `.kamal/secrets.<dest>`, read as Kamal 2 reads them.

pub mod dollar_in_command_output;
pub mod hash_in_command;
pub mod missing_command_program;
pub mod multiline_secret_value;
pub mod plaintext_secret;

/// Whether a `$(…)` is one of Kamal's own `kamal secrets …` helpers, which
/// Kamal runs in-process instead of executing.
pub fn is_kamal_helper(command: &str) -> bool {
    let mut words = command.split_whitespace();
    words.next() == Some("kamal") && words.next() == Some("secrets")
}
