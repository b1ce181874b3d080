//! `kseal fetch`.

use std::io::Write;

use anyhow::Context;

use super::store_args::{ScopeArgs, identities, root};
use super::{Global, Outcome, values};

/// Print values in the form `kamal secrets fetch` prints them, for
/// `kamal secrets extract` to read.
///
/// The output is one JSON object of names and values, escaped for a POSIX
/// shell exactly as Kamal escapes its own fetch output, so that a
/// `.kamal/secrets` file can use kseal as it would a password manager:
///
///   SECRETS=$(kseal fetch -d production)
///   DB_PASSWORD=$(kamal secrets extract DB_PASSWORD $SECRETS)
///
/// Caveat: Kamal expands `$NAME` in the output of every `$(...)` it runs,
/// so a value holding `$` can reach Kamal changed, and a file whose command
/// Kamal cannot find is read as empty without a word. `kseal run -d DEST --
/// kamal ...` with `NAME=$NAME` lines in `.kamal/secrets` avoids both, and
/// is the recommended wiring. fetch warns (by name) about values with `$`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only these secrets (default: all).
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    #[command(flatten)]
    pub scope: ScopeArgs,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let scope = args.scope.scope()?;
    let root = root()?;
    let identities = identities(global)?;
    let values = values::collect(&root, &scope, &identities, &args.names)?;

    let mut map = serde_json::Map::new();
    for (name, value) in &values {
        let text = values::as_text(name, value, "fetch")?;
        if text.contains('$') {
            log::warn!(
                "the value of {name} holds `$`, which Kamal may expand when it reads \
                 command output; use `kseal run` for it"
            );
        }
        map.insert(name.clone(), serde_json::Value::String(text.to_owned()));
    }
    // Kamal writes `JSON.dump(results)`: compact, non-ASCII kept as is.
    let json = zeroize::Zeroizing::new(serde_json::Value::Object(map).to_string());
    let mut escaped = zeroize::Zeroizing::new(shell_escape(&json));
    escaped.push('\n');

    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(escaped.as_bytes())
        .and_then(|()| stdout.flush())
        .context("cannot write to stdout")?;
    Ok(Outcome::Clean)
}

/// Ruby's `Shellwords.escape`, which Kamal applies to its fetch output: a
/// backslash before every character outside `A-Za-z0-9_-.,:+/@` and the
/// newline, a newline written as `'\n'`, and `''` for the empty string.
fn shell_escape(text: &str) -> String {
    if text.is_empty() {
        return "''".to_owned();
    }
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("'\n'"),
            'A'..='Z' | 'a'..='z' | '0'..='9' | '_' | '-' | '.' | ',' | ':' | '+' | '/' | '@' => {
                out.push(c)
            }
            _ => {
                out.push('\\');
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_ruby_shellwords() {
        assert_eq!(shell_escape(""), "''");
        assert_eq!(shell_escape(r#"{"foo":"oof"}"#), r#"\{\"foo\":\"oof\"\}"#);
        assert_eq!(shell_escape("a b\nc$"), "a\\ b'\n'c\\$");
        assert_eq!(shell_escape("é"), "\\é");
    }
}
