//! KS101: a plaintext secret in a `.kamal/secrets*` file.

use crate::check::{Context, Rule, secretish};
use crate::findings::{Finding, Level};
use crate::kamal::dotenv::{Part, Span};

pub const RULE: Rule = Rule {
    code: "KS101",
    name: "plaintext-secret-in-secrets-file",
    summary: "literal secret value in `.kamal/secrets*` instead of `$VAR`, `${VAR}` or `$(…)`",
    level: Level::Error,
    fix: "seal the value with `kseal set NAME` and write `NAME=$NAME` in its place; deploy \
          with `kseal run -- kamal deploy`",
    doc: r#"
## What it does
Flags a line of `.kamal/secrets`, `.kamal/secrets-common` or
`.kamal/secrets.<dest>` whose value is written out literally, when the
name says it is a secret or the value looks like one (a known token
prefix, a URL with a password, a long random string). References —
`$VAR`, `${VAR}`, `$(command)` — are what these files are for and pass.

## Why is this bad?
Kamal's secrets files are meant to be committed: they hold references,
and the values come from the environment or a password manager at deploy
time. A literal value there is a plaintext secret in git.

## Example
```shell
DATABASE_PASSWORD=hunter2
```

## Use instead
```shell
DATABASE_PASSWORD=$DATABASE_PASSWORD
```
with the value sealed by `kseal set DATABASE_PASSWORD` and handed to Kamal
by `kseal run -- kamal deploy`.

## Known problems
A literal under a secret-sounding name that is not a secret (`TOKEN_ISSUER=acme`)
is flagged; suppress it with `# kseal:ignore KS101 <reason>`.
"#,
    check,
};

// KS101
fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for file in &ctx.secrets_files {
        for entry in &file.entries {
            if !entry.has_literal() {
                continue;
            }
            let (text, span) = match entry.literal() {
                Some(text) => (text, entry.inner_span),
                // Mixed parts: judge the literal pieces by their look only.
                None => {
                    let Some((text, span)) = entry.parts.iter().find_map(|p| match p {
                        Part::Literal { text, span } if secretish::value_is_secret(text) => {
                            Some((text.clone(), *span))
                        }
                        _ => None,
                    }) else {
                        continue;
                    };
                    (text, Some(span))
                }
            };
            if !secretish::is_secret(&entry.key, &text) {
                continue;
            }
            let span = span.unwrap_or(Span {
                start: entry.key_span.start,
                end: entry.key_span.end,
            });
            out.push(ctx.at_text(
                &RULE,
                &file.path,
                &file.text,
                span,
                format!("{} is written in plaintext", entry.key),
                Some(&text),
            ));
        }
    }
}
