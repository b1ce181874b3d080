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

use anyhow::Context;

use crate::hint::ResultExt;
use crate::secret::SecretValue;

pub mod aead;
pub mod atomic;
pub mod datakey;
pub mod format;
pub mod lock;
pub mod mac;
pub mod open;
pub mod scope;

pub use format::{
    FORMAT_VERSION, FormatError, FormatErrorKind, Recipient, SealedFile, now_unix, validate_name,
};
pub use lock::StoreLock;
pub use open::{Change, IfMissing, OpenStore, transact};
pub use scope::validate_destination;

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
    let start = if start.is_absolute() {
        start.to_owned()
    } else {
        std::env::current_dir()
            .context("cannot read the current directory")?
            .join(start)
    };
    // `components` drops `.` segments, so errors show a clean path.
    let start: PathBuf = start.components().collect();
    for dir in start.ancestors() {
        let marks = [
            dir.join("config").join("deploy.yml"),
            dir.join(".kamal"),
            dir.join(".git"),
        ];
        if marks.iter().any(|m| m.exists()) {
            log::debug!("app root: {}", dir.display());
            return Ok(dir.to_owned());
        }
    }
    Err(anyhow::anyhow!(
        "{} is not inside a Kamal app (no config/deploy.yml, .kamal/ or .git above it)",
        start.display()
    ))
    .hint("run kseal in your app's folder, or pass -C DIR")
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
    let scope = Scope::from_destination(destination)?;
    let shared = OpenStore::open_if_exists(root, &Scope::Shared, identities)?;
    let own = OpenStore::open_if_exists(root, &scope, identities)?;
    let mut values: Vec<(String, SecretValue)> = Vec::new();
    if let Some(shared) = &shared {
        // Each file's names are unique, so one lookup per shared name in
        // the destination's sorted names keeps this linear-logarithmic.
        let overridden = |name: &str| own.as_ref().is_some_and(|o| o.get(name).is_some());
        values.extend(
            shared
                .values()
                .filter(|(name, _)| !overridden(name))
                .map(|(name, value)| (name.to_owned(), value.clone())),
        );
    }
    if let Some(own) = &own {
        values.extend(own.values().map(|(n, v)| (n.to_owned(), v.clone())));
    }
    Ok(values)
}

/// Every sealed file under the app root, with its scope, sorted by scope
/// (shared, default, then destinations by name). Files whose name is not a
/// valid scope's are skipped with a warning.
pub fn sealed_files(root: &Path) -> anyhow::Result<Vec<(Scope, PathBuf)>> {
    let dir = root.join(STORE_DIR);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot list {STORE_DIR}")),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {STORE_DIR}"))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let scope = match name {
            "secrets-common.sealed" => Scope::Shared,
            "secrets.sealed" => Scope::Default,
            _ => match name
                .strip_prefix("secrets.")
                .and_then(|n| n.strip_suffix(".sealed"))
            {
                Some(dest) if validate_destination(dest).is_ok() => {
                    Scope::Destination(dest.to_owned())
                }
                _ => {
                    if name.ends_with(".sealed") {
                        log::warn!("ignoring {STORE_DIR}/{name}: not a valid sealed file name");
                    }
                    continue;
                }
            },
        };
        found.push((scope, entry.path()));
    }
    found.sort();
    Ok(found)
}
