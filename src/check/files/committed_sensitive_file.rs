//! KS401: a file that must never be committed is tracked by git.

use super::sensitive;
use crate::check::{Context, Rule};
use crate::findings::{Finding, Level};

pub const RULE: Rule = Rule {
    code: "KS401",
    name: "committed-sensitive-file",
    summary: "file that must never be committed is tracked (master key, credentials key, `.env` with values, private key, identity)",
    level: Level::Error,
    fix: "untrack it with `git rm --cached PATH`, add it to .gitignore, and rotate what it held",
    doc: r#"
## What it does
Flags tracked (or, with `--staged`, staged) files that hold keys or values
in the clear: `config/master.key`, `config/credentials/*.key`, `.env` files
that assign values (not `.env.example` and the like), SSH private keys
(`id_rsa`, `id_ed25519`, …), `.pem`/`.key` files holding a private key,
PKCS#12 stores, and age identities.

## Why is this bad?
Everything in git is copied to every clone and kept in history forever.
The Rails master key decrypts all of `config/credentials.yml.enc`.

## Example
`git add config/master.key`

## Use instead
Keep the file out of git (`.gitignore`) and seal its value:
`kseal set RAILS_MASTER_KEY < config/master.key`.

## Known problems
Removing the file from the index does not remove it from history; treat
what it held as leaked and rotate it (`kseal scan --git` finds old copies).
"#,
    check,
};

// KS401
fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let Some(tracked) = &ctx.source.tracked else {
        return;
    };
    for rel in tracked {
        let content = if crate::check::source::sniff_worthy(rel) {
            ctx.source.sniff(rel)
        } else {
            None
        };
        if let Some(what) = sensitive(rel, content.as_deref()) {
            out.push(ctx.at_file(&RULE, rel, 0, format!("{what} is committed to git")));
        }
    }
}
