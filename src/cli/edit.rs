//! `kseal edit`.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use kseal::hint::ResultExt;
use kseal::kamal::dotenv::{self, Part};
use kseal::secret::SecretValue;
use kseal::store::{self, Change, IfMissing, OpenStore};
use zeroize::Zeroizing;

use super::store_args::{ScopeArgs, identities, own_recipients, root};
use super::{Global, Outcome};

/// Edit a destination's secrets in your editor ($VISUAL, else $EDITOR,
/// else vi).
///
/// The values are written as dotenv lines (`NAME='value'`) to a file only
/// you can read, in a RAM-backed folder ($XDG_RUNTIME_DIR or /dev/shm), so
/// they never touch a disk; the file is overwritten and removed when the
/// editor exits. Save and quit to apply: changed values are sealed again,
/// deleted lines remove their secret, unchanged values keep their sealed
/// line byte for byte. Quit without saving, or exit the editor with an
/// error, and nothing changes.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    kseal edit -d production\n  \
    EDITOR=nano kseal edit --shared")]
pub struct Args {
    #[command(flatten)]
    pub scope: ScopeArgs,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let scope = args.scope.scope()?;
    let root = root()?;
    let identities = identities(global)?;
    let before = std::fs::read(scope.path(&root)).ok();

    let current: Vec<(String, SecretValue)> =
        match OpenStore::open_if_exists(&root, &scope, &identities)? {
            Some(store) => store
                .values()
                .map(|(n, v)| (n.to_owned(), v.clone()))
                .collect(),
            None => Vec::new(),
        };
    let rel = scope.relative_path().display().to_string();
    let mut text = Zeroizing::new(format!(
        "# Secrets of {rel}, one NAME='value' line each, read as Kamal reads\n\
         # .kamal/secrets (no $VAR or $(...) here: values only). Delete a line to\n\
         # remove a secret. Save and quit to seal; quit without saving to cancel.\n"
    ));
    for (name, value) in &current {
        let line = std::str::from_utf8(value.expose())
            .ok()
            .and_then(|v| dotenv::quote_line(name, v))
            .ok_or_else(|| {
                anyhow::anyhow!("the value of {name:?} cannot be shown as a dotenv line")
            })
            .hint(format!(
                "it is binary or holds a carriage return; change it with `kseal set {name}`"
            ))?;
        text.push_str(&Zeroizing::new(line));
    }

    let scratch = Scratch::create()?;
    scratch.write(text.as_bytes())?;
    run_editor(&scratch.path)?;
    let edited = scratch.read()?;
    drop(scratch);

    if *edited == *text.as_bytes() {
        eprintln!("kseal: no changes");
        return Ok(Outcome::Clean);
    }
    let wanted = parse_edited(&edited)?;

    let own = || own_recipients(global);
    let changes = store::transact(&root, &scope, &identities, IfMissing::Create(&own), |s| {
        let now = std::fs::read(scope.path(&root)).ok();
        if now != before {
            return Err(anyhow::anyhow!(
                "{rel} changed while you were editing; nothing was written"
            ))
            .hint("run `kseal edit` again to start from the new version");
        }
        let mut changes = Vec::new();
        let gone: Vec<String> = s
            .names()
            .filter(|n| !wanted.iter().any(|(w, _)| w == n))
            .map(str::to_owned)
            .collect();
        for name in gone {
            s.remove(&name);
            changes.push(format!("{name} removed"));
        }
        for (name, value) in wanted {
            match s.set(&name, value)? {
                Change::Added => changes.push(format!("{name} added")),
                Change::Changed => changes.push(format!("{name} changed")),
                Change::Unchanged => {}
            }
        }
        Ok(changes)
    })?;
    if changes.is_empty() {
        eprintln!("kseal: no changes");
    }
    for change in changes {
        eprintln!("kseal: {change} in {rel}");
    }
    Ok(Outcome::Clean)
}

