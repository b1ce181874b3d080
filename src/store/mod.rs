//! The sealed store: one text file per Kamal destination under
//! `.kamal/kseal/`, names in the clear, values encrypted under a per-file data
//! key that is wrapped to every recipient with age. `docs/format.md` is the
//! specification.
//!
//! The types here are the contract the rest of kseal codes against:
//!
//! - [`Scope`] names a file: the shared one (Kamal's `secrets-common`), the
//!   default destination, or a named destination.
//! - [`SealedFile`] is a parsed file whose values are still sealed. It can be
//!   read without any key: names, timestamps, recipients, format version.
//! - [`OpenStore`] is a file opened with an identity: values can be read,
//!   changed, and sealed again.
//! - [`open_values`] is the one call `run`, `redact` and `scan` need: every
//!   value the caller can see for a destination, shared values first.

use std::path::{Path, PathBuf};

use crate::secret::SecretValue;

/// The directory, relative to the app root, that holds sealed files.
pub const STORE_DIR: &str = ".kamal/kseal";

/// Which sealed file: shared by all destinations, the default destination
/// (Kamal run without `-d`), or one named destination.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Shared,
    Default,
    Destination(String),
}

/// One secret's name and plaintext metadata, readable without a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryInfo {
    pub name: String,
    /// Seconds since the Unix epoch, UTC.
    pub created: i64,
    /// Seconds since the Unix epoch, UTC.
    pub changed: i64,
}

/// The root of the Kamal app: the nearest ancestor of `start` that holds
/// `config/deploy.yml`, `.kamal/` or `.git`.
pub fn app_root(start: &Path) -> anyhow::Result<PathBuf> {
    let _ = start;
    todo!("store::app_root")
}

/// Every value the given identities can open for `destination` (None: the
/// default destination): the shared file's values, then the destination's,
/// a destination value replacing a shared one of the same name. Files that do
/// not exist contribute nothing.
pub fn open_values(
    root: &Path,
    destination: Option<&str>,
    identities: &[crate::keys::DynIdentity],
) -> anyhow::Result<Vec<(String, SecretValue)>> {
    let _ = (root, destination, identities);
    todo!("store::open_values")
}
