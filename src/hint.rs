//! A likely fix, carried in an error chain and printed on its own line.
//!
//! Library code attaches a hint where it knows what the user should do:
//!
//! ```
//! use kseal::Hint;
//! let err = anyhow::Error::new(Hint::new("run `kseal keygen` to create one"))
//!     .context("no identity found");
//! assert!(kseal::hint::find(&err).is_some());
//! ```
//!
//! The binary prints the error chain on one line and the hint below it.

use std::fmt;

/// A suggestion for the user, kept apart from the error message itself.
#[derive(Debug, Clone)]
pub struct Hint(String);

impl Hint {
    pub fn new(text: impl Into<String>) -> Hint {
        Hint(text.into())
    }

    pub fn text(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Hint {
    // A hint is printed separately; as a link in an error chain it adds
    // nothing to the message line.
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

impl std::error::Error for Hint {}

/// Attaches `hint` to `err` so that the binary prints it under the message.
pub fn attach(err: anyhow::Error, hint: impl Into<String>) -> anyhow::Error {
    err.context(Hint::new(hint))
}

/// The outermost hint attached anywhere in the chain of `err`.
pub fn find(err: &anyhow::Error) -> Option<&Hint> {
    // anyhow looks through every context layer, so this finds a hint
    // attached at any depth as well as one that is the root error.
    err.downcast_ref::<Hint>()
}

/// Extension for results: `.hint("…")` on the error path.
pub trait ResultExt<T> {
    fn hint(self, hint: impl Into<String>) -> anyhow::Result<T>;
}

impl<T, E: Into<anyhow::Error>> ResultExt<T> for Result<T, E> {
    fn hint(self, hint: impl Into<String>) -> anyhow::Result<T> {
        self.map_err(|e| attach(e.into(), hint))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hint_is_found_under_later_context() {
        let err =
            attach(anyhow::anyhow!("bad key"), "run `kseal keygen`").context("cannot open store");
        assert_eq!(find(&err).map(Hint::text), Some("run `kseal keygen`"));
    }

    #[test]
    fn no_hint_no_find() {
        let err = anyhow::anyhow!("bad key").context("cannot open store");
        assert!(find(&err).is_none());
    }
}
