//! KS206: a private key written inline in a deploy file.

use super::super::{Context, Rule};
use super::{is_pem, scalars};
use crate::findings::{Finding, Level};
use crate::kamal::deploy::Scalar;

pub const RULE: Rule = Rule {
    code: "KS206",
    name: "inline-private-key",
    summary: "private key (PEM) written inline in a deploy file, e.g. in `ssh.key_data`",
    level: Level::Error,
    fix: "list a secret name in `ssh.key_data` (or `proxy.ssl.private_key_pem`) and seal the \
          key with `kseal set NAME < key.pem`",
    doc: r#"
## What it does
Flags any scalar of a deploy file that holds a PEM private key: an inline
key in `ssh.key_data` (deprecated by Kamal), a literal
`proxy.ssl.private_key_pem`, or a key pasted anywhere else.

## Why is this bad?
Whoever reads the repository can log in to every server (an SSH key) or
impersonate the site (a TLS key).

## Example
```yaml
ssh:
  key_data:
    - "-----BEGIN OPENSSH PRIVATE KEY----- ..."
```

## Use instead
```yaml
ssh:
  key_data:
    - SSH_PRIVATE_KEY
```
"#,
    check,
};

// KS206
fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for file in &ctx.deploy_files {
        let Some(root) = &file.root else { continue };
        scalars(root, "", &mut |name, node| {
            if let Some(Scalar::Literal(text)) = file.scalar(node)
                && is_pem(&text)
            {
                let what = if name.is_empty() {
                    "a private key".to_owned()
                } else {
                    format!("{name} holds a private key")
                };
                out.push(ctx.at_node(&RULE, node, what, Some(&text)));
            }
        });
    }
}
