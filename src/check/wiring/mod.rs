//! Rules that compare what the deploy config references with what the
//! secrets files and sealed stores define, destination by destination.

use crate::kamal::yaml::Node;

use super::deploy::{env_sections, is_pem, map_entries, proxies, registries};

pub mod undefined_secret;
pub mod unused_secret;

/// Every secret name a configuration references, with the node naming it:
/// `env.secret` lists everywhere (an `ENV:SECRET` alias references
/// `SECRET`), registry credentials given as lists, `builder.secrets`,
/// `ssh.key_data` names, and `proxy.ssl` PEM names.
pub fn references(config: &Node) -> Vec<(String, &Node)> {
    let mut out = Vec::new();

    for section in env_sections(config) {
        section.secret.into_iter().for_each(|n| push(&mut out, n));
    }
    for registry in registries(config) {
        for key in ["username", "password"] {
            if let Some(items) = registry.get(key).and_then(Node::as_seq) {
                items.iter().for_each(|n| push(&mut out, n));
            }
        }
    }
    if let Some(items) = config.at(&["builder", "secrets"]).and_then(Node::as_seq) {
        items.iter().for_each(|n| push(&mut out, n));
    }
    if let Some(items) = config.at(&["ssh", "key_data"]).and_then(Node::as_seq) {
        items.iter().for_each(|n| push(&mut out, n));
    }
    for proxy in proxies(config) {
        for (key, value) in map_entries(proxy.get("ssl")) {
            if matches!(key.as_str(), Some("certificate_pem" | "private_key_pem")) {
                push(&mut out, value);
            }
        }
    }
    out
}

fn push<'a>(out: &mut Vec<(String, &'a Node)>, node: &'a Node) {
    if let Some(text) = node.as_str() {
        let name = match text.split_once(':') {
            Some((_, secret)) => secret,
            None => text,
        };
        if !name.is_empty() && !is_pem(name) {
            out.push((name.to_owned(), node));
        }
    }
}
