//! The file's integrity MAC: HMAC-SHA256 ([RFC 2104]) over every byte of the
//! file before the `mac` line, keyed with a key derived from the data key by
//! HKDF-SHA256 ([RFC 5869]) with an empty salt and the info string
//! `kseal-store 1 mac`.
//!
//! The MAC covers the version, the scope, every recipient line, the wrapped
//! data key, extensions, and every entry with its timestamps, in order. Any
//! deleted, reordered, duplicated, edited or transplanted line changes it.
//!
//! [RFC 2104]: https://www.rfc-editor.org/rfc/rfc2104
//! [RFC 5869]: https://www.rfc-editor.org/rfc/rfc5869

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::datakey::DataKey;
use super::format::FORMAT_VERSION;

/// Length of the MAC.
pub const MAC_LEN_BYTES: usize = 32;

type HmacSha256 = Hmac<Sha256>;

/// The HKDF info string for the MAC key.
pub fn mac_key_info() -> String {
    format!("kseal-store {FORMAT_VERSION} mac")
}

fn mac_key(key: &DataKey) -> Zeroizing<[u8; 32]> {
    let hkdf = Hkdf::<Sha256>::new(None, key.expose());
    let mut out = Zeroizing::new([0u8; 32]);
    hkdf.expand(mac_key_info().as_bytes(), out.as_mut())
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    out
}

fn hmac(key: &DataKey) -> HmacSha256 {
    HmacSha256::new_from_slice(mac_key(key).as_ref()).expect("HMAC accepts keys of any length")
}

/// The MAC of `body` (the file up to, not including, its `mac` line).
pub fn compute(key: &DataKey, body: &[u8]) -> [u8; MAC_LEN_BYTES] {
    let mut mac = hmac(key);
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// Whether `tag` is the MAC of `body`, compared in constant time.
pub fn verify(key: &DataKey, body: &[u8], tag: &[u8]) -> bool {
    let mut mac = hmac(key);
    mac.update(body);
    mac.verify_slice(tag).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_change_to_the_body_or_key_fails() {
        let key = DataKey::generate();
        let tag = compute(&key, b"line one\nline two\n");
        assert!(verify(&key, b"line one\nline two\n", &tag));
        assert!(!verify(&key, b"line two\nline one\n", &tag));
        assert!(!verify(&key, b"line one\n", &tag));
        assert!(!verify(&DataKey::generate(), b"line one\nline two\n", &tag));
        assert!(!verify(&key, b"line one\nline two\n", &tag[..31]));
    }
}
