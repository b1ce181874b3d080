//! The exposure ledger: every secret a recipient key could decrypt, per
//! sealed file, and since when.
//!
//! Removing a recipient protects what is sealed afterwards only. Every
//! value the key could open before, in the working tree or in any git
//! revision it was a recipient of, must be treated as known to its owner
//! and rotated upstream. The ledger lists those values by name.
//!
//! When the app is in a git repository, each file's history is read with
//! `git log` and `git cat-file --batch` (fixed arguments; the only variable
//! parts are commit ids and the file's path). A secret's `since` is the
//! first commit in which the key was a recipient of a revision holding that
//! secret. Secrets that were deleted from the file later but were readable
//! in an old revision are listed too.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::Context;
use serde::Serialize;

use super::access::scope_name;
use crate::keys::RecipientKey;
use crate::store::format::format_time;
use crate::store::{Scope, SealedFile};

/// A commit, as the ledger names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Since {
    /// The full commit id.
    pub commit: String,
    /// The commit time, RFC 3339 UTC.
    pub date: String,
}

/// One secret the key could decrypt.
#[derive(Debug, Clone, Serialize)]
pub struct ExposedSecret {
    pub name: String,
    /// Whether the file still holds the secret (else only old revisions do).
    pub current: bool,
    /// The first commit in which the key could read it; `None` when no
    /// commit shows that (not a git repository, or not committed yet).
    pub since: Option<Since>,
}

/// One sealed file's part of the ledger.
#[derive(Debug, Clone, Serialize)]
pub struct FileExposure {
    /// `shared`, `default` or the destination name.
    pub scope: String,
    pub file: String,
    /// The first commit in which the key was a recipient of the file.
    pub recipient_since: Option<Since>,
    pub secrets: Vec<ExposedSecret>,
}

/// The exposure ledger of one key.
#[derive(Debug, Clone, Serialize)]
pub struct Ledger {
    pub key: String,
    pub labels: Vec<String>,
    /// Whether git history was read.
    pub git_history: bool,
    pub files: Vec<FileExposure>,
}

impl Ledger {
    /// Every distinct secret name in the ledger.
    pub fn secret_count(&self) -> usize {
        self.files.iter().map(|f| f.secrets.len()).sum()
    }
}

/// The ledger of `key` over `files`: each sealed file as it is now (before
/// the key is removed), with its scope.
pub fn build(
    root: &Path,
    key: &RecipientKey,
    files: &[(Scope, SealedFile)],
) -> anyhow::Result<Ledger> {
    let git = GitRepo::find(root);
    let mut labels: Vec<String> = Vec::new();
    let mut exposures = Vec::new();
    for (scope, file) in files {
        for r in file.recipients().iter().filter(|r| &r.key == key) {
            if !r.label.is_empty() && !labels.contains(&r.label) {
                labels.push(r.label.clone());
            }
        }
        let rel = scope.relative_path();
        let history = match &git {
            Some(repo) => repo.revisions(root, &rel)?,
            None => Vec::new(),
        };

        let mut secrets: Vec<ExposedSecret> = Vec::new();
        let mut recipient_since = None;
        for (since, revision) in &history {
            if !revision.recipients().iter().any(|r| &r.key == key) {
                continue;
            }
            recipient_since.get_or_insert_with(|| since.clone());
            for entry in revision.entries() {
                if !secrets.iter().any(|s| s.name == entry.name) {
                    secrets.push(ExposedSecret {
                        name: entry.name.clone(),
                        current: false,
                        since: Some(since.clone()),
                    });
                }
            }
        }
        let key_is_recipient_now = file.recipients().iter().any(|r| &r.key == key);
        for entry in file.entries() {
            match secrets.iter_mut().find(|s| s.name == entry.name) {
                Some(secret) => secret.current = key_is_recipient_now || secret.current,
                None if key_is_recipient_now => secrets.push(ExposedSecret {
                    name: entry.name.clone(),
                    current: true,
                    since: None,
                }),
                None => {}
            }
        }
        if secrets.is_empty() && recipient_since.is_none() && !key_is_recipient_now {
            continue;
        }
        secrets.sort_by(|a, b| a.name.cmp(&b.name));
        exposures.push(FileExposure {
            scope: scope_name(scope),
            file: rel.display().to_string(),
            recipient_since,
            secrets,
        });
    }
    Ok(Ledger {
        key: key.as_str().to_owned(),
        labels,
        git_history: git.is_some(),
        files: exposures,
    })
}

