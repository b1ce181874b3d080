//! KS202: a registry username written as a literal string.

use super::super::{Context, Rule};
use super::registries;
use crate::findings::{Finding, Level};
use crate::kamal::deploy::Scalar;

pub const RULE: Rule = Rule {
    code: "KS202",
    name: "literal-registry-username",
    summary: "registry username written as a literal string instead of a secret name",
    level: Level::Warning,
    fix: "list the secret's name instead (`username: [KAMAL_REGISTRY_USERNAME]`) and define it \
          in .kamal/secrets",
    doc: r#"
## What it does
Flags `registry.username`, at the root or in an accessory, when it is a
literal string rather than a list naming a secret.

## Why is this bad?
The username is half of the registry credential: with it in git, a leaked
or guessed password is enough, and the account to attack is named for
everyone who can read the repository.

## Example
```yaml
registry:
  username: acme-deploy
```

## Use instead
```yaml
registry:
  username:
    - KAMAL_REGISTRY_USERNAME
```

## Known problems
The fixed usernames that registries document (`AWS` for ECR,
`_json_key_base64` and `_json_key` for Google) name no account and pass.
Turn the rule off in `.kseal.toml` (`ignore = ["KS202"]`) if the team
accepts usernames in git.
"#,
    check,
};

/// Usernames registries prescribe; they identify no account.
const FIXED: &[&str] = &["AWS", "_json_key", "_json_key_base64", "oauth2accesstoken"];

// KS202
fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for config in ctx.deploy_roots() {
        for registry in registries(config) {
            let Some(node) = registry.get("username") else {
                continue;
            };
            if let Some(Scalar::Literal(text)) = ctx.file_of(node).scalar(node) {
                if text.is_empty() || node.is_null() || FIXED.contains(&text.as_str()) {
                    continue;
                }
                out.push(ctx.at_node(
                    &RULE,
                    node,
                    "registry username is a literal string".to_owned(),
                    None,
                ));
            }
        }
    }
}
