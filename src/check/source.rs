//! Where `kseal check` reads files from: the working tree, or the git index
//! (`--staged`, what the next commit will hold).
//!
//! Reading is defensive. A file that is larger than [`FILE_MAX_BYTES`],
//! binary, not UTF-8, or a symlink that leaves the app root is refused with
//! an error naming it; nothing is followed outside the root. The index is
//! read through one `git cat-file --batch` process whose argv holds no
//! path and no content: object names go in on stdin.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

use crate::hint::ResultExt;

/// Largest file kseal check reads.
pub const FILE_MAX_BYTES: usize = 1024 * 1024;

/// Which version of the files to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The files as they are on disk.
    Worktree,
    /// The files as staged in the git index.
    Staged,
}

/// The files of one app, as one mode sees them.
#[derive(Debug)]
pub struct Source {
    pub root: PathBuf,
    pub mode: Mode,
    /// Paths git tracks (with `--staged`: paths in the index), relative to
    /// the root; `None` outside a git repository.
    pub tracked: Option<Vec<String>>,
    /// Index contents read ahead, by path (`--staged` only); `Err` holds
    /// the size of a blob too large to keep.
    staged: BTreeMap<String, Result<Vec<u8>, u64>>,
}

impl Source {
    /// Opens the app at `root`. With [`Mode::Staged`] the Kamal files in
    /// the index are read at once, in one git process.
    pub fn open(root: &Path, mode: Mode) -> anyhow::Result<Source> {
        let tracked = tracked_files(root)?;
        if mode == Mode::Staged && tracked.is_none() {
            return Err(anyhow::anyhow!(
                "--staged needs a git repository, and {} is not in one",
                root.display()
            ))
            .hint("run `git init`, or drop --staged to check the working tree");
        }
        let mut source = Source {
            root: root.to_owned(),
            mode,
            tracked,
            staged: BTreeMap::new(),
        };
        if mode == Mode::Staged {
            let wanted: Vec<String> = source
                .tracked
                .iter()
                .flatten()
                .filter(|p| is_kamal_file(p) || sniff_worthy(p))
                .cloned()
                .collect();
            source.staged = read_index(root, &wanted)?;
        }
        Ok(source)
    }

