//! KS501: a sealed store with fewer recipients than the team requires.

use crate::check::{Context, Rule};
use crate::findings::{Finding, Level};

pub const RULE: Rule = Rule {
    code: "KS501",
    name: "too-few-recipients",
    summary: "sealed store with fewer recipients than `min_recipients` in .kseal.toml",
    level: Level::Error,
    fix: "add a teammate's or a recovery key: `kseal recipients add KEY -d DEST`",
    doc: r#"
## What it does
Flags a sealed store whose data key is wrapped to fewer recipients than
`min_recipients` in the `[check]` table of `.kseal.toml` (default 1, which
never fires).

## Why is this bad?
A store only one person can open is lost when that person's key is: a
laptop dies, someone leaves. A team sets a floor — two people, or one
person and a recovery key kept offline.

## Example
`min_recipients = 2` and `.kamal/kseal/secrets.production.sealed` sealed to
one key.

## Use instead
`kseal recipients add age1… -d production`

## Options
`min_recipients` in `[check]` of `.kseal.toml`.
"#,
    check,
};

// KS501
fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let min = ctx.settings.min_recipients;
    for store in &ctx.stores {
        let Ok(file) = &store.file else { continue };
        let n = file.recipients().len();
        if n < min {
            out.push(ctx.at_file(
                &RULE,
                &store.path,
                3,
                format!(
                    "the {} is sealed to {n} recipient{}, fewer than the {min} required",
                    store.scope,
                    if n == 1 { "" } else { "s" }
                ),
            ));
        }
    }
}
