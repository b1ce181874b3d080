//! KS503: a sealed store written by a newer kseal.

use crate::check::{Context, Rule};
use crate::findings::{Finding, Level};
use crate::store::FORMAT_VERSION;

pub const RULE: Rule = Rule {
    code: "KS503",
    name: "unknown-store-version",
    summary: "sealed store in a format version this kseal does not know",
    level: Level::Error,
    fix: "upgrade kseal on this machine (and in CI) to the version that wrote the store",
    doc: r#"
## What it does
Flags a sealed store whose first line names a format version other than
the one this kseal reads.

## Why is this bad?
This kseal cannot check the store, and `kseal run` here cannot open it: a
deploy from this machine or CI job would fail. Usually one teammate
upgraded kseal before the others.

## Example
`kseal-store 2` read by a kseal that knows version 1.

## Use instead
Upgrade kseal everywhere the repository is used.
"#,
    check,
};

// KS503
fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for store in &ctx.stores {
        if let Err(version) = &store.file {
            let mut f = ctx.at_file(
                &RULE,
                &store.path,
                1,
                format!(
                    "format version {version:?} is not {FORMAT_VERSION}, the one this kseal reads"
                ),
            );
            f.column = "kseal-store ".len() + 1;
            f.span_len = version.chars().count().max(1);
            f.snippet = Some(format!("kseal-store {version}"));
            out.push(f);
        }
    }
}
