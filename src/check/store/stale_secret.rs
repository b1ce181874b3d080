//! KS502: a sealed secret not changed for longer than the team allows.

use crate::check::{Context, Rule};
use crate::findings::{Finding, Level};
use crate::store::format::{format_time, now_unix};

pub const RULE: Rule = Rule {
    code: "KS502",
    name: "stale-secret",
    summary: "sealed secret unchanged for longer than `max_secret_age` in .kseal.toml",
    level: Level::Warning,
    fix: "rotate it upstream, then `kseal set NAME -d DEST` with the new value",
    doc: r#"
## What it does
Flags a sealed secret whose last change is older than `max_secret_age` in
the `[check]` table of `.kseal.toml` (off when unset). The time comes from
the store's plaintext metadata; no key is needed.

## Why is this bad?
The longer a credential lives, the more copies of it exist — in old
laptops, departed teammates' memories, logs — and the longer a leak stays
useful. A rotation policy is only real if something checks it.

## Example
`max_secret_age = "180d"` and a password last set two years ago.

## Use instead
Rotate it with the provider and `kseal set NAME` the new value.

## Options
`max_secret_age` in `[check]` of `.kseal.toml`, as a duration (`"90d"`).
"#,
    check,
};

/// `365d` for whole days, humantime's form otherwise.
fn days_or_exact(age: std::time::Duration) -> String {
    const DAY_SECS: u64 = 86_400;
    if age.as_secs().is_multiple_of(DAY_SECS) && age.subsec_nanos() == 0 {
        format!("{}d", age.as_secs() / DAY_SECS)
    } else {
        humantime::format_duration(age).to_string()
    }
}

// KS502
fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let Some(max) = ctx.settings.max_secret_age else {
        return;
    };
    let oldest = now_unix().saturating_sub(max.as_secs() as i64);
    for store in &ctx.stores {
        let Ok(file) = &store.file else { continue };
        for entry in file.sealed_entries() {
            if entry.info.changed >= oldest {
                continue;
            }
            // The message stays the same from one day to the next, so that
            // a baseline entry keeps matching it.
            let mut f = ctx.at_file(
                &RULE,
                &store.path,
                entry.line,
                format!(
                    "{} was last changed {}, longer ago than max_secret_age ({})",
                    entry.info.name,
                    format_time(entry.info.changed),
                    days_or_exact(max)
                ),
            );
            f.column = "secret ".len() + 1;
            f.span_len = entry.info.name.chars().count();
            f.snippet = Some(format!("secret {} …", entry.info.name));
            out.push(f);
        }
    }
}
