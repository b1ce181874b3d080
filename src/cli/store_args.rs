//! Options shared by the commands that read or write the sealed store.

use std::path::PathBuf;

use kseal::hint::ResultExt;
use kseal::keys::DynIdentity;
use kseal::store::{self, Recipient, Scope};

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

/// The user's own public keys, labelled `user@host`: what a new store is
/// sealed to.
pub fn own_recipients(global: &Global) -> anyhow::Result<Vec<Recipient>> {
    let label = default_label();
    let keys = kseal::keys::own_recipients(&global.identity)?;
    if keys.is_empty() {
        return Err(anyhow::anyhow!(
            "none of your identities has a public key kseal can seal to"
        ))
        .hint("run `kseal keygen` to create an age identity");
    }
    Ok(keys
        .into_iter()
        .map(|key| Recipient::new(key, label.clone()))
        .collect())
}

/// A label for the user's own keys in a new store: `user@host`.
fn default_label() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_default();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    let label = match (user.trim(), host.trim()) {
        ("", "") => String::new(),
        (user, "") => user.to_owned(),
        ("", host) => host.to_owned(),
        (user, host) => format!("{user}@{host}"),
    };
    let label: String = label.chars().filter(|c| !c.is_control()).collect();
    if store::format::validate_label(&label).is_ok() {
        label
    } else {
        String::new()
    }
}
