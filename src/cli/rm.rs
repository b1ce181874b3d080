//! `kseal rm`.

use kseal::hint::ResultExt;
use kseal::store::{self, IfMissing};

use super::store_args::{ScopeArgs, identities, root};
use super::{Global, Outcome};

/// Remove secrets from a destination's sealed file (or the shared file
/// with --shared).
///
/// The file is opened and re-sealed, so you need an identity that can open
/// it. A name that does not exist is an error and nothing is changed.
/// Removing a secret from the store does not revoke it: anyone who could
/// read it before can still read old git revisions, so rotate it upstream.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    kseal rm OLD_API_TOKEN -d production\n  \
    kseal rm LEGACY_A LEGACY_B --shared")]
pub struct Args {
    /// The secrets to remove.
    #[arg(value_name = "NAME", required = true)]
    pub names: Vec<String>,

    #[command(flatten)]
    pub scope: ScopeArgs,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    for name in &args.names {
        store::validate_name(name)
            .map_err(anyhow::Error::new)
            .hint("a secret name uses ASCII letters, digits, `_` and `.`, like DATABASE_URL")?;
    }
    let scope = args.scope.scope()?;
    let root = root()?;
    let identities = identities(global)?;

    store::transact(&root, &scope, &identities, IfMissing::Fail, |s| {
        let missing: Vec<&str> = args
            .names
            .iter()
            .filter(|n| s.get(n).is_none())
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(anyhow::anyhow!(
                "no secret {} in {}",
                missing.join(", "),
                scope.relative_path().display()
            ))
            .hint("`kseal list` shows the names there are; nothing was removed");
        }
        for name in &args.names {
            s.remove(name);
        }
        Ok(())
    })?;

    for name in &args.names {
        eprintln!(
            "kseal: {name} removed from {}",
            scope.relative_path().display()
        );
    }
    Ok(Outcome::Clean)
}
