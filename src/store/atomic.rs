//! Atomic replacement of a sealed file: write a temporary file in the same
//! folder, fsync it, rename it over the target, fsync the folder. A crash at
//! any instant leaves either the old file or the new one, never a mix.
//!
//! Temporary files hold sealed bytes only (never plaintext) and are named
//! `.<file>.<random>.kseal-tmp`; one left by a killed writer is removed by the
//! next writer that takes the store lock (see [`super::lock`]).

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Suffix of the temporary files [`write`] creates.
pub const TEMP_SUFFIX: &str = ".kseal-tmp";

/// Replaces `path` with `bytes` atomically. The new file keeps the old one's
/// permissions, or gets 0644 when there was none.
pub fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .expect("a sealed file path always has a parent folder");
    let name = path
        .file_name()
        .expect("a sealed file path always has a file name")
        .to_string_lossy();
    let display = path.display();

    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file beside {display}"))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .with_context(|| format!("cannot write a temporary file beside {display}"))?;

    let permissions = match std::fs::metadata(path) {
        Ok(meta) => meta.permissions(),
        Err(_) => {
            use std::os::unix::fs::PermissionsExt;
            std::fs::Permissions::from_mode(0o644)
        }
    };
    std::fs::set_permissions(temp.path(), permissions)
        .with_context(|| format!("cannot set permissions beside {display}"))?;

    temp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot replace {display}"))?;
    sync_dir(dir).with_context(|| format!("cannot sync the folder of {display}"))?;
    Ok(())
}

/// Flushes a folder's entries (the rename) to disk.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Removes temporary files left in `dir` by killed writers. Only call this
/// while holding the store lock, so no live writer's file is touched.
pub fn remove_stale_temps(dir: &Path) -> anyhow::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(TEMP_SUFFIX) {
            log::debug!("removing stale temporary file {name}");
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.sealed");
        write(&path, b"one\n").unwrap();
        write(&path, b"two\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two\n");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn stale_temps_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".secrets.sealed.abc.kseal-tmp"), b"x").unwrap();
        std::fs::write(dir.path().join("secrets.sealed"), b"x").unwrap();
        remove_stale_temps(dir.path()).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }
}
