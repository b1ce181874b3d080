//! The `kseal` binary: parse the command line, hand it to the library, and
//! turn the outcome into an exit code (0 clean, 1 findings, 2 error).

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
