//! `kseal list`.

use std::io::Write;

use anyhow::Context;
use kseal::store::format::format_time;
use kseal::store::{EntryInfo, Scope, SealedFile};
use serde::Serialize;

use super::store_args::{ScopeArgs, root};
use super::{Global, Outcome};

/// List secret names with when each was created and last changed; never
/// values.
///
/// Without --shared the list holds the destination's secrets and the shared
/// ones, as Kamal would see them for that destination; a shared secret that
/// the destination overrides is marked. No identity is needed: names and
/// times are stored in the clear. They are checked against the file's MAC
/// only when a value is opened (`get`, `export`, `run`).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub scope: ScopeArgs,

    /// Print a JSON array of {name, scope, file, created, changed,
    /// overridden} objects (times as RFC 3339 UTC) instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct Row {
    name: String,
    scope: String,
    file: String,
    created: String,
    changed: String,
    /// A shared secret that the destination's file replaces.
    overridden: bool,
}

pub fn run(args: Args, _global: &Global) -> anyhow::Result<Outcome> {
    let scope = args.scope.scope()?;
    let root = root()?;

    let mut scopes = vec![scope.clone()];
    if scope != Scope::Shared {
        scopes.insert(0, Scope::Shared);
    }
    let mut files: Vec<(Scope, Vec<EntryInfo>)> = Vec::new();
    for scope in scopes {
        if let Some(file) = SealedFile::load(&root, &scope)? {
            let entries = file.entries().cloned().collect();
            files.push((scope, entries));
        }
    }

    let own_names: Vec<String> = files
        .iter()
        .filter(|(s, _)| s != &Scope::Shared || scope == Scope::Shared)
        .flat_map(|(_, entries)| entries.iter().map(|e| e.name.clone()))
        .collect();
    let mut rows = Vec::new();
    for (file_scope, entries) in &files {
        for entry in entries {
            let overridden = file_scope == &Scope::Shared
                && scope != Scope::Shared
                && own_names.contains(&entry.name);
            rows.push(Row {
                name: entry.name.clone(),
                scope: match file_scope {
                    Scope::Shared => "shared".to_owned(),
                    Scope::Default => "default".to_owned(),
                    Scope::Destination(name) => name.clone(),
                },
                file: file_scope.relative_path().display().to_string(),
                created: format_time(entry.created),
                changed: format_time(entry.changed),
                overridden,
            });
        }
    }
    rows.sort_by(|a, b| a.name.cmp(&b.name).then(a.overridden.cmp(&b.overridden)));

    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &rows).context("cannot write to stdout")?;
        writeln!(out).context("cannot write to stdout")?;
        return Ok(Outcome::Clean);
    }
    if rows.is_empty() {
        eprintln!("kseal: no secrets for the {scope}");
        return Ok(Outcome::Clean);
    }
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
    let scope_width = rows.iter().map(|r| r.scope.len()).max().unwrap_or(5).max(5);
    writeln!(
        out,
        "{:width$}  {:scope_width$}  {:20}  CHANGED",
        "NAME", "SCOPE", "CREATED"
    )
    .context("cannot write to stdout")?;
    for row in &rows {
        let note = if row.overridden { "  (overridden)" } else { "" };
        writeln!(
            out,
            "{:width$}  {:scope_width$}  {:20}  {:20}{note}",
            row.name, row.scope, row.created, row.changed
        )
        .context("cannot write to stdout")?;
    }
    Ok(Outcome::Clean)
}