    /// Kamal files present in this version: deploy files, secrets files
    /// and sealed stores, relative to the root, sorted.
    pub fn kamal_files(&self) -> anyhow::Result<Vec<String>> {
        let mut found = Vec::new();
        match self.mode {
            Mode::Staged => {
                found.extend(self.staged.keys().filter(|p| is_kamal_file(p)).cloned());
            }
            Mode::Worktree => {
                for dir in ["config", ".kamal", ".kamal/kseal"] {
                    let entries = match std::fs::read_dir(self.root.join(dir)) {
                        Ok(entries) => entries,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                        Err(e) => return Err(e).with_context(|| format!("cannot list {dir}/")),
                    };
                    for entry in entries {
                        let entry = entry.with_context(|| format!("cannot list {dir}/"))?;
                        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                            continue;
                        };
                        let rel = format!("{dir}/{name}");
                        if is_kamal_file(&rel) {
                            found.push(rel);
                        }
                    }
                }
            }
        }
        found.sort();
        Ok(found)
    }

    /// Reads a file as text; `Ok(None)` when it does not exist in this
    /// version.
    pub fn read_text(&self, rel: &str) -> anyhow::Result<Option<String>> {
        let Some(bytes) = self.read_bytes(rel, FILE_MAX_BYTES)? else {
            return Ok(None);
        };
        if bytes.contains(&0) {
            return Err(anyhow::anyhow!("{rel}: a binary file (it holds NUL bytes)"))
                .hint("Kamal reads this file as text; restore it from git or rewrite it");
        }
        match String::from_utf8(bytes) {
            Ok(text) => Ok(Some(text)),
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let line = 1 + e.as_bytes()[..valid]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                Err(anyhow::anyhow!("{rel}:{line}: not valid UTF-8")).hint("save the file as UTF-8")
            }
        }
    }

    /// Reads up to `limit` bytes of a file; a larger file is an error.
    pub fn read_bytes(&self, rel: &str, limit: usize) -> anyhow::Result<Option<Vec<u8>>> {
        if self.mode == Mode::Staged {
            return match self.staged.get(rel) {
                None => Ok(None),
                Some(Err(size)) => too_large(rel, *size, limit),
                Some(Ok(bytes)) if bytes.len() > limit => too_large(rel, bytes.len() as u64, limit),
                Some(Ok(bytes)) => Ok(Some(bytes.clone())),
            };
        }
        let path = self.root.join(rel);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {rel}")),
        };
        // Resolve every link on the way, the file's own and its folders':
        // `.kamal` itself may be a symlink out of the app.
        let target = path.canonicalize().with_context(|| {
            if meta.file_type().is_symlink() {
                format!("{rel}: a symlink to a file that does not exist")
            } else {
                format!("cannot resolve {rel}")
            }
        })?;
        if !target.starts_with(self.canonical_root()?) {
            return Err(anyhow::anyhow!(
                "{rel}: leads to {}, outside the app root, through a symlink; kseal does not \
                 follow it",
                target.display()
            ))
            .hint("replace the symlink with the file itself, inside the app");
        }
        let meta = std::fs::metadata(&path).with_context(|| format!("cannot read {rel}"))?;
        if !meta.is_file() {
            bail!("{rel}: not a regular file");
        }
        if meta.len() > limit as u64 {
            return too_large(rel, meta.len(), limit);
        }
        let mut bytes = Vec::new();
        std::fs::File::open(&path)
            .and_then(|f| f.take(limit as u64 + 1).read_to_end(&mut bytes))
            .with_context(|| format!("cannot read {rel}"))?;
        if bytes.len() > limit {
            return too_large(rel, bytes.len() as u64, limit);
        }
        Ok(Some(bytes))
    }

    fn canonical_root(&self) -> anyhow::Result<PathBuf> {
        self.root
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", self.root.display()))
    }

    /// The first bytes of a tracked file, for content sniffing; missing,
    /// unreadable and oversized files give `None`.
    pub fn sniff(&self, rel: &str) -> Option<Vec<u8>> {
        const SNIFF_BYTES: usize = 64 * 1024;
        if self.mode == Mode::Staged {
            return match self.staged.get(rel) {
                Some(Ok(b)) => Some(b[..b.len().min(SNIFF_BYTES)].to_vec()),
                _ => None,
            };
        }
        let path = self.root.join(rel);
        let meta = std::fs::symlink_metadata(&path).ok()?;
        if !meta.is_file() {
            return None;
        }
        let inside = path
            .canonicalize()
            .ok()
            .zip(self.canonical_root().ok())
            .is_some_and(|(target, root)| target.starts_with(root));
        if !inside {
            return None;
        }
        let mut bytes = Vec::new();
        std::fs::File::open(&path)
            .ok()?
            .take(SNIFF_BYTES as u64)
            .read_to_end(&mut bytes)
            .ok()?;
        Some(bytes)
    }
}

fn too_large<T>(rel: &str, len: u64, limit: usize) -> anyhow::Result<T> {
    Err(anyhow::anyhow!(
        "{rel}: {len} bytes, more than the {limit} kseal check reads"
    ))
    .hint("a Kamal file this large is not a real config; check what was written there")
}

/// Whether `rel` is a file the Kamal model reads.
pub fn is_kamal_file(rel: &str) -> bool {
    if let Some(name) = rel.strip_prefix("config/") {
        return name == "deploy.yml"
            || (name.starts_with("deploy.") && name.ends_with(".yml") && !name.contains('/'));
    }
    if let Some(name) = rel.strip_prefix(".kamal/kseal/") {
        return name.ends_with(".sealed") && !name.contains('/');
    }
    if let Some(name) = rel.strip_prefix(".kamal/") {
        return (name == "secrets" || name.starts_with("secrets.") || name == "secrets-common")
            && !name.contains('/');
    }
    false
}

