//! Reference lines in `.kamal/secrets*`: the wiring that lets Kamal read a
//! sealed secret from the environment `kseal run` gives it.
//!
//! A reference line is `NAME=$NAME`: Kamal's reader takes the value of the
//! environment variable `NAME`, and `kseal run` puts the unsealed value
//! there. No command runs, so none of the traps of `$(…)` apply.
//!
//! ```
//! use kseal::kamal::wiring::add_references;
//!
//! let wired = add_references("# mine\nRAILS_ENV=production\n", &["DB_PASSWORD"]).unwrap();
//! assert_eq!(wired.text, "# mine\nRAILS_ENV=production\nDB_PASSWORD=$DB_PASSWORD\n");
//! ```

use super::dotenv::{self, Part};

/// What [`add_references`] found for one name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameState {
    /// A `NAME=$NAME` line was added.
    Added,
    /// The file already reads the name from the environment.
    Wired,
    /// The file gives the name a value of its own (written at `line`): a
    /// literal, or another reference. Left as it is.
    Defined { line: usize, literal: bool },
}

/// The new text and what happened to each name, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wired {
    pub text: String,
    pub names: Vec<(String, NameState)>,
}

impl Wired {
    /// Whether the text differs from what was given.
    pub fn changed(&self) -> bool {
        self.names.iter().any(|(_, s)| *s == NameState::Added)
    }
}

/// The reference line for `name`.
pub fn reference_line(name: &str) -> String {
    format!("{name}=${name}")
}

/// Appends a reference line for every name the file does not define yet,
/// leaving every existing byte as it was. The file is parsed as Kamal
/// parses it; a file Kamal would refuse is refused here too.
pub fn add_references(text: &str, names: &[&str]) -> Result<Wired, dotenv::ParseError> {
    let entries = dotenv::parse(text)?;
    let mut out = text.to_owned();
    let mut states = Vec::with_capacity(names.len());
    for &name in names {
        // dotenv lets a later definition win, so the last one is what
        // Kamal sees.
        let state = match entries.iter().rev().find(|e| e.key == name) {
            Some(entry) if reads_own_variable(entry) => NameState::Wired,
            Some(entry) => NameState::Defined {
                line: entry.line,
                literal: entry.has_literal() && entry.literal().is_some(),
            },
            None => {
                if !out.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str(&reference_line(name));
                out.push('\n');
                NameState::Added
            }
        };
        states.push((name.to_owned(), state));
    }
    Ok(Wired {
        text: out,
        names: states,
    })
}

/// Whether `entry` is exactly `NAME=$NAME` or `NAME=${NAME}` (quoted or
/// not).
fn reads_own_variable(entry: &dotenv::Entry) -> bool {
    matches!(&entry.parts[..], [Part::Variable { name, .. }] if *name == entry.key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn existing_lines_are_kept_and_classified() {
        let text = "A=$A\nB=\"${B}\"\nC=plain\nD=$(op read x)\nE=x";
        let wired = add_references(text, &["A", "B", "C", "D", "E", "F"]).unwrap();
        let states: Vec<&NameState> = wired.names.iter().map(|(_, s)| s).collect();
        assert_eq!(
            states,
            [
                &NameState::Wired,
                &NameState::Wired,
                &NameState::Defined {
                    line: 3,
                    literal: true
                },
                &NameState::Defined {
                    line: 4,
                    literal: false
                },
                &NameState::Defined {
                    line: 5,
                    literal: true
                },
                &NameState::Added,
            ]
        );
        assert_eq!(wired.text, format!("{text}\nF=$F\n"));
        assert!(wired.changed());
    }

    #[test]
    fn wired_file_is_left_alone() {
        let wired = add_references("A=$A\n", &["A"]).unwrap();
        assert_eq!(wired.text, "A=$A\n");
        assert!(!wired.changed());
    }
}
