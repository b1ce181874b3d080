//! The per-file data key and its wrapping.
//!
//! Each sealed file has a random 256-bit data key. It is wrapped by
//! encrypting it as the whole plaintext of an ordinary age file
//! ([age-encryption.org/v1]) to every recipient of the file, so anyone with
//! the stock `age` CLI and one of the identities can recover it:
//! `age -d -i key.txt` prints the 32 raw bytes.
//!
//! [age-encryption.org/v1]: https://age-encryption.org/v1

use std::io::{Read, Write};

use anyhow::Context;
use rand::RngCore;
use zeroize::Zeroizing;

use crate::hint::ResultExt;
use crate::keys::{DynIdentity, RecipientKey};

/// Length of a data key.
pub const DATA_KEY_LEN_BYTES: usize = 32;

/// A data key; wiped when dropped, never printed.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; DATA_KEY_LEN_BYTES]>);

impl DataKey {
    /// A fresh random key from the operating system's generator.
    pub fn generate() -> DataKey {
        let mut key = Zeroizing::new([0u8; DATA_KEY_LEN_BYTES]);
        rand::rngs::OsRng.fill_bytes(key.as_mut());
        DataKey(key)
    }

    /// The raw key bytes, for the AEAD and the MAC key derivation only.
    pub fn expose(&self) -> &[u8; DATA_KEY_LEN_BYTES] {
        &self.0
    }

    /// Encrypts the key to every recipient as one binary age file.
    pub fn wrap(&self, recipients: &[RecipientKey]) -> anyhow::Result<Vec<u8>> {
        if recipients.is_empty() {
            anyhow::bail!("a sealed file needs at least one recipient");
        }
        let boxed: Vec<_> = recipients.iter().map(RecipientKey::to_age).collect();
        let encryptor = age::Encryptor::with_recipients(
            boxed.iter().map(|r| r.as_ref() as &dyn age::Recipient),
        )
        .context("cannot wrap the data key")?;
        let mut out = Vec::new();
        let mut writer = encryptor
            .wrap_output(&mut out)
            .context("cannot wrap the data key")?;
        writer
            .write_all(self.0.as_ref())
            .and_then(|()| writer.finish().map(|_| ()))
            .context("cannot wrap the data key")?;
        Ok(out)
    }

    /// Decrypts a wrapped key with the first identity that matches.
    pub fn unwrap(wrapped: &[u8], identities: &[DynIdentity]) -> anyhow::Result<DataKey> {
        let decryptor = age::Decryptor::new(wrapped).map_err(|e| {
            // Some of age's parse errors run on with a second line that
            // suggests upgrading age; here the bytes are kseal's own, so
            // only the first line says something true.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            anyhow::anyhow!("the wrapped data key is not an age file: {first}")
        })?;
        let reader = decryptor.decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity));
        let mut reader = match reader {
            Ok(reader) => reader,
            Err(age::DecryptError::NoMatchingKeys) => {
                return Err(anyhow::anyhow!(
                    "none of your identities is a recipient of this file"
                ))
                .hint(
                    "ask someone who can open it to run `kseal recipients add` with your \
                     public key, or pass the right identity with -i",
                );
            }
            Err(e) => return Err(e).context("cannot unwrap the data key"),
        };
        let mut plain = Zeroizing::new(Vec::with_capacity(DATA_KEY_LEN_BYTES + 1));
        reader
            .read_to_end(&mut plain)
            .context("cannot unwrap the data key")?;
        if plain.len() != DATA_KEY_LEN_BYTES {
            anyhow::bail!(
                "the wrapped data key holds {} bytes, not {DATA_KEY_LEN_BYTES}",
                plain.len()
            );
        }
        let mut key = Zeroizing::new([0u8; DATA_KEY_LEN_BYTES]);
        key.copy_from_slice(&plain);
        Ok(DataKey(key))
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn wrapped_key_opens_with_any_recipient_and_no_other() {
        let alice = age::x25519::Identity::generate();
        let bob = age::x25519::Identity::generate();
        let eve = age::x25519::Identity::generate();
        let recipients: Vec<RecipientKey> = [&alice, &bob]
            .iter()
            .map(|i| RecipientKey::from_str(&i.to_public().to_string()).unwrap())
            .collect();
        let key = DataKey::generate();
        let wrapped = key.wrap(&recipients).unwrap();

        for who in [alice, bob] {
            let ids: Vec<DynIdentity> = vec![Box::new(who)];
            assert_eq!(
                DataKey::unwrap(&wrapped, &ids).unwrap().expose(),
                key.expose()
            );
        }
        let ids: Vec<DynIdentity> = vec![Box::new(eve)];
        let err = DataKey::unwrap(&wrapped, &ids).unwrap_err();
        assert!(format!("{err:#}").contains("none of your identities"));
    }
}
