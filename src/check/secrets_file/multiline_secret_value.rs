//! KS105: a multi-line secret value headed for a Kamal env file.

use crate::check::{Context, Rule};
use crate::findings::{Finding, Level};
use crate::kamal::dotenv::Part;
use crate::kamal::envfile;

pub const RULE: Rule = Rule {
    code: "KS105",
    name: "multiline-secret-value",
    summary: "multi-line secret value: it reaches the container with literal `\\n` instead of line breaks",
    level: Level::Warning,
    fix: "base64-encode the value and decode it in the app, or mount it as a file \
          (accessory `files:`)",
    doc: r#"
## What it does
Flags a secret whose value has line breaks: a double-quoted literal with
`\n` or real newlines, or a `$(cat …)` of a PEM or key file.

## Why is this bad?
Kamal writes secrets into an env file on each host, escaping a line break
as the two characters `\n`, and Docker does not unescape env files. A PEM
key arrives in the container as one long line with literal `\n`s and fails
to parse.

## Example
```shell
TLS_KEY=$(cat config/tls/key.pem)
```

## Use instead
```shell
TLS_KEY_BASE64=$TLS_KEY_BASE64
```
with `kseal set TLS_KEY_BASE64 < <(base64 -w0 key.pem)`, decoded by the app.
"#,
    check,
};

// KS105
fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for file in &ctx.secrets_files {
        for entry in &file.entries {
            let literal_multiline = entry.parts.iter().find_map(|p| match p {
                Part::Literal { text, span }
                    if envfile::is_altered(text) && text.contains('\n') =>
                {
                    Some(*span)
                }
                _ => None,
            });
            let reads_key_file = entry.commands().find(|(command, _)| {
                let mut words = command.split_whitespace();
                words.next() == Some("cat")
                    && words
                        .any(|w| w.ends_with(".pem") || w.ends_with(".key") || w.contains("id_"))
            });
            let span = match (literal_multiline, reads_key_file) {
                (Some(span), _) => span,
                (None, Some((_, span))) => span,
                (None, None) => continue,
            };
            out.push(ctx.at_text(
                &RULE,
                &file.path,
                &file.text,
                span,
                format!(
                    "{} has line breaks that Kamal's env file turns into `\\n`",
                    entry.key
                ),
                None,
            ));
        }
    }
}
