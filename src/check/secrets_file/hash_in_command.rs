//! KS103: an unquoted `#` inside `$(…)`.

use crate::check::{Context, Rule};
use crate::findings::{Finding, Level};
use crate::kamal::dotenv::{Quote, Span};

pub const RULE: Rule = Rule {
    code: "KS103",
    name: "hash-in-command",
    summary: "unquoted `#` inside `$(…)` in `.kamal/secrets*`: the line is cut there",
    level: Level::Error,
    fix: "quote the whole value in double quotes, or move the command into a script",
    doc: r#"
## What it does
Flags an unquoted value in a secrets file where a `#` appears inside an
unfinished `$(…)`.

## Why is this bad?
dotenv ends an unquoted value at the first `#`, even inside a command
substitution, so Kamal runs a truncated command (or none) and the secret
gets a wrong value.

## Example
```shell
API_KEY=$(op read "op://app/api#key")
```

## Use instead
```shell
API_KEY="$(op read 'op://app/api#key')"
```
"#,
    check,
};

// KS103
fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for file in &ctx.secrets_files {
        for entry in &file.entries {
            if entry.quote != Quote::None {
                continue;
            }
            let Some(value) = entry.value_span else {
                continue;
            };
            let rest = &file.text[value.start..];
            let line = rest.split('\n').next().unwrap_or("");
            let Some(hash) = line.find('#') else {
                continue;
            };
            let before = &line[..hash];
            let opened = before.matches("$(").count();
            let closed = before.matches(')').count();
            if opened == 0 || closed >= opened {
                continue;
            }
            let at = value.start + hash;
            out.push(ctx.at_text(
                &RULE,
                &file.path,
                &file.text,
                Span {
                    start: at,
                    end: at + 1,
                },
                format!("`#` inside `$(…)` cuts the value of {} short", entry.key),
                None,
            ));
        }
    }
}
