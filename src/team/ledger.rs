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
//! first commit whose revision of it the key could decrypt: one it was a
//! recipient of, or an earlier one sealed under the same data key (adding a
//! recipient does not change the data key, so the newcomer also reads back
//! to the last rotation). Secrets that were deleted from the file later but
//! were readable in an old revision are listed too.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::Context;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::access::scope_name;
use crate::keys::{DynIdentity, RecipientKey};
use crate::store::datakey::DataKey;
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
    /// Whether that first readable revision was sealed before the key was
    /// added, under the data key it later received.
    pub sealed_before_added: bool,
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
/// the key is removed), with its scope. `identities` are the caller's: they
/// tell which revisions share a data key (see [`same_key_groups`]).
pub fn build(
    root: &Path,
    key: &RecipientKey,
    files: &[(Scope, SealedFile)],
    identities: &[DynIdentity],
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
        // Every committed revision, oldest first, then the file as it is.
        let mut revisions: Vec<(Option<Since>, &SealedFile)> = history
            .iter()
            .map(|(since, file)| (Some(since.clone()), file))
            .collect();
        revisions.push((None, file));

        let direct: Vec<bool> = revisions
            .iter()
            .map(|(_, f)| f.recipients().iter().any(|r| &r.key == key))
            .collect();
        let groups = same_key_groups(&revisions, identities);
        let direct_groups: HashSet<usize> = groups
            .iter()
            .zip(&direct)
            .filter(|(_, d)| **d)
            .map(|(g, _)| *g)
            .collect();
        let readable: Vec<bool> = groups.iter().map(|g| direct_groups.contains(g)).collect();

        let mut secrets: Vec<ExposedSecret> = Vec::new();
        for (i, (since, revision)) in revisions.iter().enumerate() {
            if !readable[i] {
                continue;
            }
            for entry in revision.entries() {
                if !secrets.iter().any(|s| s.name == entry.name) {
                    secrets.push(ExposedSecret {
                        name: entry.name.clone(),
                        current: false,
                        since: since.clone(),
                        sealed_before_added: !direct[i],
                    });
                }
            }
        }
        if readable.last() == Some(&true) {
            for entry in file.entries() {
                if let Some(secret) = secrets.iter_mut().find(|s| s.name == entry.name) {
                    secret.current = true;
                }
            }
        }
        if secrets.is_empty() && !direct.iter().any(|d| *d) {
            continue;
        }
        let recipient_since = revisions
            .iter()
            .zip(&direct)
            .find(|(_, d)| **d)
            .and_then(|((since, _), _)| since.clone());
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

/// For each revision, the number of its group: revisions in one group were
/// sealed under the same data key, so a key that can unwrap one of them
/// reads them all. Adding a recipient keeps the data key, so a newcomer
/// also reads earlier revisions back to the last rotation.
///
/// Two revisions share a key when the caller's identities unwrap the same
/// data key from both. When they cannot unwrap one of two consecutive
/// revisions, the two are counted as sharing a key: without the key a
/// rotation cannot be told from a change of every value, and for an
/// offboarding report listing too much is the safe mistake.
fn same_key_groups(
    revisions: &[(Option<Since>, &SealedFile)],
    identities: &[DynIdentity],
) -> Vec<usize> {
    let fingerprints: Vec<Option<[u8; 32]>> = revisions
        .iter()
        .map(|(_, f)| {
            DataKey::unwrap(f.wrapped_key(), identities)
                .ok()
                .map(|k| Sha256::digest(k.expose()).into())
        })
        .collect();
    // Union-find over revision indexes; a group is named by its smallest
    // index.
    let mut parent: Vec<usize> = (0..revisions.len()).collect();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    fn merge(parent: &mut [usize], a: usize, b: usize) {
        let (a, b) = (find(parent, a), find(parent, b));
        parent[a.max(b)] = a.min(b);
    }
    let mut first_with_key: HashMap<[u8; 32], usize> = HashMap::new();
    for i in 0..revisions.len() {
        if let Some(fingerprint) = fingerprints[i] {
            let first = *first_with_key.entry(fingerprint).or_insert(i);
            merge(&mut parent, i, first);
        }
        if i > 0 && (fingerprints[i].is_none() || fingerprints[i - 1].is_none()) {
            merge(&mut parent, i, i - 1);
        }
    }
    (0..revisions.len()).map(|i| find(&mut parent, i)).collect()
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

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::secret::SecretValue;
    use crate::store::{OpenStore, Recipient};

    /// Four revisions: X; X and Y under the same key; both after a
    /// rotation; both with new values under that second key.
    fn revisions() -> (Vec<SealedFile>, Vec<DynIdentity>) {
        let dir = tempfile::tempdir().unwrap();
        let id = age::x25519::Identity::generate();
        let key = RecipientKey::from_str(&id.to_public().to_string()).unwrap();
        let mut store =
            OpenStore::create(dir.path(), &Scope::Default, vec![Recipient::new(key, "me")])
                .unwrap();
        let value = |t: &str| SecretValue::new(t.as_bytes().to_vec());
        let mut files = Vec::new();
        let mut snap = |s: &OpenStore| files.push(SealedFile::parse(&s.to_bytes()).unwrap());
        store.set("X", value("1")).unwrap();
        snap(&store);
        store.set("Y", value("2")).unwrap();
        snap(&store);
        store.rotate_data_key().unwrap();
        snap(&store);
        store.set("X", value("3")).unwrap();
        store.set("Y", value("4")).unwrap();
        snap(&store);
        (files, vec![Box::new(id)])
    }

    #[test]
    fn revisions_group_by_data_key() {
        let (files, ids) = revisions();
        let revs: Vec<(Option<Since>, &SealedFile)> = files.iter().map(|f| (None, f)).collect();
        // With the key, every revision's data key is compared.
        assert_eq!(same_key_groups(&revs, &ids), [0, 0, 2, 2]);
        // Without it, a rotation cannot be seen: neighbours are assumed to
        // share a key, so the ledger lists too much rather than too little.
        assert_eq!(same_key_groups(&revs, &[]), [0, 0, 0, 0]);
        let other: Vec<DynIdentity> = vec![Box::new(age::x25519::Identity::generate())];
        assert_eq!(same_key_groups(&revs, &other), [0, 0, 0, 0]);
    }
}
