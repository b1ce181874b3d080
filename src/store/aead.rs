//! Value sealing: ChaCha20-Poly1305 ([RFC 8439]) under the file's data key,
//! with a random 96-bit nonce per value and associated data that binds the
//! format version, the file's scope and the secret's name.
//!
//! A sealed value is `nonce (12 bytes) || ciphertext || tag (16 bytes)`.
//! Because the associated data names the scope and the secret, a sealed value
//! copied to another name or another file fails to open even before the
//! file's MAC is checked.
//!
//! [RFC 8439]: https://www.rfc-editor.org/rfc/rfc8439

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;

use super::Scope;
use super::datakey::DataKey;
use super::format::FORMAT_VERSION;
use crate::secret::SecretValue;

/// Length of the random nonce that starts every sealed value.
pub const NONCE_LEN_BYTES: usize = 12;
/// Length of the Poly1305 tag that ends every sealed value.
pub const TAG_LEN_BYTES: usize = 16;

/// The associated data for the value of `name` in `scope`:
/// `kseal-store <version> NUL <scope token> NUL <name>`.
pub fn associated_data(scope: &Scope, name: &str) -> Vec<u8> {
    let mut ad = format!("kseal-store {FORMAT_VERSION}").into_bytes();
    ad.push(0);
    ad.extend_from_slice(scope.token().as_bytes());
    ad.push(0);
    ad.extend_from_slice(name.as_bytes());
    ad
}

/// Seals `value` as the secret `name` of `scope`, with a fresh random nonce.
pub fn seal(key: &DataKey, scope: &Scope, name: &str, value: &SecretValue) -> Vec<u8> {
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key.expose()));
    let mut nonce = [0u8; NONCE_LEN_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let ad = associated_data(scope, name);
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: value.expose(),
                aad: &ad,
            },
        )
        .expect("ChaCha20-Poly1305 encryption cannot fail for inputs under 256 GiB");
    let mut sealed = Vec::with_capacity(NONCE_LEN_BYTES + ciphertext.len());
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(&ciphertext);
    sealed
}

/// Opens a value sealed by [`seal`]. `None` means the value was not sealed
/// under this key for this scope and name, or was altered.
pub fn open(key: &DataKey, scope: &Scope, name: &str, sealed: &[u8]) -> Option<SecretValue> {
    if sealed.len() < NONCE_LEN_BYTES + TAG_LEN_BYTES {
        return None;
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN_BYTES);
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key.expose()));
    let ad = associated_data(scope, name);
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: &ad,
            },
        )
        .ok()
        .map(SecretValue::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_opens_only_under_its_own_name_and_scope() {
        let key = DataKey::generate();
        let prod = Scope::Destination("production".into());
        let value = SecretValue::new(b"s3cret".to_vec());
        let sealed = seal(&key, &prod, "DB", &value);

        assert_eq!(open(&key, &prod, "DB", &sealed).unwrap(), value);
        assert!(open(&key, &prod, "DB2", &sealed).is_none());
        assert!(open(&key, &Scope::Default, "DB", &sealed).is_none());
        assert!(open(&DataKey::generate(), &prod, "DB", &sealed).is_none());
        let mut flipped = sealed.clone();
        flipped[20] ^= 1;
        assert!(open(&key, &prod, "DB", &flipped).is_none());
        assert!(open(&key, &prod, "DB", &sealed[..27]).is_none());
    }

    #[test]
    fn same_value_seals_differently_each_time() {
        let key = DataKey::generate();
        let value = SecretValue::new(b"x".to_vec());
        let a = seal(&key, &Scope::Shared, "A", &value);
        let b = seal(&key, &Scope::Shared, "A", &value);
        assert_ne!(a, b);
    }
}
