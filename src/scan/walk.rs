//! Trees of files: a parallel walk that honours `.gitignore` but does not
//! skip hidden files, and then looks on purpose at the places secrets sit
//! in plaintext even when they are ignored (`.env*`, `.kamal/`, `.ssh/`,
//! Rails key files).

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};

use super::{Scanner, Stats};
use crate::findings::Finding;

/// Places under a scanned folder that are read even when `.gitignore`
/// lists them: that is where plaintext secrets live on a developer's disk.
const ALWAYS_SCANNED: &[&str] = &[".kamal", ".ssh", "config/credentials"];
const ALWAYS_SCANNED_FILES: &[&str] = &["config/master.key"];

/// Scans every file under `roots` (files or folders) and returns the
/// findings, paths shown as reached from the current directory.
pub fn scan_paths(scanner: &Scanner, roots: &[PathBuf]) -> anyhow::Result<Vec<Finding>> {
    for root in roots {
        if !root.exists() {
            return Err(anyhow::anyhow!(
                "{}: no such file or folder",
                root.display()
            ))
            .map_err(|e| crate::hint::attach(e, "give paths that exist"));
        }
    }
    let findings = Mutex::new(Vec::new());
    let seen = Mutex::new(HashSet::new());

    let mut builder = WalkBuilder::new(&roots[0]);
    for root in &roots[1..] {
        builder.add(root);
    }
    builder
        .hidden(false)
        .threads(scanner.options.thread_count())
        .filter_entry(|entry| !is_skipped_dir(entry.path()));
    builder.build_parallel().run(|| {
        Box::new(|entry| {
            let Ok(entry) = entry else {
                Stats::add(&scanner.stats.unreadable, 1);
                return WalkState::Continue;
            };
            if entry.file_type().is_some_and(|t| t.is_file()) {
                let path = entry.path();
                seen.lock()
                    .expect("no scan thread panics")
                    .insert(path.to_owned());
                let found = scan_file(scanner, path);
                if !found.is_empty() {
                    findings
                        .lock()
                        .expect("no scan thread panics")
                        .extend(found);
                }
            }
            WalkState::Continue
        })
    });

    let mut findings = findings.into_inner().expect("no scan thread panics");
    let mut seen = seen.into_inner().expect("no scan thread panics");
    for root in roots.iter().filter(|r| r.is_dir()) {
        for path in ignored_secret_files(root) {
            if seen.insert(path.clone()) {
                log::debug!("{}: scanned although ignored", path.display());
                findings.extend(scan_file(scanner, &path));
            }
        }
    }
    Ok(findings)
}

/// Folders never entered: git's own database, and the sealed stores (only
/// ciphertext).
fn is_skipped_dir(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name == ".git" || path.ends_with(crate::store::STORE_DIR)
}

/// The secret-bearing files under `root` that an ignore file may hide.
fn ignored_secret_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(root) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with(".env")
                && entry.file_type().is_ok_and(|t| t.is_file())
            {
                out.push(entry.path());
            }
        }
    }
    for file in ALWAYS_SCANNED_FILES {
        let path = root.join(file);
        if path.is_file() {
            out.push(path);
        }
    }
    for dir in ALWAYS_SCANNED {
        let dir = root.join(dir);
        if !dir.is_dir() {
            continue;
        }
        let walk = WalkBuilder::new(&dir)
            .standard_filters(false)
            .filter_entry(|e| !is_skipped_dir(e.path()))
            .build();
        for entry in walk.flatten() {
            if entry.file_type().is_some_and(|t| t.is_file()) {
                out.push(entry.into_path());
            }
        }
    }
    out.sort();
    out
}

/// Reads and scans one file, counting it if it is skipped.
fn scan_file(scanner: &Scanner, path: &Path) -> Vec<Finding> {
    let shown = display_path(path);
    let Ok(file) = std::fs::File::open(path) else {
        log::warn!("{shown}: cannot be read; skipped");
        Stats::add(&scanner.stats.unreadable, 1);
        return Vec::new();
    };
    let size = file.metadata().map_or(0, |m| m.len());
    if !scanner.admits_size(size) {
        log::debug!("{shown}: {size} bytes, over the size limit; skipped");
        return Vec::new();
    }
    let mut data = Vec::with_capacity(size as usize);
    // Read at most the limit, so a file that grows meanwhile cannot make
    // the buffer unbounded.
    if file
        .take(scanner.options.max_file_bytes + 1)
        .read_to_end(&mut data)
        .is_err()
    {
        log::warn!("{shown}: cannot be read; skipped");
        Stats::add(&scanner.stats.unreadable, 1);
        return Vec::new();
    }
    if !scanner.admits_content(&data) {
        log::debug!("{shown}: binary; skipped");
        return Vec::new();
    }
    scanner.scan_buffer(&shown, &data, None)
}

/// A path as the user would type it: without a leading `./`.
fn display_path(path: &Path) -> String {
    let path = path.strip_prefix(".").unwrap_or(path);
    path.to_string_lossy().into_owned()
}