/// Tracked files whose content the committed-file rule looks at.
pub fn sniff_worthy(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name.starts_with(".env")
        || name.ends_with(".pem")
        || name.ends_with(".key")
        || name.ends_with(".txt") && (name.contains("key") || name.contains("identity"))
}

/// `git ls-files` in `root`: tracked and staged paths under it, relative
/// to it. `None` when `root` is not inside a git work tree.
fn tracked_files(root: &Path) -> anyhow::Result<Option<Vec<String>>> {
    let output = Command::new("git")
        .args(["ls-files", "-z", "--cached"])
        .current_dir(root)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    let output = match output {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            log::debug!("git is not installed; tracked-file rules are skipped");
            return Ok(None);
        }
        Err(e) => return Err(e).context("cannot run git ls-files"),
    };
    if !output.status.success() {
        log::debug!("{} is not in a git work tree", root.display());
        return Ok(None);
    }
    let mut paths: Vec<String> = output
        .stdout
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .filter_map(|p| std::str::from_utf8(p).ok().map(str::to_owned))
        .collect();
    paths.sort();
    paths.dedup();
    Ok(Some(paths))
}

/// Reads `paths` from the index with `git cat-file --batch`; object names
/// (`:./path`) go on stdin, so argv carries nothing from the repository.
/// A blob larger than [`FILE_MAX_BYTES`] is drained, not kept.
fn read_index(
    root: &Path,
    paths: &[String],
) -> anyhow::Result<BTreeMap<String, Result<Vec<u8>, u64>>> {
    let mut out = BTreeMap::new();
    if paths.is_empty() {
        return Ok(out);
    }
    let mut child = Command::new("git")
        .args(["cat-file", "--batch"])
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot run git cat-file")?;
    let mut stdin = child.stdin.take().expect("stdin was piped");
    let names: String = paths.iter().map(|p| format!(":./{p}\n")).collect();
    // Write from a thread: git answers while we write, and a pipe holds
    // only so much.
    let writer = std::thread::spawn(move || stdin.write_all(names.as_bytes()));
    let mut reader = BufReader::new(child.stdout.take().expect("stdout was piped"));

    for path in paths {
        let mut header = String::new();
        reader
            .read_line(&mut header)
            .context("cannot read from git cat-file")?;
        let fields: Vec<&str> = header.split_whitespace().collect();
        if fields.len() != 3 {
            // `<name> missing`: deleted in the index but listed; skip.
            continue;
        }
        let size: u64 = fields[2].parse().context("git cat-file gave a bad size")?;
        let body = if size > FILE_MAX_BYTES as u64 {
            std::io::copy(&mut (&mut reader).take(size), &mut std::io::sink())
                .context("cannot read from git cat-file")?;
            Err(size)
        } else {
            let mut body = vec![0; size as usize];
            reader
                .read_exact(&mut body)
                .context("cannot read from git cat-file")?;
            Ok(body)
        };
        let mut newline = [0u8; 1];
        reader
            .read_exact(&mut newline)
            .context("cannot read from git cat-file")?;
        if fields[1] == "blob" {
            out.insert(path.clone(), body);
        }
    }
    writer
        .join()
        .expect("the writer thread does not panic")
        .context("cannot write to git cat-file")?;
    let status = child.wait().context("git cat-file did not finish")?;
    if !status.success() {
        bail!("git cat-file failed ({status})");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kamal_files_are_recognised() {
        for p in [
            "config/deploy.yml",
            "config/deploy.staging.yml",
            ".kamal/secrets",
            ".kamal/secrets-common",
            ".kamal/secrets.production",
            ".kamal/kseal/secrets.sealed",
        ] {
            assert!(is_kamal_file(p), "{p}");
        }
        for p in [
            "config/database.yml",
            ".kamal/hooks/pre-deploy",
            "deploy.yml",
        ] {
            assert!(!is_kamal_file(p), "{p}");
        }
    }
}
