//! KS204: a secret-looking value in `builder.args`.

use super::super::{Context, Rule};
use super::{map_entries, secret_literal};
use crate::findings::{Finding, Level};

pub const RULE: Rule = Rule {
    code: "KS204",
    name: "secret-in-builder-args",
    summary: "secret-looking value in `builder.args`",
    level: Level::Error,
    fix: "pass it as a build secret: list the name under `builder.secrets` and mount it with \
          `RUN --mount=type=secret,id=NAME`",
    doc: r#"
## What it does
Flags a build argument whose name says it is a secret or whose value looks
like one.

## Why is this bad?
Build arguments are written into the image's history: anyone who can pull
the image reads them with `docker history`, on top of their sitting in git.

## Example
```yaml
builder:
  args:
    GITHUB_TOKEN: ghp_0123456789abcdefghijklmnopqrstuvwxyz
```

## Use instead
```yaml
builder:
  secrets:
    - GITHUB_TOKEN
```
and in the Dockerfile `RUN --mount=type=secret,id=GITHUB_TOKEN …`.
"#,
    check,
};

// KS204
fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for config in ctx.deploy_roots() {
        let args = config.at(&["builder", "args"]);
        for (key, value) in map_entries(args) {
            let name = key.as_str().unwrap_or("");
            if let Some(text) = secret_literal(ctx, name, value) {
                out.push(ctx.at_node(
                    &RULE,
                    value,
                    format!("build argument {name} holds a secret-looking value"),
                    Some(&text),
                ));
            }
        }
    }
}
