//! Rails encrypted credentials.
//!
//! `bin/rails credentials:edit` keeps a YAML document encrypted in
//! `config/credentials.yml.enc` (or `config/credentials/<env>.yml.enc`)
//! under the key in `config/master.key` (or `config/credentials/<env>.key`),
//! which `RAILS_MASTER_KEY` overrides. The key file holds 32 hex digits: a
//! 16-byte AES-128-GCM key. The file is
//! `base64(ciphertext)--base64(iv)--base64(tag)` (strict base64, a 12-byte
//! IV, a 16-byte tag, no associated data), and the plaintext is a Ruby
//! Marshal dump of the YAML text, read back with [`super::marshal`].
//!
//! [`flatten`] turns the YAML into secret names the way Rails maps
//! credentials to environment variables: nested keys are joined with `__`
//! and upper-cased, so `aws: { access_key_id: … }` becomes
//! `AWS__ACCESS_KEY_ID`.

use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Nonce};
use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use yaml_rust2::Yaml;
use zeroize::{Zeroize, Zeroizing};

use crate::hint::ResultExt;
use crate::secret::SecretValue;
use crate::store;

/// The environment variable Rails reads the master key from first.
pub const MASTER_KEY_ENV: &str = "RAILS_MASTER_KEY";
/// Length of the AES-128 key.
pub const KEY_LEN_BYTES: usize = 16;
/// Length of the GCM IV Rails writes.
pub const IV_LEN_BYTES: usize = 12;
/// Length of the GCM tag.
pub const TAG_LEN_BYTES: usize = 16;

/// A Rails master key; wiped when dropped, never printed.
pub struct MasterKey {
    key: Zeroizing<[u8; KEY_LEN_BYTES]>,
    /// Where it came from, for messages: `RAILS_MASTER_KEY` or a path.
    pub origin: String,
}

impl MasterKey {
    /// Parses the text of a key file or of `RAILS_MASTER_KEY`: 32 hex
    /// digits, surrounding whitespace ignored. The text is never repeated
    /// in an error.
    pub fn parse(text: &str, origin: &str) -> anyhow::Result<MasterKey> {
        let hex = text.trim();
        let hint = "a Rails master key is 32 hex digits, as `bin/rails credentials:edit` \
                    writes to config/master.key";
        if hex.len() != 2 * KEY_LEN_BYTES {
            return Err(anyhow::anyhow!(
                "{origin}: the master key has {} characters, expected {}",
                hex.chars().count(),
                2 * KEY_LEN_BYTES
            ))
            .hint(hint);
        }
        let mut key = Zeroizing::new([0u8; KEY_LEN_BYTES]);
        for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
            let digit = |b: u8| (b as char).to_digit(16);
            match (digit(pair[0]), digit(pair[1])) {
                (Some(hi), Some(lo)) => key[i] = (hi * 16 + lo) as u8,
                _ => {
                    return Err(anyhow::anyhow!(
                        "{origin}: the master key is not hexadecimal"
                    ))
                    .hint(hint);
                }
            }
        }
        Ok(MasterKey {
            key,
            origin: origin.to_owned(),
        })
    }

    /// The key for `credentials` as Rails finds it: `RAILS_MASTER_KEY` if
    /// set, else the matching key file ([`key_file_for`]).
    pub fn find(credentials: &Path) -> anyhow::Result<MasterKey> {
        if let Some(text) = std::env::var_os(MASTER_KEY_ENV) {
            let text = Zeroizing::new(text.to_string_lossy().into_owned());
            if !text.trim().is_empty() {
                return MasterKey::parse(&text, MASTER_KEY_ENV);
            }
        }
        let path = key_file_for(credentials);
        MasterKey::read(&path)
    }

    /// Reads a key file.
    pub fn read(path: &Path) -> anyhow::Result<MasterKey> {
        let display = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => Zeroizing::new(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(anyhow::anyhow!("no master key: {display} does not exist")).hint(
                    format!(
                        "set {MASTER_KEY_ENV} in the environment, or pass the key file \
                         with --rails-key FILE"
                    ),
                );
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {display}")),
        };
        MasterKey::parse(&text, &display)
    }
}

/// The key file Rails pairs with a credentials file:
/// `config/credentials.yml.enc` → `config/master.key`,
/// `config/credentials/<env>.yml.enc` → `config/credentials/<env>.key`.
pub fn key_file_for(credentials: &Path) -> PathBuf {
    let dir = credentials.parent().unwrap_or(Path::new(""));
    let name = credentials
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    match name.strip_suffix(".yml.enc") {
        Some("credentials") | None => dir.join("master.key"),
        Some(env) => dir.join(format!("{env}.key")),
    }
}

