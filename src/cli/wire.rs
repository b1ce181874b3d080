//! The `.kamal/secrets*` file that wires a scope's sealed secrets into
//! Kamal, and the reference lines in it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use kseal::hint::ResultExt;
use kseal::kamal::secrets_files::SECRETS_DIR;
use kseal::kamal::wiring::{self, NameState};
use kseal::store::{Scope, atomic};

/// The secrets file Kamal reads for the secrets of `scope`, relative to the
/// app root: `.kamal/secrets-common`, `.kamal/secrets` or
/// `.kamal/secrets.<dest>`.
pub fn secrets_file(scope: &Scope) -> PathBuf {
    let name = match scope {
        Scope::Shared => "secrets-common".to_owned(),
        Scope::Default => "secrets".to_owned(),
        Scope::Destination(dest) => format!("secrets.{dest}"),
    };
    Path::new(SECRETS_DIR).join(name)
}

/// The `-d` flag that selects `scope` in kseal and Kamal commands.
pub fn destination_flag(scope: &Scope) -> String {
    match scope {
        Scope::Shared => " --shared".to_owned(),
        Scope::Default => String::new(),
        Scope::Destination(dest) => format!(" -d {dest}"),
    }
}

/// Adds reference lines for `names` to the secrets file of `scope`,
/// creating it (with a comment saying what it is for) if needed, and
/// reports each name on stderr. Returns whether the file changed.
pub fn add_references(root: &Path, scope: &Scope, names: &[&str]) -> anyhow::Result<bool> {
    let rel = secrets_file(scope);
    let display = rel.display().to_string();
    let path = root.join(&rel);
    let existing = match std::fs::read(&path) {
        Ok(bytes) => Some(
            String::from_utf8(bytes)
                .map_err(|_| anyhow::anyhow!("{display}: not UTF-8 text"))
                .hint("Kamal reads this file as text; fix or remove it")?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {display}")),
    };
    let text = existing.clone().unwrap_or_else(|| header(scope));
    let wired = wiring::add_references(&text, names)
        .map_err(|e| anyhow::anyhow!("{display}: {e}"))
        .hint("Kamal would refuse this file too; fix that line first")?;

    for (name, state) in &wired.names {
        match state {
            NameState::Added => {
                eprintln!("kseal: {display}: added {}", wiring::reference_line(name))
            }
            NameState::Wired => log::debug!("{display}: {name} already wired"),
            NameState::Defined {
                line,
                literal: true,
            } => log::warn!(
                "{display}:{line}: {name} has a plaintext value there, which Kamal uses \
                 instead of the sealed one; seal it with `kseal import {display}{}` and \
                 replace the line with {}",
                destination_flag(scope),
                wiring::reference_line(name)
            ),
            NameState::Defined {
                line,
                literal: false,
            } => log::warn!(
                "{display}:{line}: {name} is read from elsewhere there, not from kseal; \
                 replace the line with {} to use the sealed value",
                wiring::reference_line(name)
            ),
        }
    }
    if existing.is_some() && !wired.changed() {
        return Ok(false);
    }
    std::fs::create_dir_all(root.join(SECRETS_DIR))
        .with_context(|| format!("cannot create {SECRETS_DIR}"))?;
    atomic::write(&path, wired.text.as_bytes())?;
    if existing.is_none() {
        eprintln!("kseal: created {display}");
    }
    Ok(true)
}

fn header(scope: &Scope) -> String {
    let flag = destination_flag(scope);
    let run = match scope {
        Scope::Shared => "kseal run -d DEST -- kamal deploy -d DEST".to_owned(),
        _ => format!("kseal run{flag} -- kamal deploy{flag}"),
    };
    format!(
        "# Kamal reads these secrets from the environment that kseal provides:\n\
         #   {run}\n\
         # The values are sealed in .kamal/kseal/. Keep only references here.\n"
    )
}

/// Whether Kamal reads `name` from the environment in the secrets file of
/// `scope`. An unreadable or unparsable file counts as not wired.
pub fn is_wired(root: &Path, scope: &Scope, name: &str) -> bool {
    let Ok(text) = std::fs::read_to_string(root.join(secrets_file(scope))) else {
        return false;
    };
    wiring::add_references(&text, &[name])
        .is_ok_and(|w| w.names.first().is_some_and(|(_, s)| *s == NameState::Wired))
}
