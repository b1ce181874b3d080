//! Identities (what decrypts) and recipients (what a data key is wrapped to):
//! age X25519 keys and SSH ed25519/RSA keys, and the order in which kseal
//! discovers the user's identities.
//!
//! The contract the rest of kseal codes against:
//!
//! - [`discover`] returns every identity the user has, in discovery order.
//! - [`RecipientKey`] is a public key as written in a store file, parsed and
//!   checked, convertible to an age recipient.
//! - [`own_recipients`] gives the public keys of the user's identities, used
//!   when a new store is created.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, bail};

use crate::hint::ResultExt;

/// An identity as age uses it.
pub type DynIdentity = Box<dyn age::Identity + Send + Sync>;

/// Environment variable holding an identity itself (for CI).
pub const IDENTITY_ENV: &str = "KSEAL_IDENTITY";
/// Environment variable holding the path of an identity file.
pub const IDENTITY_FILE_ENV: &str = "KSEAL_IDENTITY_FILE";

/// A recipient public key: `age1…` (X25519) or an SSH public key line
/// (`ssh-ed25519 AAAA…`, `ssh-rsa AAAA…`). The comment of an SSH line is not
/// kept; labels live in the store file.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecipientKey {
    text: String,
}

impl RecipientKey {
    /// The canonical text of the key, as written in store files.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The key as an age recipient, ready to wrap a file key.
    pub fn to_age(&self) -> Box<dyn age::Recipient + Send> {
        if self.text.starts_with("age1") {
            let key = age::x25519::Recipient::from_str(&self.text)
                .expect("a RecipientKey holds only keys that parsed");
            Box::new(key)
        } else {
            let key = age::ssh::Recipient::from_str(&self.text)
                .expect("a RecipientKey holds only keys that parsed");
            Box::new(key)
        }
    }
}

impl FromStr for RecipientKey {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<RecipientKey> {
        let s = s.trim();
        if s.starts_with("age1") {
            age::x25519::Recipient::from_str(s)
                .map_err(|e| anyhow::anyhow!("invalid age recipient: {e}"))
                .hint("an age public key starts with `age1`; `kseal keygen` prints yours")?;
            return Ok(RecipientKey { text: s.to_owned() });
        }
        if s.starts_with("ssh-") {
            // Keep the key type and base64 blob; drop any comment.
            let canonical: Vec<&str> = s.split_whitespace().take(2).collect();
            let canonical = canonical.join(" ");
            if age::ssh::Recipient::from_str(&canonical).is_err() {
                bail!(
                    "invalid or unsupported SSH public key (kseal accepts \
                     ssh-ed25519 and ssh-rsa)"
                );
            }
            return Ok(RecipientKey { text: canonical });
        }
        Err(anyhow::anyhow!("not a recipient public key")).hint(
            "use an age public key (`age1…`) or an SSH public key line \
             (`ssh-ed25519 AAAA…`)",
        )
    }
}

impl fmt::Display for RecipientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for RecipientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecipientKey({})", self.text)
    }
}

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
        _ => bail!("HOME is not set, so the default identity cannot be found"),
    }
}

/// Where an identity's text came from, for error messages.
struct IdentitySource {
    origin: String,
    text: zeroize::Zeroizing<String>,
}

/// The identity texts the user supplied, in discovery order: the `-i` files,
/// else `KSEAL_IDENTITY`, `KSEAL_IDENTITY_FILE` and the default identity file.
fn identity_sources(explicit: &[PathBuf]) -> anyhow::Result<Vec<IdentitySource>> {
    // TODO: SSH identities (~/.ssh/id_ed25519, id_rsa), passphrase-protected
    // files and the group/other-readable refusal are not wired in yet.
    let mut sources = Vec::new();
    if !explicit.is_empty() {
        for path in explicit {
            sources.push(read_source(path)?);
        }
        return Ok(sources);
    }
    if let Some(text) = std::env::var_os(IDENTITY_ENV) {
        let text = text
            .into_string()
            .map_err(|_| anyhow::anyhow!("{IDENTITY_ENV} is not valid UTF-8"))?;
        sources.push(IdentitySource {
            origin: IDENTITY_ENV.to_owned(),
            text: zeroize::Zeroizing::new(text),
        });
    }
    if let Some(path) = std::env::var_os(IDENTITY_FILE_ENV) {
        sources.push(read_source(Path::new(&path))?);
    }
    let default = default_identity_path()?;
    if sources.is_empty() && default.exists() {
        sources.push(read_source(&default)?);
    }
    if sources.is_empty() {
        return Err(anyhow::anyhow!("no identity found"))
            .hint("run `kseal keygen` to create one, or set KSEAL_IDENTITY");
    }
    Ok(sources)
}

fn read_source(path: &Path) -> anyhow::Result<IdentitySource> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read identity file {}", path.display()))
        .hint("check the path given with -i or KSEAL_IDENTITY_FILE; `kseal keygen` creates one")?;
    Ok(IdentitySource {
        origin: path.display().to_string(),
        text: zeroize::Zeroizing::new(text),
    })
}

/// Every identity the user has, in discovery order (see [`identity_sources`]).
pub fn discover(explicit: &[PathBuf]) -> anyhow::Result<Vec<DynIdentity>> {
    let mut found = Vec::new();
    for source in identity_sources(explicit)? {
        const HINT: &str = "an identity file holds age secret keys (`AGE-SECRET-KEY-1…`), \
                            as `kseal keygen` and `age-keygen` write them";
        let file = age::IdentityFile::from_buffer(source.text.as_bytes())
            .with_context(|| format!("{}: not a valid identity", source.origin))
            .hint(HINT)?;
        let identities = file
            .into_identities()
            .with_context(|| format!("{}: not a valid identity", source.origin))
            .hint(HINT)?;
        found.extend(identities);
    }
    Ok(found)
}

/// The public keys of the user's own identities, for sealing a new store.
pub fn own_recipients(explicit: &[PathBuf]) -> anyhow::Result<Vec<RecipientKey>> {
    // TODO: SSH identities contribute their `.pub` sibling once discovery
    // knows them.
    let mut keys: Vec<RecipientKey> = Vec::new();
    for source in identity_sources(explicit)? {
        for line in source.text.lines().map(str::trim) {
            if !line.starts_with("AGE-SECRET-KEY-1") {
                continue;
            }
            let identity = age::x25519::Identity::from_str(line)
                .map_err(|e| anyhow::anyhow!("{}: {e}", source.origin))?;
            let key: RecipientKey = identity.to_public().to_string().parse()?;
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    Ok(keys)
}
