//! `kseal kamal`.

use std::ffi::OsString;
use std::sync::Arc;

use kseal::run::Launch;

use super::{Global, Outcome};

/// Run Kamal with the secrets of its destination: shorthand for
/// `kseal run -d DEST -- kamal ARGS...`, DEST taken from the -d or
/// --destination in ARGS.
///
/// Kamal sees every value through its environment (wire `.kamal/secrets`
/// with `NAME=$NAME` lines), and everything it prints is masked.
#[derive(Debug, clap::Args)]
#[command(
    disable_help_flag = true,
    after_help = "Examples:\n  \
    kseal kamal deploy -d production\n  \
    kseal kamal app exec -d staging 'bin/rails db:migrate'"
)]
pub struct Args {
    /// Kamal's own arguments, passed on unchanged.
    #[arg(
        value_name = "ARGS",
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub args: Vec<OsString>,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let destination = destination(&args.args);
    let values = super::run::values(destination.as_deref(), global)?;
    let set = Arc::new(super::redact::pattern_set(&values));
    let launch = Launch::new("kamal", &args.args, values);
    Ok(Outcome::Exit(launch.run_redacted(set)?))
}

/// The destination Kamal would use for `args`: the value of the last `-d`
/// or `--destination` (`-d X`, `-dX`, `-d=X`, `--destination X`,
/// `--destination=X`) before any `--`.
fn destination(args: &[OsString]) -> Option<String> {
    let mut found = None;
    let mut words = args.iter().map(|a| a.to_string_lossy());
    while let Some(word) = words.next() {
        if word == "--" {
            break;
        }
        let value = if word == "-d" || word == "--destination" {
            words.next().map(|v| v.into_owned())
        } else if let Some(v) = word.strip_prefix("--destination=") {
            Some(v.to_owned())
        } else {
            word.strip_prefix("-d")
                .filter(|_| !word.starts_with("--"))
                .map(|v| v.strip_prefix('=').unwrap_or(v).to_owned())
        };
        if value.is_some() {
            found = value;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest(args: &[&str]) -> Option<String> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        destination(&args)
    }

    #[test]
    fn every_spelling_of_the_destination_is_read() {
        assert_eq!(
            dest(&["deploy", "-d", "production"]).as_deref(),
            Some("production")
        );
        assert_eq!(dest(&["deploy", "-dstaging"]).as_deref(), Some("staging"));
        assert_eq!(dest(&["deploy", "-d=eu"]).as_deref(), Some("eu"));
        assert_eq!(
            dest(&["--destination", "a", "deploy"]).as_deref(),
            Some("a")
        );
        assert_eq!(dest(&["deploy", "--destination=b"]).as_deref(), Some("b"));
        assert_eq!(
            dest(&["deploy", "-d", "a", "-d", "b"]).as_deref(),
            Some("b")
        );
    }

    #[test]
    fn no_destination_or_one_after_the_separator_is_none() {
        assert_eq!(dest(&["deploy"]), None);
        assert_eq!(dest(&["app", "exec", "--", "cmd", "-d", "x"]), None);
        assert_eq!(dest(&["deploy", "--debug"]), None);
    }
}
