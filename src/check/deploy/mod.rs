//! Rules over `config/deploy*.yml`, and the walks they share: where Kamal
//! keeps env sections, registries, proxies and options in a configuration.

use crate::kamal::deploy::Scalar;
use crate::kamal::yaml::{Node, Value};

use super::{Context, secretish};

pub mod inline_private_key;
pub mod literal_registry_password;
pub mod literal_registry_username;
pub mod secret_in_builder_args;
pub mod secret_in_clear_env;
pub mod secret_in_options;

/// One `env` section: its clear variables and its `secret` list.
pub struct EnvSection<'a> {
    pub clear: Vec<(&'a Node, &'a Node)>,
    pub secret: Vec<&'a Node>,
}

/// Every env section of a configuration: the root one, each of its tags,
/// each role's and each accessory's.
pub fn env_sections(config: &Node) -> Vec<EnvSection<'_>> {
    let mut out = Vec::new();
    if let Some(env) = config.get("env") {
        out.push(section(env));
        if let Some(tags) = env.get("tags").and_then(Node::as_map) {
            out.extend(tags.iter().map(|(_, tag)| section(tag)));
        }
    }
    for (_, role) in map_entries(config.get("servers")) {
        if let Some(env) = role.get("env") {
            out.push(section(env));
        }
    }
    for (_, accessory) in map_entries(config.get("accessories")) {
        if let Some(env) = accessory.get("env") {
            out.push(section(env));
        }
    }
    out
}

fn section(env: &Node) -> EnvSection<'_> {
    let entries = env.as_map().unwrap_or(&[]);
    let structured = env.get("clear").is_some() || env.get("secret").is_some();
    let clear = if structured {
        env.get("clear")
            .and_then(Node::as_map)
            .unwrap_or(&[])
            .iter()
            .map(|(k, v)| (k, v))
            .collect()
    } else {
        entries
            .iter()
            .filter(|(k, _)| k.as_str() != Some("tags"))
            .map(|(k, v)| (k, v))
            .collect()
    };
    let secret = env
        .get("secret")
        .and_then(Node::as_seq)
        .map(|items| items.iter().collect())
        .unwrap_or_default();
    EnvSection { clear, secret }
}

/// The entries of an optional mapping.
pub fn map_entries(node: Option<&Node>) -> impl Iterator<Item = (&Node, &Node)> {
    node.and_then(Node::as_map)
        .unwrap_or(&[])
        .iter()
        .map(|(k, v)| (k, v))
}

/// The root registry and every accessory's.
pub fn registries(config: &Node) -> Vec<&Node> {
    let mut out: Vec<&Node> = config.get("registry").into_iter().collect();
    for (_, accessory) in map_entries(config.get("accessories")) {
        out.extend(accessory.get("registry"));
    }
    out
}

/// The root proxy, each role's and each accessory's.
pub fn proxies(config: &Node) -> Vec<&Node> {
    let mut out: Vec<&Node> = config.get("proxy").into_iter().collect();
    for group in ["servers", "accessories"] {
        for (_, item) in map_entries(config.get(group)) {
            out.extend(item.get("proxy"));
        }
    }
    out
}

/// Calls `visit` with every scalar under `node` and the nearest mapping
/// key above it.
pub fn scalars(node: &Node, key: &str, visit: &mut dyn FnMut(&str, &Node)) {
    match &node.value {
        Value::Scalar { .. } => visit(key, node),
        Value::Seq(items) => {
            for item in items {
                scalars(item, key, visit);
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                scalars(v, k.as_str().unwrap_or(key), visit);
            }
        }
    }
}

/// The literal text of a scalar when it looks like a secret under `name`;
/// references, ERB expressions and PEM blocks (KS206's) give `None`.
pub fn secret_literal(ctx: &Context, name: &str, node: &Node) -> Option<String> {
    let Scalar::Literal(text) = ctx.file_of(node).scalar(node)? else {
        return None;
    };
    if is_pem(&text) {
        return None;
    }
    secretish::is_secret(name, &text).then_some(text)
}

/// Whether text holds a PEM private key.
pub fn is_pem(text: &str) -> bool {
    text.contains("-----BEGIN") && text.contains("PRIVATE KEY")
}
