//! Options shared by the commands that read or write the sealed store.

use std::path::PathBuf;

use kseal::keys::DynIdentity;
use kseal::store::{self, Scope};

use super::Global;

/// Which sealed file a command works on.
#[derive(Debug, clap::Args)]
pub struct ScopeArgs {
    /// Kamal destination, as in `kamal deploy -d DEST` (letters, digits,
    /// `_`, `.`, `-`). Without it: the default destination (`kamal deploy`
    /// with no -d).
    #[arg(short = 'd', long = "destination", value_name = "DEST")]
    pub destination: Option<String>,

    /// The secrets shared by every destination (Kamal's
    /// `.kamal/secrets-common`) instead of one destination's.
    #[arg(long, conflicts_with = "destination")]
    pub shared: bool,
}

impl ScopeArgs {
    pub fn scope(&self) -> anyhow::Result<Scope> {
        Scope::from_flags(self.shared, self.destination.as_deref())
    }
}

/// The app root for the current directory (after `-C`).
pub fn root() -> anyhow::Result<PathBuf> {
    store::app_root(std::path::Path::new("."))
}

/// The user's identities, in discovery order.
pub fn identities(global: &Global) -> anyhow::Result<Vec<DynIdentity>> {
    kseal::keys::discover(&global.identity)
}
