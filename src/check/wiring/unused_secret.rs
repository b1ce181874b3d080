//! KS302: a secret defined but never referenced.

use std::collections::BTreeSet;

use super::references;
use crate::check::{Context, Rule};
use crate::findings::{Finding, Level};
use crate::kamal::dotenv::Part;

pub const RULE: Rule = Rule {
    code: "KS302",
    name: "unused-secret",
    summary: "secret defined in `.kamal/secrets*` or the sealed store but never referenced",
    level: Level::Warning,
    fix: "reference it from the deploy config (`env.secret`), or remove it with `kseal rm` and \
          delete its line",
    doc: r#"
## What it does
Flags a name defined in a secrets file or a sealed store that no
destination's deploy config references and no other line of a secrets file
reads (as `$NAME`, `${NAME}` or inside `$(…)`).

## Why is this bad?
A secret nobody uses still has to be guarded, rotated and handed over when
someone leaves. More often it is a typo: the config references
`DATABASE_PASSWORD` while the file defines `DB_PASSWORD`, and the deploy
fails.

## Example
`.kamal/secrets` defines `OLD_API_TOKEN`; nothing mentions it.

## Use instead
Remove it (`kseal rm OLD_API_TOKEN`), or reference it where it is needed.

## Known problems
Secrets read by Kamal hooks or by `kamal app exec` scripts are not seen;
suppress with `# kseal:ignore KS302 <reason>` on the secrets line.
"#,
    check,
};

// KS302
fn check(ctx: &Context, out: &mut Vec<Finding>) {
    if ctx.destinations.is_empty() {
        return;
    }
    let mut used: BTreeSet<String> = BTreeSet::new();
    for dest in &ctx.destinations {
        used.extend(references(&dest.config).into_iter().map(|(name, _)| name));
    }
    for file in &ctx.secrets_files {
        for entry in &file.entries {
            for part in &entry.parts {
                match part {
                    // `NAME=$NAME` passes a value through; it does not use
                    // NAME for anything else.
                    Part::Variable { name, .. } if *name != entry.key => {
                        used.insert(name.clone());
                    }
                    Part::Command { command, .. } => {
                        used.extend(words(command).into_iter().filter(|w| *w != entry.key));
                    }
                    Part::Variable { .. } => {}
                    Part::Literal { .. } => {}
                }
            }
        }
    }

    for file in &ctx.secrets_files {
        for entry in &file.entries {
            if used.contains(&entry.key) || entry.key.starts_with("DOTENV_") {
                continue;
            }
            out.push(ctx.at_text(
                &RULE,
                &file.path,
                &file.text,
                entry.key_span,
                format!("{} is defined but never referenced", entry.key),
                None,
            ));
        }
    }
    for store in &ctx.stores {
        let Ok(sealed) = &store.file else { continue };
        for entry in sealed.sealed_entries() {
            if used.contains(&entry.info.name) {
                continue;
            }
            let mut f = ctx.at_file(
                &RULE,
                &store.path,
                entry.line,
                format!("sealed secret {} is never referenced", entry.info.name),
            );
            f.column = "secret ".len() + 1;
            f.span_len = entry.info.name.chars().count();
            f.snippet = Some(format!("secret {} …", entry.info.name));
            out.push(f);
        }
    }
}

/// Variable names mentioned in a command (`$NAME`, `${NAME}`, or bare
/// words in capitals, as `kamal secrets extract NAME` takes them).
fn words(command: &str) -> Vec<String> {
    command
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}
