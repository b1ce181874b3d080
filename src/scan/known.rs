//! Known values: the plaintext of every secret the user can open, searched
//! as literals in the forms a leak usually takes.
//!
//! FIXME: this is a small stand-in for `redact::PatternSet`, which covers
//! every encoding the redactor knows (JSON and shell escapes, percent
//! encoding, base64 at every alignment). When it lands, `KnownValues`
//! should wrap it instead: `find_all` already has its shape, so only this
//! file changes.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use zeroize::Zeroizing;

use crate::secret::SecretValue;

/// Values shorter than this are not searched: they would match everywhere.
pub const MIN_VALUE_BYTES: usize = 8;

/// The form in which a known value appeared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Base64,
    Base64Url,
    Hex,
    Raw,
}

impl Form {
    /// How the finding's message says it: empty for the value as it is.
    pub fn phrase(self) -> &'static str {
        match self {
            Form::Base64 => " base64-encoded",
            Form::Base64Url => " base64url-encoded",
            Form::Hex => " hex-encoded",
            Form::Raw => "",
        }
    }
}

/// One occurrence of a known value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownMatch {
    pub start: usize,
    pub end: usize,
    /// Index of the secret in the list the set was built from.
    pub secret: usize,
    pub encoding: Form,
}

/// The named values and their encodings, compiled for search.
pub struct KnownValues {
    names: Vec<String>,
    automaton: AhoCorasick,
    /// For each pattern: the secret it belongs to and its form.
    owners: Vec<(usize, Form)>,
}

impl KnownValues {
    /// Builds the set; `None` when no value is long enough to search for.
    /// Each name is shown as given (`DB_PASSWORD (production)`).
    pub fn new(secrets: &[(String, SecretValue)]) -> Option<KnownValues> {
        let mut patterns: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        let mut owners = Vec::new();
        let mut names = Vec::new();
        for (i, (name, value)) in secrets.iter().enumerate() {
            names.push(name.clone());
            let raw = value.expose();
            if raw.len() < MIN_VALUE_BYTES {
                continue;
            }
            let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
            // Without padding, so that the value is found inside a longer
            // encoded text that starts with it, too.
            let forms = [
                (Form::Raw, raw.to_vec()),
                (Form::Base64, STANDARD_NO_PAD.encode(raw).into_bytes()),
                (Form::Base64Url, URL_SAFE_NO_PAD.encode(raw).into_bytes()),
                (Form::Hex, hex.to_ascii_uppercase().into_bytes()),
                (Form::Hex, hex.into_bytes()),
            ];
            for (form, bytes) in forms {
                let bytes = Zeroizing::new(bytes);
                if patterns.iter().any(|p| **p == *bytes) {
                    continue;
                }
                patterns.push(bytes);
                owners.push((i, form));
            }
        }
        if patterns.is_empty() {
            return None;
        }
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(patterns.iter().map(|p| p.as_slice()))
            .expect("literal patterns build an automaton");
        Some(KnownValues {
            names,
            automaton,
            owners,
        })
    }

    /// Every non-overlapping occurrence in `haystack`, the longest where two
    /// start at the same byte.
    pub fn find_all(&self, haystack: &[u8]) -> Vec<KnownMatch> {
        self.automaton
            .find_iter(haystack)
            .map(|m| {
                let (secret, encoding) = self.owners[m.pattern().as_usize()];
                KnownMatch {
                    start: m.start(),
                    end: m.end(),
                    secret,
                    encoding,
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_raw_and_encoded_and_skips_short() {
        let set = KnownValues::new(&[
            (
                "DB_PASSWORD".into(),
                SecretValue::new(b"s3cr3t-horse-42".to_vec()),
            ),
            ("PIN".into(), SecretValue::new(b"1234".to_vec())),
        ])
        .unwrap();
        let encoded = STANDARD_NO_PAD.encode("s3cr3t-horse-42");
        let text = format!("a s3cr3t-horse-42 b Basic {encoded}== c 1234");
        let found = set.find_all(text.as_bytes());
        let forms: Vec<Form> = found.iter().map(|m| m.encoding).collect();
        assert_eq!(forms, [Form::Raw, Form::Base64]);
        assert!(found.iter().all(|m| set.name(m.secret) == "DB_PASSWORD"));
    }
}
