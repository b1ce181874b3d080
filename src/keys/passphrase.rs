//! Passphrase-protected identities: age identity files encrypted with a
//! passphrase (scrypt, [age-encryption.org/v1]) and encrypted SSH keys.
//!
//! The passphrase is asked on the terminal (`/dev/tty`), never read from
//! the environment or the command line. Without a terminal the error says
//! so and points at `KSEAL_IDENTITY` for CI.
//!
//! [age-encryption.org/v1]: https://age-encryption.org/v1

use std::io::Read;
use std::sync::Mutex;

use age::secrecy::SecretString;
use age_core::format::{FileKey, Stanza};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::RecipientKey;
use crate::hint::ResultExt;

/// How many times a wrong passphrase may be typed.
const ATTEMPTS: usize = 3;

/// Whether `bytes` (leading whitespace removed) start an age file, binary
/// or armored.
pub fn is_encrypted_age_file(bytes: &[u8]) -> bool {
    bytes.starts_with(b"age-encryption.org/v1")
        || bytes.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
}

/// Asks for the passphrase of `what` on the terminal.
fn ask(what: &str) -> anyhow::Result<SecretString> {
    rpassword::prompt_password(format!("Passphrase for {what}: "))
        .map(SecretString::from)
        .map_err(|_| {
            anyhow::anyhow!(
                "{what} is protected by a passphrase and there is no terminal to ask for it"
            )
        })
        .hint("in CI, hand kseal an identity without a passphrase through KSEAL_IDENTITY")
}

/// Decrypts a passphrase-protected age identity file to its text.
pub fn decrypt_identity_file(bytes: &[u8], origin: &str) -> anyhow::Result<Zeroizing<String>> {
    for attempt in 1..=ATTEMPTS {
        let reader = age::armor::ArmoredReader::new(bytes);
        let decryptor = age::Decryptor::new(reader)
            .map_err(|_| anyhow::anyhow!("{origin}: not a valid age file"))?;
        if !decryptor.is_scrypt() {
            return Err(anyhow::anyhow!(
                "{origin}: an age file that is not protected by a passphrase cannot be an identity"
            ))
            .hint("decrypt it with `age -d` into a file only you can read, and use that");
        }
        let passphrase = ask(origin)?;
        let identity = age::scrypt::Identity::new(passphrase);
        match decryptor.decrypt(std::iter::once(&identity as &dyn age::Identity)) {
            Ok(mut reader) => {
                let mut plain = Zeroizing::new(Vec::new());
                reader
                    .read_to_end(&mut plain)
                    .map_err(|_| anyhow::anyhow!("{origin}: the encrypted identity is damaged"))?;
                let text = String::from_utf8(std::mem::take(&mut *plain))
                    .map_err(|_| anyhow::anyhow!("{origin}: the decrypted identity is not text"))?;
                return Ok(Zeroizing::new(text));
            }
            Err(_) if attempt < ATTEMPTS => eprintln!("kseal: wrong passphrase, try again"),
            Err(_) => {}
        }
    }
    Err(anyhow::anyhow!("{origin}: wrong passphrase"))
        .hint("the passphrase is the one given to `kseal keygen --passphrase`")
}

/// An encrypted SSH key that asks for its passphrase only when a file is
/// actually wrapped to it, so a protected `~/.ssh/id_ed25519` costs no
/// prompt when another identity opens the file.
pub struct LazySshKey {
    encrypted: age::ssh::Identity,
    /// The stanza tag age writes for this key: the first four bytes of the
    /// SHA-256 of its public key blob, unpadded base64.
    tag: String,
    origin: String,
    decrypted: Mutex<Option<age::ssh::Identity>>,
}

impl LazySshKey {
    pub fn new(
        encrypted: age::ssh::Identity,
        recipient: &RecipientKey,
        origin: String,
    ) -> anyhow::Result<LazySshKey> {
        let blob = recipient
            .as_str()
            .split(' ')
            .nth(1)
            .and_then(|b| STANDARD.decode(b).ok())
            .ok_or_else(|| anyhow::anyhow!("{origin}: malformed SSH public key"))?;
        let digest = Sha256::digest(&blob);
        Ok(LazySshKey {
            encrypted,
            tag: STANDARD_NO_PAD.encode(&digest[..4]),
            origin,
            decrypted: Mutex::new(None),
        })
    }

    fn unlock(&self) -> Option<age::ssh::Identity> {
        let mut slot = self.decrypted.lock().expect("no thread panics holding it");
        if let Some(identity) = slot.as_ref() {
            return Some(identity.clone());
        }
        let age::ssh::Identity::Encrypted(key) = &self.encrypted else {
            return Some(self.encrypted.clone());
        };
        for _ in 0..ATTEMPTS {
            let passphrase = match ask(&self.origin) {
                Ok(p) => p,
                Err(e) => {
                    log::warn!("{e:#}");
                    return None;
                }
            };
            if let Ok(plain) = key.decrypt(passphrase) {
                let identity = age::ssh::Identity::from(plain);
                *slot = Some(identity.clone());
                return Some(identity);
            }
            eprintln!("kseal: wrong passphrase for {}", self.origin);
        }
        None
    }
}

impl age::Identity for LazySshKey {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        let ours = matches!(stanza.tag.as_str(), "ssh-ed25519" | "ssh-rsa")
            && stanza.args.first() == Some(&self.tag);
        if !ours {
            return None;
        }
        match self.unlock() {
            Some(identity) => identity.unwrap_stanza(stanza),
            None => Some(Err(age::DecryptError::KeyDecryptionFailed)),
        }
    }
}
