//! KS402: a sensitive file that group or others can read.

use std::os::unix::fs::PermissionsExt;

use super::sensitive;
use crate::check::{Context, Rule};
use crate::findings::{Finding, Level};

pub const RULE: Rule = Rule {
    code: "KS402",
    name: "sensitive-file-permissions",
    summary: "sensitive file readable by group or others",
    level: Level::Error,
    fix: "restrict it to its owner: `chmod 600 PATH`",
    doc: r#"
## What it does
Flags a sensitive file in the app's working tree (the same kinds as KS401:
master and credentials keys, `.env` files with values, private keys,
identities) whose mode lets group or others read it.

## Why is this bad?
Other accounts on the machine — a shared CI runner, a build user, a
compromised service — can read the key without any privilege.

## Example
`-rw-r--r-- config/master.key`

## Use instead
`chmod 600 config/master.key`
"#,
    check,
};

// KS402
fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let root = &ctx.source.root;
    let mut candidates: Vec<String> = Vec::new();
    for dir in ["", "config", "config/credentials", ".kamal", ".ssh"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let rel = if dir.is_empty() {
                name
            } else {
                format!("{dir}/{name}")
            };
            candidates.push(rel);
        }
    }
    candidates.sort();
    for rel in candidates {
        let path = root.join(&rel);
        // Symlinks are judged by what they are, not followed.
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_file() || meta.permissions().mode() & 0o044 == 0 {
            continue;
        }
        let content = if crate::check::source::sniff_worthy(&rel) {
            ctx.source.sniff(&rel)
        } else {
            None
        };
        if let Some(what) = sensitive(&rel, content.as_deref()) {
            let mode = meta.permissions().mode() & 0o777;
            out.push(ctx.at_file(
                &RULE,
                &rel,
                0,
                format!("{what} is readable by group or others (mode {mode:03o})"),
            ));
        }
    }
}
