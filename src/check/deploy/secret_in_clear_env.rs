//! KS203: a secret-looking value in a clear env variable.

use super::super::{Context, Rule};
use super::{env_sections, secret_literal};
use crate::findings::{Finding, Level};

pub const RULE: Rule = Rule {
    code: "KS203",
    name: "secret-in-clear-env",
    summary: "secret-looking value in `env.clear` (root, role, tag or accessory)",
    level: Level::Error,
    fix: "move the name to `env.secret`, define it in .kamal/secrets, and seal the value with \
          `kseal set`",
    doc: r#"
## What it does
Flags a clear env variable (under `env.clear`, or directly under `env` when
there is no `clear`/`secret` split) in the root config, a role, a tag or an
accessory, when its name says it holds a secret (`…PASSWORD`, `…TOKEN`,
`…SECRET…`, `…_KEY`) and it has a real value, or when the value looks like
a secret whatever its name: a known token prefix, a URL with a password,
a long random string.

## Why is this bad?
Clear variables are written in the deploy file, in git, and are passed on
the `docker run` command line where `ps` and `docker inspect` show them.

## Example
```yaml
env:
  clear:
    DATABASE_URL: postgres://app:hunter2@db/app
```

## Use instead
```yaml
env:
  secret:
    - DATABASE_URL
```

## Known problems
Judging by name flags a non-secret value under a secret-sounding name
(`TOKEN_ISSUER: acme`); suppress it with `# kseal:ignore KS203 <reason>`.
"#,
    check,
};

// KS203
fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for config in ctx.deploy_roots() {
        for section in env_sections(config) {
            for (key, value) in section.clear {
                let name = key.as_str().unwrap_or("");
                if let Some(text) = secret_literal(ctx, name, value) {
                    out.push(ctx.at_node(
                        &RULE,
                        value,
                        format!("clear env variable {name} holds a secret-looking value"),
                        Some(&text),
                    ));
                }
            }
        }
    }
}