/// The edited file's entries; every value must be plain text.
fn parse_edited(bytes: &[u8]) -> anyhow::Result<Vec<(String, SecretValue)>> {
    const WHERE: &str = "the edited file";
    const HINT: &str = "nothing was changed; run `kseal edit` again";
    let text = std::str::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("{WHERE} is not UTF-8 text"))
        .hint(HINT)?;
    let entries = dotenv::parse(text)
        .map_err(|e| anyhow::anyhow!("{WHERE}: {e}"))
        .hint(HINT)?;
    let mut wanted: Vec<(String, SecretValue)> = Vec::new();
    for entry in entries {
        store::validate_name(&entry.key)
            .map_err(|e| anyhow::anyhow!("{WHERE}, line {}: {e}", entry.line))
            .hint(HINT)?;
        if entry
            .parts
            .iter()
            .any(|p| !matches!(p, Part::Literal { .. }))
        {
            return Err(anyhow::anyhow!(
                "{WHERE}, line {}: {} holds a $VAR or $(...) reference, not a value",
                entry.line,
                entry.key
            ))
            .hint("quote the value in single quotes to keep a `$` literal; nothing was changed");
        }
        let value = SecretValue::new(entry.literal().unwrap_or_default().into_bytes());
        wanted.retain(|(n, _)| *n != entry.key);
        wanted.push((entry.key, value));
    }
    Ok(wanted)
}

/// Runs the user's editor on `path` and waits for it.
fn run_editor(path: &Path) -> anyhow::Result<()> {
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|e| !e.trim().is_empty()))
        .unwrap_or_else(|| "vi".to_owned());
    // Through the shell, so an editor given with arguments (`code --wait`)
    // works; the path is passed as an argument, never spliced into the
    // command text.
    let status = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("kseal-edit")
        .arg(path)
        .status()
        .with_context(|| format!("cannot start the editor {editor:?}"))?;
    if !status.success() {
        return Err(anyhow::anyhow!(
            "the editor {editor:?} exited with {status}; nothing was changed"
        ))
        .hint("set VISUAL or EDITOR to the editor you use");
    }
    Ok(())
}

/// A private folder on a RAM-backed filesystem holding one 0600 file; the
/// file is overwritten with zeros and both are removed on drop.
struct Scratch {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl Scratch {
    fn create() -> anyhow::Result<Scratch> {
        let base = ram_folder()?;
        let dir = tempfile::Builder::new()
            .prefix("kseal-edit-")
            .tempdir_in(&base)
            .with_context(|| format!("cannot create a folder in {}", base.display()))?;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .context("cannot make the edit folder private")?;
        let path = dir.path().join("secrets.env");
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .context("cannot create the edit file")?;
        Ok(Scratch {
            dir: Some(dir),
            path,
        })
    }

    fn write(&self, bytes: &[u8]) -> anyhow::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&self.path)
            .context("cannot write the edit file")?;
        file.write_all(bytes).context("cannot write the edit file")
    }

    fn read(&self) -> anyhow::Result<Zeroizing<Vec<u8>>> {
        // Editors often save by writing a new file and renaming it over
        // the old one, so read by path, not through an open handle.
        Ok(Zeroizing::new(
            std::fs::read(&self.path).context("cannot read the edited file back")?,
        ))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Ok(meta) = std::fs::metadata(&self.path)
            && let Ok(mut file) = std::fs::OpenOptions::new().write(true).open(&self.path)
        {
            let zeros = vec![0u8; meta.len() as usize];
            let _ = file.write_all(&zeros).and_then(|()| file.sync_all());
        }
        if let Some(dir) = self.dir.take() {
            // Editors leave swap and backup files beside the file; the
            // whole folder goes.
            let _ = dir.close();
        }
    }
}

/// A folder on a RAM-backed filesystem (tmpfs or ramfs) that the user can
/// write: $XDG_RUNTIME_DIR, else /dev/shm, else /run/user/<uid>.
fn ram_folder() -> anyhow::Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        candidates.push(dir.into());
    }
    candidates.push("/dev/shm".into());
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    candidates.push(format!("/run/user/{uid}").into());
    for dir in candidates {
        if is_ram_backed(&dir) {
            log::debug!("edit folder: {}", dir.display());
            return Ok(dir);
        }
    }
    Err(anyhow::anyhow!(
        "no RAM-backed folder found to hold the values while you edit"
    ))
    .hint("kseal edit needs a tmpfs at $XDG_RUNTIME_DIR or /dev/shm; `kseal set` works without one")
}

fn is_ram_backed(dir: &Path) -> bool {
    const TMPFS_MAGIC: i64 = 0x0102_1994;
    const RAMFS_MAGIC: i64 = 0x8584_58f6;
    let Ok(c_path) = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    let mut stat: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: c_path is a valid NUL-terminated string and stat a valid,
    // writable statfs for the call to fill.
    let rc = unsafe { libc::statfs(c_path.as_ptr(), &mut stat) };
    if rc != 0 {
        return false;
    }
    let kind = stat.f_type as i64;
    let writable = std::fs::metadata(dir).is_ok_and(|m| m.is_dir());
    writable && (kind == TMPFS_MAGIC || kind == RAMFS_MAGIC)
}
