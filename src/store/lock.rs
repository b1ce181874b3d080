//! The store lock: an exclusive advisory lock (`flock`) on the store folder
//! `.kamal/kseal/` itself, so no lock file appears in the repository. Every
//! writer holds it from before it reads a file until after it has replaced
//! it, so concurrent `kseal set`s never lose an update. Readers do not lock:
//! they always see a whole file thanks to [`super::atomic`].

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::STORE_DIR;

/// Proof that the caller holds the store lock; released when dropped.
#[derive(Debug)]
pub struct StoreLock {
    _dir: File,
    root: PathBuf,
}

impl StoreLock {
    /// Creates the store folder if needed, then waits for the lock. Stale
    /// temporary files of killed writers are removed once it is held.
    pub fn acquire(root: &Path) -> anyhow::Result<StoreLock> {
        let dir = root.join(STORE_DIR);
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {STORE_DIR}"))?;
        let handle = File::open(&dir).with_context(|| format!("cannot open {STORE_DIR}"))?;
        handle
            .lock()
            .with_context(|| format!("cannot lock {STORE_DIR}"))?;
        super::atomic::remove_stale_temps(&dir)?;
        Ok(StoreLock {
            _dir: handle,
            root: root.to_owned(),
        })
    }

    /// The app root this lock covers.
    pub fn root(&self) -> &Path {
        &self.root
    }
}
