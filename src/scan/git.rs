//! Git history: every blob reachable from any ref, scanned once, each
//! finding attributed to the commit that first brought the secret in.
//!
//! Three runs of the real `git` do the work:
//!
//! 1. `git rev-list --all --objects` lists every reachable object, with the
//!    path it was first seen at; each blob is kept once, however many
//!    commits share it.
//! 2. `git cat-file --batch` streams the blobs' contents to the scanning
//!    threads.
//! 3. Only if something was found, `git log --all --reverse --raw` walks
//!    the history oldest first and tells, for each blob with a finding, the
//!    first commit, author and path that introduced it; a merge counts
//!    for the files that differ from all its parents. A secret present
//!    in several versions of a file is reported once, at the oldest.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Mutex, mpsc};

use anyhow::Context;

use super::Scanner;
use crate::findings::Finding;
use crate::hint::ResultExt;

/// Blobs waiting for a scanning thread, at most; bounds memory.
const QUEUE_BLOBS: usize = 64;

struct Blob {
    id: String,
    path: String,
    data: Vec<u8>,
}

/// Where a blob first appeared.
#[derive(Debug, Clone)]
struct Introduction {
    /// Position in history, oldest first.
    order: usize,
    commit: String,
    author: String,
    date: String,
    path: String,
}

/// Scans the history of the repository at `repo`.
pub fn scan_history(scanner: &Scanner, repo: &Path) -> anyhow::Result<Vec<Finding>> {
    let objects = reachable_blobs(repo)?;
    log::debug!(
        "{} objects with a path reachable from all refs",
        objects.len()
    );

    let found: Mutex<Vec<(String, Finding, [u8; 16])>> = Mutex::new(Vec::new());
    let (send, receive) = mpsc::sync_channel::<Blob>(QUEUE_BLOBS);
    let receive = Mutex::new(receive);
    std::thread::scope(|scope| -> anyhow::Result<()> {
        for _ in 0..scanner.options.thread_count() {
            scope.spawn(|| {
                loop {
                    let blob = {
                        let queue = receive.lock().expect("no scan thread panics");
                        match queue.recv() {
                            Ok(blob) => blob,
                            Err(_) => return,
                        }
                    };
                    if !scanner.admits_content(&blob.data) {
                        continue;
                    }
                    let hits = scanner.scan_buffer_with_digests(&blob.path, &blob.data, None);
                    if hits.is_empty() {
                        continue;
                    }
                    let mut found = found.lock().expect("no scan thread panics");
                    for (finding, digest) in hits {
                        found.push((blob.id.clone(), finding, digest));
                    }
                }
            });
        }
        let result = read_blobs(scanner, repo, &objects, &send);
        drop(send);
        result
    })?;

    let found = found.into_inner().expect("no scan thread panics");
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let wanted: HashSet<&str> = found.iter().map(|(id, _, _)| id.as_str()).collect();
    let introductions = introductions(repo, &wanted)?;

    // One finding per (rule, secret): the oldest introduction wins.
    let mut best: HashMap<(String, [u8; 16]), (usize, Finding)> = HashMap::new();
    for (id, mut finding, digest) in found {
        let order = match introductions.get(&id) {
            Some(intro) => {
                finding.path = intro.path.clone().into();
                finding.origin = Some(format!(
                    "commit {} by {} on {}",
                    &intro.commit[..intro.commit.len().min(12)],
                    intro.author,
                    intro.date
                ));
                intro.order
            }
            None => {
                finding.origin = Some(format!("blob {}", &id[..id.len().min(12)]));
                usize::MAX
            }
        };
        let key = (finding.rule.clone(), digest);
        match best.get(&key) {
            Some((kept, _)) if *kept <= order => {}
            _ => {
                best.insert(key, (order, finding));
            }
        }
    }
    Ok(best.into_values().map(|(_, f)| f).collect())
}

