//! KS104: `$(…)` output is variable-expanded by Kamal.

use crate::check::{Context, Rule};
use crate::findings::{Finding, Level};

pub const RULE: Rule = Rule {
    code: "KS104",
    name: "dollar-in-command-output",
    summary: "`$(…)` output is variable-expanded: a `$` in the secret is silently lost",
    level: Level::Warning,
    fix: "feed the value through the environment instead: `NAME=$NAME` in the secrets file and \
          `kseal run -- kamal deploy`",
    doc: r#"
## What it does
Flags every command substitution that gives a secret its value.

## Why is this bad?
Kamal substitutes commands first and expands variables afterwards, over
the command's output too. A password such as `pa$word1` comes out as
`pa1`: `$word1` is read as a variable, which is unset, so it becomes
empty. Nothing warns; the deploy uses the wrong value. Generated passwords
contain `$` often enough for this to happen.

## Example
```shell
DB_PASSWORD=$(op read op://app/db/password)
```

## Use instead
```shell
DB_PASSWORD=$DB_PASSWORD
```
and `kseal run -- kamal deploy`: a variable's value is taken as it is.

## Known problems
The rule cannot know whether a given output holds a `$`; it flags the
wiring that makes the loss possible. Commands whose output is known to be
safe (a hex key) can be suppressed with `# kseal:ignore KS104 <reason>`.
"#,
    check,
};

// KS104
fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for file in &ctx.secrets_files {
        for entry in &file.entries {
            if let Some((_, span)) = entry.commands().next() {
                out.push(ctx.at_text(
                    &RULE,
                    &file.path,
                    &file.text,
                    span,
                    format!(
                        "{} comes from `$(…)`, whose output loses every `$word`",
                        entry.key
                    ),
                    None,
                ));
            }
        }
    }
}
