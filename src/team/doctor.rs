//! `kseal doctor`: local hygiene around the user's keys and the app's
//! repository. Each finding says what is wrong and how to fix it.
//!
//! Checked, in order:
//!
//! 1. identity files (`-i`, `KSEAL_IDENTITY_FILE`, the kseal identity,
//!    `~/.ssh/id_ed25519`, `~/.ssh/id_rsa`) that group or others can read;
//! 2. each sealed file: whether one of the user's identities opens it, and
//!    if not, whether that is because the user is not a recipient or
//!    because the file or the identity is at fault;
//! 3. files git tracks that hold keys or values in the clear (the Rails
//!    master key, credentials keys, identities, `.env` files with values);
//! 4. `.gitignore` coverage of the paths where such files appear.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;

use crate::check::files::sensitive;
use crate::check::source::sniff_worthy;
use crate::keys::{self, DynIdentity, RecipientKey};
use crate::store::{self, OpenStore, SealedFile};

/// One problem and its fix.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// A short stable id: `identity-mode`, `no-identity`, `cannot-open`,
    /// `not-a-recipient`, `tracked-secret-file`, `not-ignored`.
    pub kind: &'static str,
    /// The file it is about, when there is one.
    pub path: Option<String>,
    pub message: String,
    pub fix: String,
}

/// Paths that must be ignored by git when they exist or may appear, with
/// what they hold.
const MUST_IGNORE: &[(&str, &str)] = &[
    ("config/master.key", "the Rails master key"),
    (
        "config/credentials/production.key",
        "Rails credentials keys",
    ),
    (".env", "env files with values"),
];

/// Runs every check for the app at `root`, with the identity files the user
/// named with `-i`.
pub fn examine(root: &Path, explicit: &[PathBuf]) -> Vec<Finding> {
    let mut findings = Vec::new();
    identity_modes(explicit, &mut findings);
    sealed_files(root, explicit, &mut findings);
    if let Some(tracked) = tracked_files(root) {
        tracked_secrets(root, &tracked, &mut findings);
        ignore_coverage(root, &mut findings);
    }
    findings
}

fn identity_modes(explicit: &[PathBuf], out: &mut Vec<Finding>) {
    let mut paths: Vec<PathBuf> = explicit.to_vec();
    if explicit.is_empty() {
        if let Some(path) = std::env::var_os(keys::IDENTITY_FILE_ENV) {
            paths.push(PathBuf::from(path));
        }
        if let Ok(path) = keys::default_identity_path() {
            paths.push(path);
        }
        if let Some(home) = std::env::var_os("HOME") {
            let ssh = Path::new(&home).join(".ssh");
            paths.push(ssh.join("id_ed25519"));
            paths.push(ssh.join("id_rsa"));
        }
    }
    for path in paths {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            let display = path.display().to_string();
            out.push(Finding {
                kind: "identity-mode",
                path: Some(display.clone()),
                message: format!(
                    "identity file {display} can be read by group or others (mode {mode:04o}); \
                     kseal refuses to use it"
                ),
                fix: format!("chmod 600 {display}"),
            });
        }
    }
}

