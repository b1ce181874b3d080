//! Known values: the plaintext of every secret the user can open, searched
//! as literals in every form the redactor knows (raw, base64 and base64url
//! at any alignment, hex, JSON, shell and env-file escapes, percent
//! encoding), through [`crate::redact::PatternSet`], so that `kseal scan`
//! finds exactly what `kseal run` would have masked.

use crate::redact::{Encoding, PatternSet};
use crate::secret::SecretValue;

/// Values shorter than this are not searched. The redactor masks values
/// from 6 bytes on, where a false mask costs little; a scan reports every
/// occurrence, and short values (`secret`, `admin1`) match all over a tree.
pub const MIN_VALUE_BYTES: usize = 8;

/// One occurrence of a known value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownMatch {
    pub start: usize,
    pub end: usize,
    /// Index of the secret in the list the set was built from.
    pub secret: usize,
    pub encoding: Encoding,
}

/// The named values and their encodings, compiled for search.
pub struct KnownValues {
    /// Names of the searched values, by the set's index.
    names: Vec<String>,
    set: PatternSet,
}

impl KnownValues {
    /// Builds the set; `None` when no value is long enough to search for.
    /// Each name is shown as given (`DB_PASSWORD (production)`).
    pub fn new(secrets: &[(String, SecretValue)]) -> Option<KnownValues> {
        let searched: Vec<(String, SecretValue)> = secrets
            .iter()
            .filter(|(_, value)| value.len() >= MIN_VALUE_BYTES)
            .cloned()
            .collect();
        if searched.is_empty() {
            return None;
        }
        Some(KnownValues {
            names: searched.iter().map(|(name, _)| name.clone()).collect(),
            set: PatternSet::new(&searched),
        })
    }

    /// Every non-overlapping occurrence in `haystack`, the longest where two
    /// start at the same byte.
    pub fn find_all(&self, haystack: &[u8]) -> Vec<KnownMatch> {
        self.set
            .find_all(haystack)
            .into_iter()
            .map(|m| KnownMatch {
                start: m.start,
                end: m.end,
                secret: m.secret,
                encoding: m.encoding,
            })
            .collect()
    }

    pub fn name(&self, secret: usize) -> &str {
        &self.names[secret]
    }

    /// How many values are searched for.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// How a finding's message names the form: empty for the value as it is.
pub fn phrase(encoding: Encoding) -> &'static str {
    match encoding {
        Encoding::Raw => "",
        Encoding::Base64 => " base64-encoded",
        Encoding::Base64Url => " base64url-encoded",
        Encoding::Hex => " hex-encoded",
        Encoding::Json => " JSON-escaped",
        Encoding::Percent => " percent-encoded",
        Encoding::EnvFile => " env-file-escaped",
        _ => " shell-quoted",
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    #[test]
    fn finds_raw_and_encoded_and_skips_short() {
        let set = KnownValues::new(&[
            ("PIN".into(), SecretValue::new(b"123456".to_vec())),
            (
                "DB_PASSWORD".into(),
                SecretValue::new(b"s3cr3t-horse-42".to_vec()),
            ),
        ])
        .unwrap();
        let encoded = STANDARD.encode("s3cr3t-horse-42");
        let text = format!("a s3cr3t-horse-42 b Basic {encoded} c 123456");
        let found = set.find_all(text.as_bytes());
        let forms: Vec<Encoding> = found.iter().map(|m| m.encoding).collect();
        assert_eq!(forms, [Encoding::Raw, Encoding::Base64]);
        assert!(found.iter().all(|m| set.name(m.secret) == "DB_PASSWORD"));
    }
}
