//! `kseal access`.

use std::io::Write;

use anyhow::Context;
use kseal::team::access;

use super::store_args::root;
use super::{Global, Outcome};

/// Who can read what: each recipient key against each sealed file, with
/// the number of secrets it can decrypt there.
///
/// Read from the files' recipient lines, so no identity is needed. A key
/// that reads a destination's file also reads the shared file only if it is
/// listed there too; each cell counts the secrets of that one file.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    kseal access\n  \
    kseal access --json > access-review.json")]
pub struct Args {
    /// Print {scopes, recipients} as JSON: each recipient's `secrets` has
    /// one entry per scope, a count or null when it is not a recipient.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, _global: &Global) -> anyhow::Result<Outcome> {
    let matrix = access::matrix(&root()?)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &matrix).context("cannot write to stdout")?;
        writeln!(out).context("cannot write to stdout")?;
        return Ok(Outcome::Clean);
    }
    if matrix.scopes.is_empty() {
        eprintln!("kseal: no sealed files yet");
        return Ok(Outcome::Clean);
    }

    let names: Vec<String> = matrix
        .recipients
        .iter()
        .map(|r| match r.labels.first() {
            Some(label) => label.clone(),
            None => short(&r.key),
        })
        .collect();
    let first = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .max(9);
    let widths: Vec<usize> = matrix
        .scopes
        .iter()
        .map(|s| s.scope.chars().count().max(3))
        .collect();
    let write = |out: &mut std::io::StdoutLock<'_>, line: String| {
        writeln!(out, "{}", line.trim_end()).context("cannot write to stdout")
    };

    let mut header = format!("{:first$}", "RECIPIENT");
    for (scope, width) in matrix.scopes.iter().zip(&widths) {
        header.push_str(&format!("  {:>width$}", scope.scope));
    }
    header.push_str("  TOTAL");
    write(&mut out, header)?;
    for (row, name) in matrix.recipients.iter().zip(&names) {
        let mut line = format!("{name:first$}");
        for (cell, width) in row.secrets.iter().zip(&widths) {
            let cell = cell.map_or("-".to_owned(), |n| n.to_string());
            line.push_str(&format!("  {cell:>width$}"));
        }
        line.push_str(&format!("  {:>5}", row.total));
        write(&mut out, line)?;
    }
    let mut line = format!("{:first$}", "(secrets)");
    for (scope, width) in matrix.scopes.iter().zip(&widths) {
        line.push_str(&format!("  {:>width$}", scope.secrets));
    }
    write(&mut out, line)?;
    Ok(Outcome::Clean)
}

fn short(key: &str) -> String {
    match key.split_once(' ') {
        Some((kind, blob)) if blob.len() > 24 => format!("{kind} …{}", &blob[blob.len() - 20..]),
        _ if key.len() > 24 => format!("{}…", &key[..20]),
        _ => key.to_owned(),
    }
}