/// A git work tree that holds the app.
struct GitRepo {
    /// The app root's path relative to the top of the work tree, with a
    /// trailing `/` (empty at the top).
    prefix: String,
}

impl GitRepo {
    fn find(root: &Path) -> Option<GitRepo> {
        let out = git(root)
            .args(["rev-parse", "--is-inside-work-tree", "--show-prefix"])
            .stderr(Stdio::null())
            .output()
            .ok()?;
        if !out.status.success() {
            log::debug!(
                "{} is not in a git work tree: no history read",
                root.display()
            );
            return None;
        }
        let text = String::from_utf8(out.stdout).ok()?;
        let mut lines = text.lines();
        if lines.next() != Some("true") {
            return None;
        }
        let prefix = lines.next().unwrap_or_default().to_owned();
        Some(GitRepo { prefix })
    }

    /// Every committed revision of `rel` (relative to the app root), oldest
    /// first, parsed. Revisions that do not parse are skipped: they cannot
    /// have been opened by anyone either.
    fn revisions(&self, root: &Path, rel: &Path) -> anyhow::Result<Vec<(Since, SealedFile)>> {
        let out = git(root)
            .args(["log", "--reverse", "--format=%H %ct", "--"])
            .arg(rel)
            .stderr(Stdio::null())
            .output()
            .context("cannot run git log")?;
        if !out.status.success() {
            // A repository without commits has no history to read.
            return Ok(Vec::new());
        }
        let log = String::from_utf8_lossy(&out.stdout);
        let commits: Vec<(String, i64)> = log
            .lines()
            .filter_map(|line| {
                let (commit, time) = line.split_once(' ')?;
                Some((commit.to_owned(), time.parse().ok()?))
            })
            .collect();
        if commits.is_empty() {
            return Ok(Vec::new());
        }

        let path = format!("{}{}", self.prefix, rel.display());
        let requests: String = commits
            .iter()
            .map(|(commit, _)| format!("{commit}:{path}\n"))
            .collect();
        let blobs = cat_file_batch(root, requests)?;
        let mut revisions = Vec::new();
        for ((commit, time), blob) in commits.into_iter().zip(blobs) {
            let Some(bytes) = blob else { continue };
            match SealedFile::parse(&bytes) {
                Ok(file) => revisions.push((
                    Since {
                        commit,
                        date: format_time(time),
                    },
                    file,
                )),
                Err(e) => log::debug!("{path} at {commit} does not parse: {e}"),
            }
        }
        Ok(revisions)
    }
}

fn git(root: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(root)
        .args(["-c", "core.quotepath=off"])
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null());
    cmd
}

/// The blob for each `commit:path` line of `requests`, `None` for a missing
/// one, from one `git cat-file --batch`.
fn cat_file_batch(root: &Path, requests: String) -> anyhow::Result<Vec<Option<Vec<u8>>>> {
    let expected = requests.lines().count();
    let mut child = git(root)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot run git cat-file")?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // Feed the requests from another thread, so a full stdout pipe cannot
    // block both sides.
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(requests.as_bytes());
    });
    let mut reader = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut blobs = Vec::with_capacity(expected);
    for _ in 0..expected {
        let mut header = String::new();
        if reader
            .read_line(&mut header)
            .context("cannot read git cat-file")?
            == 0
        {
            break;
        }
        let words: Vec<&str> = header.split_whitespace().collect();
        match words.as_slice() {
            [_, "blob", size] => {
                let size: usize = size.parse().context("git cat-file: bad size")?;
                let mut blob = vec![0u8; size + 1];
                reader
                    .read_exact(&mut blob)
                    .context("cannot read git cat-file")?;
                blob.pop();
                blobs.push(Some(blob));
            }
            [_, _, size] => {
                // Not a blob (a folder at that path): skip its content.
                let size: usize = size.parse().context("git cat-file: bad size")?;
                std::io::copy(
                    &mut (&mut reader).take(size as u64 + 1),
                    &mut std::io::sink(),
                )
                .context("cannot read git cat-file")?;
                blobs.push(None);
            }
            _ => blobs.push(None),
        }
    }
    let _ = feeder.join();
    let _ = child.wait();
    Ok(blobs)
}
