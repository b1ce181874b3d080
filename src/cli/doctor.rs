//! `kseal doctor`.

use std::io::Write;

use anyhow::Context;
use kseal::team::doctor;

use super::store_args::root;
use super::{Global, Outcome};

/// Check local hygiene: identity file modes, whether your identities open
/// every sealed file, key and env files tracked by git, and .gitignore
/// coverage. Each finding comes with its fix; exit 1 when there is any.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    kseal doctor\n  \
    kseal doctor --json")]
pub struct Args {
    /// Print a JSON array of {kind, path, message, fix} objects.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let root = root()?;
    let findings = doctor::examine(&root, &global.identity);
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &findings).context("cannot write to stdout")?;
        writeln!(out).context("cannot write to stdout")?;
    } else if findings.is_empty() {
        eprintln!("kseal: doctor found nothing to fix");
    } else {
        for finding in &findings {
            writeln!(out, "{}: {}", finding.kind, finding.message)
                .and_then(|()| writeln!(out, "  fix: {}", finding.fix))
                .context("cannot write to stdout")?;
        }
    }
    Ok(if findings.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}
