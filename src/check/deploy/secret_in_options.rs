//! KS205: a secret-looking value in options, labels, logging, proxy or ssh
//! settings.

use super::super::{Context, Rule};
use super::{map_entries, proxies, scalars, secret_literal};
use crate::findings::{Finding, Level};
use crate::kamal::yaml::{Node, Value};

pub const RULE: Rule = Rule {
    code: "KS205",
    name: "secret-in-options",
    summary: "secret-looking value in `options`, `labels`, `logging`, `proxy` or `ssh` settings",
    level: Level::Error,
    fix: "keep the value out of the deploy file: read it from a secret (env.secret) or from \
          the host's own configuration",
    doc: r#"
## What it does
Flags a scalar that looks like a secret (by its key's name or by its value)
anywhere under an `options` mapping (roles, accessories, builder, logging),
under `labels`, under a `proxy` (root, role or accessory) or under `ssh`.

## Why is this bad?
These settings become command-line flags of `docker run`, container labels
or SSH settings: they are in git, in `docker inspect`, and in the deploy
output. A token for a log driver or a proxy password placed there leaks to
everyone who can read any of those.

## Example
```yaml
logging:
  driver: awslogs
  options:
    awslogs-credentials: AKIAIOSFODNN7EXAMPLE0
```

## Use instead
Give the host the credentials (an instance role, a credentials file), or
read the value from a secret.
"#,
    check,
};

// KS205
fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for config in ctx.deploy_roots() {
        let mut roots: Vec<(&str, &Node)> = Vec::new();
        collect_named(config, &["options", "labels"], &mut roots);
        for proxy in proxies(config) {
            roots.push(("proxy", proxy));
        }
        if let Some(logging) = config.get("logging") {
            roots.push(("logging", logging));
        }
        for (_, item) in
            map_entries(config.get("servers")).chain(map_entries(config.get("accessories")))
        {
            roots.extend(item.get("logging").map(|l| ("logging", l)));
        }
        if let Some(ssh) = config.get("ssh") {
            for (key, value) in map_entries(Some(ssh)) {
                // Inline keys in `key_data` are KS206's.
                if key.as_str() != Some("key_data") {
                    roots.push((key.as_str().unwrap_or("ssh"), value));
                }
            }
        }

        for (key, root) in roots {
            scalars(root, key, &mut |name, node| {
                // `proxy.ssl` maps PEM settings to secret names (KS206
                // covers a literal PEM there).
                if name == "certificate_pem" || name == "private_key_pem" {
                    return;
                }
                if let Some(text) = secret_literal(ctx, name, node) {
                    out.push(ctx.at_node(
                        &RULE,
                        node,
                        format!("setting {name} holds a secret-looking value"),
                        Some(&text),
                    ));
                }
            });
        }
    }
}

/// Every mapping value anywhere under `node` whose key is one of `names`.
fn collect_named<'a>(node: &'a Node, names: &[&'static str], out: &mut Vec<(&'a str, &'a Node)>) {
    match &node.value {
        Value::Map(entries) => {
            for (k, v) in entries {
                match names.iter().find(|n| k.as_str() == Some(**n)) {
                    Some(name) => out.push((*name, v)),
                    None => collect_named(v, names, out),
                }
            }
        }
        Value::Seq(items) => {
            for item in items {
                collect_named(item, names, out);
            }
        }
        Value::Scalar { .. } => {}
    }
}
