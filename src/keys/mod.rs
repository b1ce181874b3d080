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
//! - [`generate`] writes a new age identity file (`kseal keygen`).
//!
//! Discovery order, first to last (every identity found is tried):
//!
//! 1. each `-i FILE` given on the command line; when any is given, nothing
//!    else is looked at;
//! 2. `KSEAL_IDENTITY`: the text of an identity itself (for CI secrets);
//! 3. `KSEAL_IDENTITY_FILE`: the path of an identity file;
//! 4. the kseal identity file, `$XDG_CONFIG_HOME/kseal/identity.txt`
//!    (else `~/.config/kseal/identity.txt`);
//! 5. the SSH keys `~/.ssh/id_ed25519` and `~/.ssh/id_rsa`.
//!
//! An identity file is an age identity file (`AGE-SECRET-KEY-1…` lines), the
//! same protected with a passphrase (an age file encrypted with `age -p`, as
//! `kseal keygen --passphrase` writes), or an OpenSSH / PEM private key
//! (ed25519 or RSA, with or without a passphrase). A file that group or
//! others can read is refused, as ssh refuses such keys.

use std::fmt;
use std::str::FromStr;

use anyhow::bail;

use crate::hint::ResultExt;

mod discover;
mod generate;
mod passphrase;

pub use discover::{NoIdentity, default_identity_path, discover, own_recipients};
pub use generate::{GeneratedIdentity, generate};

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