fn sealed_files(root: &Path, explicit: &[PathBuf], out: &mut Vec<Finding>) {
    let files = match store::sealed_files(root) {
        Ok(files) => files,
        Err(e) => {
            out.push(Finding {
                kind: "cannot-open",
                path: Some(store::STORE_DIR.to_owned()),
                message: format!("{e:#}"),
                fix: format!("check that you can read {}", store::STORE_DIR),
            });
            return;
        }
    };
    if files.is_empty() {
        return;
    }
    let identities: Vec<DynIdentity> = match keys::discover(explicit) {
        Ok(ids) => ids,
        Err(e) => {
            let fix = crate::hint::find(&e)
                .map(|h| h.text().to_owned())
                .unwrap_or_else(|| "run `kseal keygen` to create an identity".to_owned());
            out.push(Finding {
                kind: "no-identity",
                path: None,
                message: format!("{} sealed file(s) here, but {}", files.len(), chain(&e)),
                fix,
            });
            return;
        }
    };
    let own: Vec<RecipientKey> = keys::own_recipients(explicit).unwrap_or_default();
    for (scope, path) in files {
        let display = scope.relative_path().display().to_string();
        let file = match SealedFile::read_path(&path, &display) {
            Ok(file) => file,
            Err(e) => {
                out.push(cannot_open(&display, &e));
                continue;
            }
        };
        let listed = file.recipients().iter().any(|r| own.contains(&r.key));
        match OpenStore::from_sealed(root, file, &identities, &display) {
            Ok(_) => {}
            Err(e) if !listed && chain(&e).contains("none of your identities") => {
                let key = own
                    .first()
                    .map_or("YOUR_PUBLIC_KEY".to_owned(), |k| k.to_string());
                out.push(Finding {
                    kind: "not-a-recipient",
                    path: Some(display.clone()),
                    message: format!("none of your identities can open {display}"),
                    fix: format!(
                        "ask a recipient to run `kseal recipients add '{key}'{}`",
                        flag(&scope)
                    ),
                });
            }
            Err(e) => out.push(cannot_open(&display, &e)),
        }
    }
}

fn flag(scope: &store::Scope) -> String {
    match scope {
        store::Scope::Shared => " --shared".to_owned(),
        store::Scope::Default => String::new(),
        store::Scope::Destination(name) => format!(" -d {name}"),
    }
}

fn cannot_open(display: &str, e: &anyhow::Error) -> Finding {
    Finding {
        kind: "cannot-open",
        path: Some(display.to_owned()),
        message: chain(e),
        fix: crate::hint::find(e)
            .map(|h| h.text().to_owned())
            .unwrap_or_else(|| format!("restore it with `git checkout -- {display}`")),
    }
}

/// An error chain on one line, without the empty links hints leave.
fn chain(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| c.to_string())
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(": ")
}

/// `git ls-files` under `root`, relative to it; `None` outside a work tree.
fn tracked_files(root: &Path) -> Option<Vec<String>> {
    let out = Command::new("git")
        .args(["ls-files", "-z", "--cached"])
        .current_dir(root)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(
        out.stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect(),
    )
}

fn tracked_secrets(root: &Path, tracked: &[String], out: &mut Vec<Finding>) {
    const SNIFF_BYTES: u64 = 64 * 1024;
    for rel in tracked {
        let content = if sniff_worthy(rel) {
            std::fs::File::open(root.join(rel)).ok().and_then(|f| {
                let mut bytes = zeroize::Zeroizing::new(Vec::new());
                f.take(SNIFF_BYTES).read_to_end(&mut bytes).ok()?;
                Some(bytes)
            })
        } else {
            None
        };
        if let Some(what) = sensitive(rel, content.as_deref().map(|c| c.as_slice())) {
            out.push(Finding {
                kind: "tracked-secret-file",
                path: Some(rel.clone()),
                message: format!("{rel} ({what}) is tracked by git"),
                fix: format!(
                    "git rm --cached {rel}, add it to .gitignore, and rotate what it held \
                     (old commits keep it)"
                ),
            });
        }
    }
}

fn ignore_coverage(root: &Path, out: &mut Vec<Finding>) {
    for (rel, what) in MUST_IGNORE {
        let status = Command::new("git")
            .args(["check-ignore", "-q", "--no-index", "--"])
            .arg(rel)
            .current_dir(root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        // 0: ignored; 1: not ignored; anything else: git could not tell.
        if status.ok().and_then(|s| s.code()) == Some(1) {
            let pattern = match *rel {
                "config/credentials/production.key" => "/config/credentials/*.key",
                other => other,
            };
            let pattern = if pattern.starts_with('/') {
                pattern.to_owned()
            } else {
                format!("/{pattern}")
            };
            out.push(Finding {
                kind: "not-ignored",
                path: Some(rel.to_string()),
                message: format!(".gitignore does not cover {rel} ({what})"),
                fix: format!("add `{pattern}` to .gitignore"),
            });
        }
    }
}
