//! The in-memory form of a decrypted secret value.

use std::fmt;

use zeroize::Zeroizing;

/// A decrypted secret value. The bytes are wiped when it is dropped, and
/// neither `Debug` nor any other formatting shows them: the only way to the
/// bytes is [`SecretValue::expose`], which makes every use visible in review.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(Zeroizing<Vec<u8>>);

impl SecretValue {
    pub fn new(bytes: Vec<u8>) -> SecretValue {
        SecretValue(Zeroizing::new(bytes))
    }

    /// The plaintext bytes. Callers must not log, format or copy them into
    /// anything that outlives the value.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<u8>> for SecretValue {
    fn from(bytes: Vec<u8>) -> SecretValue {
        SecretValue::new(bytes)
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretValue([{} bytes redacted])", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let value = SecretValue::new(b"canary-7f3a".to_vec());
        let shown = format!("{value:?}");
        assert!(!shown.contains("canary"), "{shown}");
        assert!(shown.contains("11 bytes"));
    }
}
