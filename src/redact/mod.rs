//! The streaming redactor: replaces every occurrence of every secret value,
//! and of its encoded forms, with a marker that names the secret.
//!
//! Contract used by `scan` for known-value search: a [`PatternSet`] built
//! from named values finds every occurrence of any value in any supported
//! encoding in a byte slice.

use crate::secret::SecretValue;

/// The form in which a secret value appeared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Encoding {
    Base64,
    Base64Url,
    EnvFile,
    Hex,
    Json,
    Percent,
    Raw,
    ShellDouble,
    ShellSingle,
}

/// One occurrence of a known value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Byte range in the searched slice.
    pub start: usize,
    pub end: usize,
    /// Index of the secret in the list the set was built from.
    pub secret: usize,
    pub encoding: Encoding,
}

/// Every supported encoding of a set of named values, compiled for search.
pub struct PatternSet {
    _private: (),
}

impl PatternSet {
    /// Builds the set. Values shorter than the redactor's minimum length are
    /// left out (they would match everywhere).
    pub fn new(secrets: &[(String, SecretValue)]) -> PatternSet {
        let _ = secrets;
        todo!("redact::PatternSet::new")
    }

    /// Every non-overlapping occurrence in `haystack`, longest match first
    /// where two start at the same byte.
    pub fn find_all(&self, haystack: &[u8]) -> Vec<Match> {
        let _ = haystack;
        todo!("redact::PatternSet::find_all")
    }
}
