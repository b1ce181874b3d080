//! KS201: a registry password written as a literal string.

use super::super::{Context, Rule};
use super::registries;
use crate::findings::{Finding, Level};
use crate::kamal::deploy::Scalar;

pub const RULE: Rule = Rule {
    code: "KS201",
    name: "literal-registry-password",
    summary: "registry password written as a literal string instead of a secret name",
    level: Level::Error,
    fix: "list the secret's name instead (`password: [KAMAL_REGISTRY_PASSWORD]`) and define it \
          in .kamal/secrets",
    doc: r#"
## What it does
Flags `registry.password`, at the root or in an accessory, when it is a
literal string (ERB string literals included) rather than a list naming a
secret.

## Why is this bad?
Kamal takes a string as the password itself, so the credential for pushing
and pulling every image of the app sits in `config/deploy.yml`, in git, for
everyone with read access. A one-element list is looked up in the secrets
instead.

## Example
```yaml
registry:
  username: deploy
  password: hunter2
```

## Use instead
```yaml
registry:
  username: deploy
  password:
    - KAMAL_REGISTRY_PASSWORD
```
with `KAMAL_REGISTRY_PASSWORD=$KAMAL_REGISTRY_PASSWORD` in `.kamal/secrets`
and the value sealed with `kseal set KAMAL_REGISTRY_PASSWORD`.

## Known problems
`<%= ENV["…"] %>` and `<%= %x(…) %>` are references and pass; any other
ERB expression is not evaluated and passes too.
"#,
    check,
};

// KS201
fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for config in ctx.deploy_roots() {
        for registry in registries(config) {
            let Some(node) = registry.get("password") else {
                continue;
            };
            if let Some(Scalar::Literal(text)) = ctx.file_of(node).scalar(node) {
                if text.is_empty() || node.is_null() {
                    continue;
                }
                out.push(ctx.at_node(
                    &RULE,
                    node,
                    "registry password is a literal string".to_owned(),
                    Some(&text),
                ));
            }
        }
    }
}
