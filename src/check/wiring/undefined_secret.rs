//! KS301: a secret the config references that a destination does not
//! define.

use std::collections::BTreeMap;

use super::references;
use crate::check::{Context, Rule};
use crate::findings::{Finding, Level};

pub const RULE: Rule = Rule {
    code: "KS301",
    name: "undefined-secret",
    summary: "secret referenced in the deploy config but not defined for some destination",
    level: Level::Error,
    fix: "define it for that destination: `NAME=$NAME` in its .kamal/secrets file and \
          `kseal set NAME -d DEST`",
    doc: r#"
## What it does
For every destination (each `config/deploy.<dest>.yml`, `.kamal/secrets.<dest>`
or sealed store, plus the default one), merges the deploy config as Kamal
does and checks that each secret it references — `env.secret` (with
`NAME:SECRET` aliases), registry credentials given as lists,
`builder.secrets`, accessory `env.secret`, `ssh.key_data`, `proxy.ssl` PEM
names — is defined in a secrets file Kamal reads for that destination
(`.kamal/secrets-common` plus `.kamal/secrets` or `.kamal/secrets.<dest>`)
or in the sealed store.

## Why is this bad?
Kamal fails the deploy when a secret is missing — for one destination only,
often the one deployed least, at the worst moment.

## Example
`env.secret: [STRIPE_KEY]` in `config/deploy.yml`, and `STRIPE_KEY` only in
`.kamal/secrets.production` while a staging destination exists too.

## Use instead
Define it for staging as well, or move it to `.kamal/secrets-common`.
"#,
    check,
};

// KS301
fn check(ctx: &Context, out: &mut Vec<Finding>) {
    // One finding per reference, naming every destination that lacks it.
    // (file, line, column, name) -> (destinations lacking it, node index)
    type Place = (usize, usize, usize, String);
    let mut missing: BTreeMap<Place, (Vec<String>, usize)> = BTreeMap::new();
    let mut nodes = Vec::new();
    for dest in &ctx.destinations {
        let defined = ctx.defined(dest);
        for (name, node) in references(&dest.config) {
            if defined.contains(&name) {
                continue;
            }
            let key = (node.file, node.pos.line, node.pos.column, name.clone());
            let slot = missing.entry(key).or_insert_with(|| {
                nodes.push(node.clone());
                (Vec::new(), nodes.len() - 1)
            });
            slot.0.push(dest.label());
        }
    }
    for ((_, _, _, name), (dests, index)) in missing {
        out.push(ctx.at_node(
            &RULE,
            &nodes[index],
            format!("secret {name} is not defined for {}", dests.join(", ")),
            None,
        ));
    }
}
