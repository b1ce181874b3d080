//! Finding the user's identities, in the order the module docs give, and
//! turning each into something age can decrypt with.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, bail};
use zeroize::Zeroizing;

use super::passphrase::{self, LazySshKey};
use super::{DynIdentity, IDENTITY_ENV, IDENTITY_FILE_ENV, RecipientKey};
use crate::hint::ResultExt;

/// SSH private keys tried after the kseal identity, in order.
const SSH_KEY_NAMES: [&str; 2] = ["id_ed25519", "id_rsa"];

/// The default location of the user's kseal identity:
/// `$XDG_CONFIG_HOME/kseal/identity.txt`, else `~/.config/kseal/identity.txt`.
pub fn default_identity_path() -> anyhow::Result<PathBuf> {
    let config = match std::env::var_os("XDG_CONFIG_HOME") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => home_dir()?.join(".config"),
    };
    Ok(config.join("kseal").join("identity.txt"))
}

fn home_dir() -> anyhow::Result<PathBuf> {
    match std::env::var_os("HOME") {
        Some(home) if !home.is_empty() => Ok(PathBuf::from(home)),
        _ => Err(anyhow::anyhow!(
            "HOME is not set, so the default identity cannot be found"
        ))
        .hint("pass an identity with -i FILE or set KSEAL_IDENTITY"),
    }
}

/// Discovery found no identity anywhere it looks.
#[derive(Debug, thiserror::Error)]
#[error(
    "no identity found (looked at -i, {IDENTITY_ENV}, {IDENTITY_FILE_ENV}, {} and \
     ~/.ssh/id_ed25519, ~/.ssh/id_rsa)",
    default.display()
)]
pub struct NoIdentity {
    /// Where `kseal keygen` would create one.
    pub default: PathBuf,
}

/// Where an identity's text came from, and the text itself.
struct Source {
    /// A path or the name of the environment variable, for messages.
    origin: String,
    bytes: Zeroizing<Vec<u8>>,
    /// Found by looking in a default place rather than named by the user: a
    /// key kseal cannot use is skipped with a note instead of failing.
    implicit: bool,
}

/// An identity source, parsed.
enum Loaded {
    Age(Vec<age::x25519::Identity>),
    Ssh {
        identity: age::ssh::Identity,
        recipient: Option<RecipientKey>,
    },
}

/// The identity texts, in discovery order.
fn sources(explicit: &[PathBuf]) -> anyhow::Result<Vec<Source>> {
    let mut found = Vec::new();
    if !explicit.is_empty() {
        for path in explicit {
            found.push(read_file(path, false)?);
        }
        return Ok(found);
    }

    if let Some(text) = std::env::var_os(IDENTITY_ENV) {
        let text = text
            .into_string()
            .map_err(|_| anyhow::anyhow!("{IDENTITY_ENV} is not valid UTF-8"))?;
        log::debug!("identity: {IDENTITY_ENV}");
        found.push(Source {
            origin: IDENTITY_ENV.to_owned(),
            bytes: Zeroizing::new(text.into_bytes()),
            implicit: false,
        });
    }
    if let Some(path) = std::env::var_os(IDENTITY_FILE_ENV) {
        let path = PathBuf::from(path);
        found.push(
            read_file(&path, false).with_context(|| format!("{IDENTITY_FILE_ENV} names it"))?,
        );
    }
    let default = default_identity_path()?;
    if default.exists() {
        found.push(read_file(&default, false)?);
    }
    if let Ok(home) = home_dir() {
        for name in SSH_KEY_NAMES {
            let path = home.join(".ssh").join(name);
            if path.exists() {
                found.push(read_file(&path, true)?);
            }
        }
    }

    if found.is_empty() {
        return Err(anyhow::Error::new(NoIdentity { default }))
            .hint("run `kseal keygen` to create one, or set KSEAL_IDENTITY");
    }
    Ok(found)
}

/// Reads an identity file, refusing one that group or others can access.
fn read_file(path: &Path, implicit: bool) -> anyhow::Result<Source> {
    let display = path.display();
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read identity file {display}"))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(anyhow::anyhow!(
            "identity file {display} is accessible by group or others (mode {mode:04o})"
        ))
        .hint(format!(
            "a private key must be yours alone: run `chmod 600 {display}`"
        ));
    }
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read identity file {display}"))?;
    log::debug!("identity: {display}");
    Ok(Source {
        origin: display.to_string(),
        bytes: Zeroizing::new(bytes),
        implicit,
    })
}