/// Every object with a path reachable from any ref, with the first path
/// it was seen at. Commits and the root trees have no path and are left
/// out; trees are told apart later by their type.
fn reachable_blobs(repo: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let output = Command::new("git")
        .args(["rev-list", "--all", "--objects"])
        .current_dir(repo)
        .stderr(Stdio::piped())
        .output()
        .context("cannot run git")
        .hint("install git, or scan without --git")?;
    if !output.status.success() {
        return Err(anyhow::anyhow!(
            "git rev-list failed in {}: {}",
            repo.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
        .hint("run --git inside a git repository");
    }
    let mut seen = HashSet::new();
    let mut objects = Vec::new();
    for line in output.stdout.split(|&b| b == b'\n') {
        let line = String::from_utf8_lossy(line);
        let Some((id, path)) = line.split_once(' ') else {
            continue;
        };
        if !path.is_empty() && seen.insert(id.to_owned()) {
            objects.push((id.to_owned(), path.to_owned()));
        }
    }
    Ok(objects)
}

/// Streams the contents of `objects` through `git cat-file --batch` and
/// hands the blobs to `send`.
fn read_blobs(
    scanner: &Scanner,
    repo: &Path,
    objects: &[(String, String)],
    send: &mpsc::SyncSender<Blob>,
) -> anyhow::Result<()> {
    let mut child = Command::new("git")
        .args(["cat-file", "--batch"])
        .current_dir(repo)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot run git cat-file")?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let ids: Vec<String> = objects.iter().map(|(id, _)| id.clone()).collect();
    // Feed the ids from another thread, so neither pipe can fill up and
    // stall the other.
    let feeder = std::thread::spawn(move || {
        for id in ids {
            if writeln!(stdin, "{id}").is_err() {
                break;
            }
        }
    });

    let mut out = BufReader::with_capacity(1 << 16, child.stdout.take().expect("stdout is piped"));
    let mut header = String::new();
    for (id, path) in objects {
        header.clear();
        if out
            .read_line(&mut header)
            .context("cannot read git cat-file")?
            == 0
        {
            break;
        }
        let mut fields = header.split_whitespace();
        let (_, kind, size) = (fields.next(), fields.next(), fields.next());
        let Some(size) = size.and_then(|s| s.parse::<u64>().ok()) else {
            // `<id> missing`: nothing follows.
            continue;
        };
        if kind != Some("blob") || !scanner.admits_size(size) {
            std::io::copy(&mut (&mut out).take(size + 1), &mut std::io::sink())
                .context("cannot read git cat-file")?;
            continue;
        }
        let mut data = vec![0; size as usize];
        out.read_exact(&mut data)
            .context("cannot read git cat-file")?;
        let mut newline = [0u8; 1];
        out.read_exact(&mut newline)
            .context("cannot read git cat-file")?;
        if send
            .send(Blob {
                id: id.clone(),
                path: path.clone(),
                data,
            })
            .is_err()
        {
            break;
        }
    }
    drop(out);
    let _ = feeder.join();
    let status = child.wait().context("cannot wait for git cat-file")?;
    if !status.success() {
        return Err(anyhow::anyhow!("git cat-file failed in {}", repo.display()));
    }
    Ok(())
}

/// For each wanted blob, the first commit (oldest first over all refs)
/// whose diff against its parent adds it.
fn introductions(
    repo: &Path,
    wanted: &HashSet<&str>,
) -> anyhow::Result<HashMap<String, Introduction>> {
    let mut child = Command::new("git")
        .args([
            "-c",
            "core.quotePath=false",
            "log",
            "--all",
            "--reverse",
            "--topo-order",
            "--raw",
            "--no-abbrev",
            "--no-renames",
            "--root",
            // A merge shows the files that differ from every parent: what
            // a conflict resolution or an edit made in the merge brought in.
            "--diff-merges=combined",
            "--format=commit %H%x09%an <%ae>%x09%ad",
            "--date=short",
        ])
        .current_dir(repo)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot run git log")?;
    let out = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut found: HashMap<String, Introduction> = HashMap::new();
    let mut current: Option<(usize, String, String, String)> = None;
    let mut order = 0;
    for line in out.split(b'\n') {
        let line = line.context("cannot read git log")?;
        let line = String::from_utf8_lossy(&line);
        if let Some(rest) = line.strip_prefix("commit ") {
            let mut parts = rest.splitn(3, '\t');
            let commit = parts.next().unwrap_or("").to_owned();
            let author = parts.next().unwrap_or("").to_owned();
            let date = parts.next().unwrap_or("").to_owned();
            order += 1;
            current = Some((order, commit, author, date));
            continue;
        }
        // `:100644 100644 <old> <new> M\t<path>`, or for a merge of two
        // parents `::100644 100644 100644 <old> <old> <new> MM\t<path>`:
        // the new blob is the field before the status.
        if !line.starts_with(':') {
            continue;
        }
        let Some((meta, path)) = line.trim_start_matches(':').split_once('\t') else {
            continue;
        };
        let fields: Vec<&str> = meta.split(' ').collect();
        let Some(&new) = fields.len().checked_sub(2).and_then(|i| fields.get(i)) else {
            continue;
        };
        if !wanted.contains(new) || found.contains_key(new) {
            continue;
        }
        if let Some((order, commit, author, date)) = &current {
            found.insert(
                new.to_owned(),
                Introduction {
                    order: *order,
                    commit: commit.clone(),
                    author: author.clone(),
                    date: date.clone(),
                    path: path.to_owned(),
                },
            );
        }
    }
    let _ = child.wait();
    Ok(found)
}