/// Whether `path` names a Rails encrypted credentials file.
pub fn is_credentials_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".yml.enc"))
}

/// Decrypts a credentials file's bytes with `key`: the YAML text. `display`
/// names the file in errors.
pub fn decrypt(file: &[u8], key: &MasterKey, display: &str) -> anyhow::Result<Zeroizing<String>> {
    let not_rails = || {
        Err(anyhow::anyhow!(
            "{display}: not a Rails encrypted file (expected base64 DATA--IV--TAG)"
        ))
        .hint("give config/credentials.yml.enc or config/credentials/<env>.yml.enc")
    };
    let Ok(text) = std::str::from_utf8(file) else {
        return not_rails();
    };
    let parts: Vec<&str> = text.trim().split("--").collect();
    let [data, iv, tag] = parts.as_slice() else {
        return not_rails();
    };
    let (Ok(data), Ok(iv), Ok(tag)) = (BASE64.decode(data), BASE64.decode(iv), BASE64.decode(tag))
    else {
        return not_rails();
    };
    if iv.len() != IV_LEN_BYTES || tag.len() != TAG_LEN_BYTES {
        return Err(anyhow::anyhow!(
            "{display}: IV of {} bytes and tag of {} bytes; Rails writes {IV_LEN_BYTES} and \
             {TAG_LEN_BYTES}",
            iv.len(),
            tag.len()
        ))
        .hint("the file is damaged, or was not written by Rails' credentials");
    }

    let cipher = Aes128Gcm::new_from_slice(key.key.as_ref()).expect("the key is 16 bytes");
    let mut sealed = data;
    sealed.extend_from_slice(&tag);
    let plain = cipher
        .decrypt(
            Nonce::from_slice(&iv),
            Payload {
                msg: &sealed,
                aad: b"",
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| {
            anyhow::anyhow!(
                "{display}: cannot decrypt with the key from {}: wrong key, or the file \
                 was changed",
                key.origin
            )
        })
        .hint(format!(
            "use the key this file was written with: {} or {MASTER_KEY_ENV}",
            key_file_for(Path::new(display)).display()
        ))?;

    let yaml = super::marshal::read_string(&plain)
        .map_err(|e| anyhow::anyhow!("{display}: the decrypted data is not a dumped string: {e}"))
        .hint("the file decrypts but does not hold credentials as Rails writes them")?;
    let yaml = std::str::from_utf8(yaml)
        .map_err(|_| anyhow::anyhow!("{display}: the decrypted YAML is not UTF-8"))
        .hint("re-save the credentials with `bin/rails credentials:edit`")?;
    Ok(Zeroizing::new(yaml.to_owned()))
}

/// One leaf of the credentials.
pub enum Flat {
    /// A value, under its kseal name.
    Value { name: String, value: SecretValue },
    /// A leaf kseal cannot store, with why. `path` is the YAML key path
    /// (`aws.keys`), never a value.
    Skipped { path: String, reason: &'static str },
}

/// The secrets of a credentials YAML document, in document order. Nested
/// keys become `PARENT__CHILD`, upper-cased. Lists, nulls and names kseal
/// does not accept are skipped and reported.
pub fn flatten(yaml: &str, display: &str) -> anyhow::Result<Vec<Flat>> {
    let mut docs = yaml_rust2::YamlLoader::load_from_str(yaml)
        .map_err(|e| {
            // The scanner's message names a position, never the text.
            let marker = e.marker();
            anyhow::anyhow!(
                "{display}: the decrypted YAML does not parse at line {}: {}",
                marker.line(),
                e.info()
            )
        })
        .hint("fix it with `bin/rails credentials:edit`")?;
    let mut out = Vec::new();
    if let Some(doc) = docs.first() {
        match doc {
            Yaml::Hash(_) => walk(doc, &mut Vec::new(), &mut out),
            Yaml::Null => {}
            _ => {
                wipe_all(&mut docs);
                return Err(anyhow::anyhow!(
                    "{display}: the credentials are not a mapping of names to values"
                ))
                .hint("fix it with `bin/rails credentials:edit`");
            }
        }
    }
    wipe_all(&mut docs);
    Ok(out)
}

fn walk(node: &Yaml, path: &mut Vec<String>, out: &mut Vec<Flat>) {
    let Yaml::Hash(map) = node else { return };
    for (key, value) in map {
        let key = match key {
            Yaml::String(s) | Yaml::Real(s) => s.clone(),
            Yaml::Integer(i) => i.to_string(),
            Yaml::Boolean(b) => b.to_string(),
            _ => {
                out.push(Flat::Skipped {
                    path: join_path(path, "?"),
                    reason: "a key that is not text",
                });
                continue;
            }
        };
        path.push(key);
        let text = match value {
            Yaml::Hash(_) => {
                walk(value, path, out);
                path.pop();
                continue;
            }
            Yaml::String(s) | Yaml::Real(s) => Some(s.as_bytes().to_vec()),
            Yaml::Integer(i) => Some(i.to_string().into_bytes()),
            Yaml::Boolean(b) => Some(b.to_string().into_bytes()),
            Yaml::Null => None,
            _ => None,
        };
        let dotted = path.join(".");
        let reason = match value {
            Yaml::Null => "no value",
            Yaml::Array(_) => "a list; kseal stores single values",
            _ => "not a plain value",
        };
        match text {
            None => out.push(Flat::Skipped {
                path: dotted,
                reason,
            }),
            Some(bytes) => {
                let value = SecretValue::new(bytes);
                let name = path.join("__").to_uppercase();
                if store::validate_name(&name).is_ok() {
                    out.push(Flat::Value { name, value });
                } else {
                    out.push(Flat::Skipped {
                        path: dotted,
                        reason: "its name is not a valid secret name (letters, digits, `_`, `.`)",
                    });
                }
            }
        }
        path.pop();
    }
}

fn join_path(path: &[String], last: &str) -> String {
    let mut parts = path.to_vec();
    parts.push(last.to_owned());
    parts.join(".")
}

/// Overwrites every string value in the parsed documents, so the plaintext
/// does not outlive the import in the YAML tree.
// FIXME: yaml-rust2's scanner keeps its own copies of scalars while
// parsing and drops them unwiped; only a parser that writes into caller
// buffers would avoid that.
fn wipe_all(docs: &mut [Yaml]) {
    for doc in docs {
        wipe(doc);
    }
}

fn wipe(node: &mut Yaml) {
    match node {
        Yaml::String(s) | Yaml::Real(s) => s.zeroize(),
        Yaml::Array(items) => items.iter_mut().for_each(wipe),
        Yaml::Hash(map) => {
            for (_, value) in map.iter_mut() {
                wipe(value);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(flat: &[Flat]) -> Vec<String> {
        flat.iter()
            .map(|f| match f {
                Flat::Value { name, .. } => name.clone(),
                Flat::Skipped { path, .. } => format!("skip {path}"),
            })
            .collect()
    }

    #[test]
    fn nested_keys_become_double_underscore_names() {
        let yaml = "secret_key_base: abc\naws:\n  access_key_id: AK\n  region:\n    name: eu\n\
                    list: [1, 2]\nempty:\nport: 5432\nbad-name: x\n";
        let flat = flatten(yaml, "c.yml.enc").unwrap();
        assert_eq!(
            names(&flat),
            [
                "SECRET_KEY_BASE",
                "AWS__ACCESS_KEY_ID",
                "AWS__REGION__NAME",
                "skip list",
                "skip empty",
                "PORT",
                "skip bad-name"
            ]
        );
        let Flat::Value { value, .. } = &flat[5] else {
            panic!()
        };
        assert_eq!(value.expose(), b"5432");
    }

    #[test]
    fn key_file_pairs_with_its_credentials() {
        assert_eq!(
            key_file_for(Path::new("config/credentials.yml.enc")),
            Path::new("config/master.key")
        );
        assert_eq!(
            key_file_for(Path::new("config/credentials/production.yml.enc")),
            Path::new("config/credentials/production.key")
        );
    }

    #[test]
    fn bad_master_keys_are_refused_without_echo() {
        for text in ["0123", "zz23456789abcdef0123456789abcdef", ""] {
            let err = MasterKey::parse(text, "config/master.key").err().unwrap();
            let message = format!("{err:#}");
            assert!(
                message.contains("config/master.key: the master key"),
                "{message}"
            );
            if !text.is_empty() {
                assert!(!message.contains(text), "{message}");
            }
        }
        assert!(MasterKey::parse("0123456789ABCDEF0123456789abcdef\n", "k").is_ok());
    }
}
