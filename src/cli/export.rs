//! `kseal export`.

use std::io::Write;

use anyhow::Context;
use kseal::hint::ResultExt;
use kseal::kamal::dotenv;

use super::store_args::{ScopeArgs, identities, root};
use super::{Global, Outcome, values};

/// Print the values of a destination on stdout, as dotenv lines, JSON or
/// shell `export` lines.
///
/// The destination's values come over the shared ones, as Kamal layers
/// `.kamal/secrets-common` under `.kamal/secrets.<dest>`; with --shared only
/// the shared file is printed. Prefer `kseal run`, which hands values to a
/// program without writing them anywhere: what export prints is plaintext.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    kseal export -d production > .env.production   # plaintext: keep it out of git\n  \
    kseal export -d staging --format json DATABASE_URL REDIS_URL\n  \
    eval \"$(kseal export --format shell)\"")]
pub struct Args {
    /// Only these secrets, in this order (default: all).
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    #[command(flatten)]
    pub scope: ScopeArgs,

    /// Output format. dotenv lines are quoted so that Kamal's reader (the
    /// dotenv gem) gives back each value exactly, with no `$` expansion.
    #[arg(long, value_enum, default_value_t = ExportFormat::Dotenv)]
    pub format: ExportFormat,
}

/// The formats `kseal export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// `NAME='value'` lines, as read by dotenv and Kamal.
    Dotenv,
    /// One JSON object, `{"NAME": "value", ...}`.
    Json,
    /// `export NAME='value'` lines for POSIX shells.
    Shell,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let scope = args.scope.scope()?;
    let root = root()?;
    let identities = identities(global)?;
    let values = values::collect(&root, &scope, &identities, &args.names)?;

    // Render everything first, so that an unexportable value stops the
    // command before any value has been printed.
    let mut out = zeroize::Zeroizing::new(String::new());
    match args.format {
        ExportFormat::Dotenv => {
            for (name, value) in &values {
                let text = values::as_text(name, value, "dotenv")?;
                let line = dotenv::quote_line(name, text)
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "the value of {name:?} cannot be written as a dotenv line \
                             (it holds a carriage return)"
                        )
                    })
                    .hint("use --format json, or `kseal run` to hand it over unchanged")?;
                out.push_str(&line);
            }
        }
        ExportFormat::Json => {
            let mut map = serde_json::Map::new();
            for (name, value) in &values {
                let text = values::as_text(name, value, "JSON")?;
                map.insert(name.clone(), serde_json::Value::String(text.to_owned()));
            }
            let json = zeroize::Zeroizing::new(
                serde_json::to_string_pretty(&serde_json::Value::Object(map))
                    .expect("a map of strings always serialises"),
            );
            out.push_str(&json);
            out.push('\n');
        }
        ExportFormat::Shell => {
            for (name, value) in &values {
                if name.contains('.') {
                    return Err(anyhow::anyhow!(
                        "{name:?} is not a valid shell variable name"
                    ))
                    .hint("shell names cannot contain `.`; use --format dotenv or json");
                }
                let text = values::as_text(name, value, "shell")?;
                out.push_str(&format!("export {name}={}\n", shell_quote(text)));
            }
        }
    }

    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
        .context("cannot write to stdout")?;
    Ok(Outcome::Clean)
}

/// POSIX single-quoting: `'` becomes `'\''`.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