/// Parses one source. `None` for an implicit SSH key kseal cannot use.
fn load(source: &Source) -> anyhow::Result<Option<Loaded>> {
    let origin = &source.origin;
    let bytes = source.bytes.as_slice();
    let start = bytes.trim_ascii_start();

    if passphrase::is_encrypted_age_file(start) {
        let text = passphrase::decrypt_identity_file(bytes, origin)?;
        return parse_age(&text, origin).map(|ids| Some(Loaded::Age(ids)));
    }

    let text = std::str::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("{origin}: not an identity (the file is not text)"))
        .hint(IDENTITY_HINT)?;
    if text.contains("PRIVATE KEY-----") {
        let identity = match age::ssh::Identity::from_buffer(text.as_bytes(), Some(origin.clone()))
        {
            Ok(identity) => identity,
            Err(_) if source.implicit => {
                log::debug!("skipping {origin}: not an SSH key kseal can read");
                return Ok(None);
            }
            Err(_) => {
                return Err(anyhow::anyhow!("{origin}: not a valid SSH private key"))
                    .hint(IDENTITY_HINT);
            }
        };
        if let age::ssh::Identity::Unsupported(_) = identity {
            if source.implicit {
                log::debug!("skipping {origin}: unsupported SSH key type");
                return Ok(None);
            }
            return Err(anyhow::anyhow!(
                "{origin}: unsupported SSH key (kseal uses ssh-ed25519 and ssh-rsa keys)"
            ))
            .hint(IDENTITY_HINT);
        }
        let recipient = age::ssh::Recipient::try_from(identity.clone())
            .ok()
            .and_then(|r| RecipientKey::from_str(&r.to_string()).ok());
        return Ok(Some(Loaded::Ssh {
            identity,
            recipient,
        }));
    }
    parse_age(text, origin).map(|ids| Some(Loaded::Age(ids)))
}

const IDENTITY_HINT: &str = "an identity is an age key file (`kseal keygen` writes one), \
                             or an ed25519 or RSA SSH private key";

/// Parses an age identity file: `AGE-SECRET-KEY-1…` lines, blank lines and
/// `#` comments. Errors name the line, never its content.
fn parse_age(text: &str, origin: &str) -> anyhow::Result<Vec<age::x25519::Identity>> {
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match age::x25519::Identity::from_str(line) {
            Ok(identity) => found.push(identity),
            Err(_) => {
                return Err(anyhow::anyhow!(
                    "{origin}:{}: not an age identity line",
                    index + 1
                ))
                .hint(IDENTITY_HINT);
            }
        }
    }
    if found.is_empty() {
        return Err(anyhow::anyhow!("{origin}: holds no identity")).hint(IDENTITY_HINT);
    }
    Ok(found)
}

/// Every identity the user has, in discovery order.
pub fn discover(explicit: &[PathBuf]) -> anyhow::Result<Vec<DynIdentity>> {
    let mut found: Vec<DynIdentity> = Vec::new();
    for source in sources(explicit)? {
        match load(&source)? {
            None => {}
            Some(Loaded::Age(ids)) => {
                found.extend(ids.into_iter().map(|i| Box::new(i) as DynIdentity));
            }
            Some(Loaded::Ssh {
                identity: identity @ age::ssh::Identity::Encrypted(_),
                recipient,
            }) => match recipient {
                Some(recipient) => found.push(Box::new(LazySshKey::new(
                    identity,
                    &recipient,
                    source.origin,
                )?)),
                None => log::debug!("skipping {}: no public key in it", source.origin),
            },
            Some(Loaded::Ssh { identity, .. }) => found.push(Box::new(identity)),
        }
    }
    if found.is_empty() {
        return Err(anyhow::anyhow!("no usable identity found"))
            .hint("run `kseal keygen` to create one, or set KSEAL_IDENTITY");
    }
    Ok(found)
}

/// The public keys of the user's first identity source that has any: what
/// a new store is sealed to.
pub fn own_recipients(explicit: &[PathBuf]) -> anyhow::Result<Vec<RecipientKey>> {
    for source in sources(explicit)? {
        let keys: Vec<RecipientKey> = match load(&source)? {
            None => continue,
            Some(Loaded::Age(ids)) => ids
                .iter()
                .map(|i| RecipientKey::from_str(&i.to_public().to_string()))
                .collect::<anyhow::Result<_>>()?,
            Some(Loaded::Ssh { recipient, .. }) => recipient.into_iter().collect(),
        };
        if !keys.is_empty() {
            let mut unique: Vec<RecipientKey> = Vec::new();
            for key in keys {
                if !unique.contains(&key) {
                    unique.push(key);
                }
            }
            return Ok(unique);
        }
    }
    bail!("none of your identities has a public key kseal can seal to")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_lines_are_parsed_and_bad_lines_named_without_content() {
        let key = age::x25519::Identity::generate();
        use age::secrecy::ExposeSecret;
        let secret = key.to_string();
        let text = format!("# comment\n\n{}\n", secret.expose_secret());
        assert_eq!(parse_age(&text, "f").unwrap().len(), 1);

        let Err(err) = parse_age("# x\nAGE-SECRET-KEY-1CANARYCANARY\n", "f") else {
            panic!("a garbage line parsed as an identity");
        };
        let shown = format!("{err:#}");
        assert!(shown.contains("f:2:"), "{shown}");
        assert!(!shown.contains("CANARY"), "{shown}");
    }
}
