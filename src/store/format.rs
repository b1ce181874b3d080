//! The text form of a sealed file: parsing and serialising, with no key.
//!
//! ```text
//! kseal-store 1
//! scope destination production
//! recipient age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p alice
//! recipient ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN bob
//! datakey YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSB...
//! secret DATABASE_URL 2026-12-03T20:13:06Z 2026-12-03T20:13:06Z 3q2+7w...
//! mac 9Yh1c8...
//! ```
//!
//! `docs/format.md` is the specification; this module follows it line by
//! line. Nothing here is authenticated: [`SealedFile`] is what the file says,
//! and only opening it with a key ([`super::OpenStore`]) checks the MAC.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::{EntryInfo, Scope};
use crate::hint;
use crate::keys::RecipientKey;

/// The format version this kseal reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// The first word of every sealed file.
pub const MAGIC: &str = "kseal-store";
/// Longest line a reader accepts, newline excluded.
pub const LINE_MAX_BYTES: usize = 2 * 1024 * 1024;
/// Largest secret value kseal seals.
pub const VALUE_MAX_BYTES: usize = 1024 * 1024;
/// Longest secret name.
pub const NAME_MAX_BYTES: usize = 255;
/// Longest recipient label.
pub const LABEL_MAX_BYTES: usize = 200;

/// A recipient of a sealed file: a public key and a label saying whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub key: RecipientKey,
    /// Free text (`alice@laptop`, `ci`), possibly empty; no control
    /// characters, no leading or trailing whitespace.
    pub label: String,
}

impl Recipient {
    pub fn new(key: RecipientKey, label: impl Into<String>) -> Recipient {
        Recipient {
            key,
            label: label.into(),
        }
    }
}

/// An `ext` line: a named piece of data for a later format feature. Readers
/// that do not know an extension ignore it (the MAC still covers it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    pub name: String,
    pub data: String,
}

/// One `secret` line: the name, its timestamps, the sealed value bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedEntry {
    pub info: EntryInfo,
    /// `nonce || ciphertext || tag`, see [`super::aead`].
    pub sealed: Vec<u8>,
    /// 1-based line number in the file it was read from (0 when built in
    /// memory).
    pub line: usize,
}

/// A sealed file, parsed but not opened: everything here is readable without
/// a key, and none of it is authenticated until the file is opened.
#[derive(Debug, Clone)]
pub struct SealedFile {
    pub(super) scope: Scope,
    pub(super) recipients: Vec<Recipient>,
    pub(super) wrapped_key: Vec<u8>,
    pub(super) extensions: Vec<Extension>,
    pub(super) entries: Vec<SealedEntry>,
    pub(super) mac: Vec<u8>,
    /// Line number of the `datakey` line.
    pub(super) datakey_line: usize,
    /// Line number of the `mac` line.
    pub(super) mac_line: usize,
    /// The exact bytes the MAC covers.
    pub(super) body: Vec<u8>,
}

/// Why a file is not a well-formed sealed file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatErrorKind {
    #[error("the line ends in CR LF; sealed files use LF line ends only")]
    CrLineEnd,
    #[error("duplicate secret {0:?}")]
    DuplicateName(String),
    #[error("the file is empty")]
    Empty,
    #[error("expected {0}")]
    Expected(&'static str),
    #[error("invalid base64 in the {0} field")]
    InvalidBase64(&'static str),
    #[error("invalid extension line")]
    InvalidExtension,
    #[error("invalid recipient: {0}")]
    InvalidRecipient(String),
    #[error("invalid scope: {0}")]
    InvalidScope(String),
    #[error("invalid secret name {0:?}")]
    InvalidName(String),
    #[error("invalid timestamp {0:?} (expected YYYY-MM-DDTHH:MM:SSZ)")]
    InvalidTimestamp(String),
    #[error("the mac is {0} bytes, expected 32")]
    InvalidMacLength(usize),
    #[error("line is longer than {} bytes", LINE_MAX_BYTES)]
    LineTooLong,
    #[error("duplicate recipient {0}")]
    DuplicateRecipient(String),
    #[error("not a kseal sealed file")]
    NotSealedFile,
    #[error("not valid UTF-8")]
    NotUtf8,
    #[error("secret {0:?} is out of order (names must be sorted)")]
    OutOfOrder(String),
    #[error("the file has no recipient")]
    NoRecipient,
    #[error("unexpected line after the mac line")]
    TrailingLine,
    #[error("the file ends in the middle of a line (truncated?)")]
    Truncated,
    #[error("the file ends before its mac line (truncated?)")]
    TruncatedBeforeMac,
    #[error("unknown line kind {0:?}")]
    UnknownLine(String),
    #[error("unsupported format version {0:?}; this kseal reads version {FORMAT_VERSION}")]
    UnsupportedVersion(String),
    #[error("sealed value of {0:?} is too short")]
    ValueTooShort(String),
}

/// A [`FormatErrorKind`] at a line (1-based; 0 for the whole file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    pub line: usize,
    pub kind: FormatErrorKind,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: {}", self.line, self.kind)
        } else {
            write!(f, "{}", self.kind)
        }
    }
}

impl std::error::Error for FormatError {}

impl FormatError {
    /// What the user can do about it.
    pub fn hint(&self, display_path: &str) -> String {
        match self.kind {
            FormatErrorKind::UnsupportedVersion(_) => {
                "the file was written by a different kseal version; upgrade kseal".to_owned()
            }
            // git's core.autocrlf (or an editor) converted the file.
            FormatErrorKind::CrLineEnd => format!(
                "add `{}/*.sealed -text` to .gitattributes so git keeps the file as kseal \
                 wrote it, then restore it (`git checkout -- {display_path}`)",
                super::STORE_DIR
            ),
            _ => format!(
                "sealed files are written by kseal only; restore this one from git \
                 (`git checkout -- {display_path}`) or a backup"
            ),
        }
    }
}

fn err<T>(line: usize, kind: FormatErrorKind) -> Result<T, FormatError> {
    Err(FormatError { line, kind })
}

impl SealedFile {
    /// Parses a sealed file's bytes. Checks structure only; see the module
    /// docs.
    pub fn parse(bytes: &[u8]) -> Result<SealedFile, FormatError> {
        if bytes.is_empty() {
            return err(0, FormatErrorKind::Empty);
        }
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let line = 1 + bytes[..e.valid_up_to()]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                return err(line, FormatErrorKind::NotUtf8);
            }
        };

        let mut lines = Lines::new(text);

        // Version line first: a reader must be able to tell a file from a
        // newer kseal before anything else.
        let (n, first) = lines.next_line()?.ok_or(FormatError {
            line: 1,
            kind: FormatErrorKind::Truncated,
        })?;
        let version = first
            .strip_prefix(MAGIC)
            .and_then(|rest| rest.strip_prefix(' '))
            .ok_or(FormatError {
                line: n,
                kind: FormatErrorKind::NotSealedFile,
            })?;
        if version != FORMAT_VERSION.to_string() {
            return err(n, FormatErrorKind::UnsupportedVersion(version.to_owned()));
        }

        let (n, line) = lines.expect_line("a `scope` line")?;
        let scope = line
            .strip_prefix("scope ")
            .ok_or(FormatError {
                line: n,
                kind: FormatErrorKind::Expected("a `scope` line"),
            })
            .and_then(|token| {
                Scope::from_token(token).map_err(|e| FormatError {
                    line: n,
                    kind: FormatErrorKind::InvalidScope(chain_text(&e)),
                })
            })?;

        let mut recipients: Vec<Recipient> = Vec::new();
        let (mut n, mut line) = lines.expect_line("a `recipient` line")?;
        while let Some(rest) = line.strip_prefix("recipient ") {
            let recipient = parse_recipient(n, rest)?;
            if recipients.iter().any(|r| r.key == recipient.key) {
                return err(
                    n,
                    FormatErrorKind::DuplicateRecipient(recipient.key.to_string()),
                );
            }
            recipients.push(recipient);
            (n, line) = lines.expect_line("a `datakey` line")?;
        }
        if recipients.is_empty() {
            return err(n, FormatErrorKind::NoRecipient);
        }

        let datakey_line = n;
        let wrapped_key = match line.strip_prefix("datakey ") {
            Some(data) => decode(n, data, "datakey")?,
            None => return err(n, FormatErrorKind::Expected("a `datakey` line")),
        };

        let mut extensions = Vec::new();
        let mut entries: Vec<SealedEntry> = Vec::new();
        loop {
            let body_end = lines.offset;
            let (n, line) = lines.next_line()?.ok_or(FormatError {
                line: lines.number + 1,
                kind: FormatErrorKind::TruncatedBeforeMac,
            })?;
            let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
            match kind {
                "ext" if entries.is_empty() => extensions.push(parse_extension(n, rest)?),
                "secret" => {
                    let entry = parse_entry(n, rest)?;
                    if let Some(prev) = entries.last() {
                        if prev.info.name == entry.info.name {
                            return err(n, FormatErrorKind::DuplicateName(entry.info.name));
                        }
                        if prev.info.name > entry.info.name {
                            return err(n, FormatErrorKind::OutOfOrder(entry.info.name));
                        }
                    }
                    entries.push(entry);
                }
                "mac" => {
                    let mac = decode(n, rest, "mac")?;
                    if mac.len() != super::mac::MAC_LEN_BYTES {
                        return err(n, FormatErrorKind::InvalidMacLength(mac.len()));
                    }
                    if let Some((extra, _)) = lines.next_line()? {
                        return err(extra, FormatErrorKind::TrailingLine);
                    }
                    return Ok(SealedFile {
                        scope,
                        recipients,
                        wrapped_key,
                        extensions,
                        entries,
                        mac,
                        datakey_line,
                        mac_line: n,
                        body: bytes[..body_end].to_vec(),
                    });
                }
                other => return err(n, FormatErrorKind::UnknownLine(other.to_owned())),
            }
        }
    }

    /// Reads and parses the file at `path`. Errors name the file (as
    /// `display`) and line, with a hint.
    pub fn read_path(path: &Path, display: &str) -> anyhow::Result<SealedFile> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read {display}"))
            .map_err(|e| {
                hint::attach(e, format!("check that you can read it: `ls -l {display}`"))
            })?;
        SealedFile::parse(&bytes).map_err(|e| located(e, display))
    }

    /// Reads the sealed file of `scope` under the app root, if it exists.
    /// A file whose `scope` line names another scope is refused: it was
    /// copied or renamed from elsewhere.
    pub fn load(root: &Path, scope: &Scope) -> anyhow::Result<Option<SealedFile>> {
        let path = scope.path(root);
        let display = scope.relative_path().display().to_string();
        match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot read {display}"))
                    .map_err(|e| {
                        hint::attach(e, format!("check that you can read it: `ls -l {display}`"))
                    });
            }
            Ok(_) => {}
        }
        let file = SealedFile::read_path(&path, &display)?;
        if &file.scope != scope {
            let e = anyhow::anyhow!(
                "{display}:2: the file holds the secrets of the {}, not of the {scope}",
                file.scope
            );
            return Err(hint::attach(
                e,
                format!(
                    "a sealed file cannot be moved to another destination; restore it \
                     with `git checkout -- {display}`"
                ),
            ));
        }
        Ok(Some(file))
    }

    /// The format version (always [`FORMAT_VERSION`] for a parsed file).
    pub fn version(&self) -> u32 {
        FORMAT_VERSION
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    pub fn recipients(&self) -> &[Recipient] {
        &self.recipients
    }

    /// The entries' names and timestamps, sorted by name.
    pub fn entries(&self) -> impl Iterator<Item = &EntryInfo> {
        self.entries.iter().map(|e| &e.info)
    }

    /// The entry for `name`, if the file has one.
    pub fn entry(&self, name: &str) -> Option<&EntryInfo> {
        self.entries
            .binary_search_by(|e| e.info.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.entries[i].info)
    }

    /// The `secret` lines as read, with their sealed bytes.
    pub fn sealed_entries(&self) -> &[SealedEntry] {
        &self.entries
    }

    /// The `ext` lines as read.
    pub fn extensions(&self) -> &[Extension] {
        &self.extensions
    }

    /// The wrapped data key: a binary age file.
    pub fn wrapped_key(&self) -> &[u8] {
        &self.wrapped_key
    }
}

/// Turns a parse error into an `anyhow` error naming `display:line`, with a
/// hint. The error kind stays in the chain for callers that downcast to
/// [`FormatErrorKind`]; the location is the context above it, so the chain
/// reads `display:line: kind` once.
pub fn located(e: FormatError, display: &str) -> anyhow::Error {
    let hint = e.hint(display);
    let location = if e.line > 0 {
        format!("{display}:{}", e.line)
    } else {
        display.to_owned()
    };
    hint::attach(anyhow::Error::new(e.kind).context(location), hint)
}

/// The messages of an error chain joined with ": ", without the empty links
/// a [`hint::Hint`] leaves, for embedding in another message.
fn chain_text(e: &anyhow::Error) -> String {
    let parts: Vec<String> = e
        .chain()
        .map(|cause| cause.to_string())
        .filter(|text| !text.is_empty())
        .collect();
    parts.join(": ")
}

/// Serialises a file body (everything the MAC covers).
pub(super) fn serialise_body(
    scope: &Scope,
    recipients: &[Recipient],
    wrapped_key: &[u8],
    extensions: &[Extension],
    entries: &[SealedEntry],
) -> Vec<u8> {
    let mut out = String::new();
    out.push_str(&format!("{MAGIC} {FORMAT_VERSION}\n"));
    out.push_str(&format!("scope {}\n", scope.token()));
    for r in recipients {
        if r.label.is_empty() {
            out.push_str(&format!("recipient {}\n", r.key));
        } else {
            out.push_str(&format!("recipient {} {}\n", r.key, r.label));
        }
    }
    out.push_str(&format!("datakey {}\n", BASE64.encode(wrapped_key)));
    for ext in extensions {
        out.push_str(&format!("ext {} {}\n", ext.name, ext.data));
    }
    for e in entries {
        out.push_str(&format!(
            "secret {} {} {} {}\n",
            e.info.name,
            format_time(e.info.created),
            format_time(e.info.changed),
            BASE64.encode(&e.sealed)
        ));
    }
    out.into_bytes()
}

/// Appends the `mac` line to a body.
pub(super) fn with_mac(mut body: Vec<u8>, mac: &[u8]) -> Vec<u8> {
    body.extend_from_slice(format!("mac {}\n", BASE64.encode(mac)).as_bytes());
    body
}

/// Checks a secret name: what Kamal's dotenv reader accepts as a key
/// (`[\w.]+` in the dotenv gem's `lib/dotenv/parser.rb`, with Ruby's ASCII
/// `\w`), at most [`NAME_MAX_BYTES`] bytes.
pub fn validate_name(name: &str) -> Result<(), FormatErrorKind> {
    let ok = !name.is_empty()
        && name.len() <= NAME_MAX_BYTES
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(FormatErrorKind::InvalidName(name.to_owned()))
    }
}

/// Checks a recipient label.
pub fn validate_label(label: &str) -> Result<(), String> {
    if label.len() > LABEL_MAX_BYTES {
        return Err(format!("label is longer than {LABEL_MAX_BYTES} bytes"));
    }
    if label.chars().any(char::is_control) {
        return Err("label contains a control character".to_owned());
    }
    if label.trim() != label {
        return Err("label starts or ends with whitespace".to_owned());
    }
    Ok(())
}

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_time(unix: i64) -> String {
    let time = UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64);
    humantime::format_rfc3339_seconds(time).to_string()
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` into Unix seconds.
pub fn parse_time(text: &str) -> Option<i64> {
    // humantime accepts fractional seconds too; the format does not.
    if text.len() != 20 || !text.ends_with('Z') {
        return None;
    }
    let time = humantime::parse_rfc3339(text).ok()?;
    let secs = time.duration_since(UNIX_EPOCH).ok()?.as_secs();
    i64::try_from(secs).ok()
}

/// The current time in Unix seconds.
pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn decode(line: usize, data: &str, field: &'static str) -> Result<Vec<u8>, FormatError> {
    BASE64.decode(data).map_err(|_| FormatError {
        line,
        kind: FormatErrorKind::InvalidBase64(field),
    })
}

fn parse_recipient(n: usize, rest: &str) -> Result<Recipient, FormatError> {
    let invalid = |why: String| FormatError {
        line: n,
        kind: FormatErrorKind::InvalidRecipient(why),
    };
    // An SSH key is two words (type and blob), an age key one.
    let words = if rest.starts_with("ssh-") { 2 } else { 1 };
    let mut split = rest.splitn(words + 1, ' ');
    let key_words: Vec<&str> = split.by_ref().take(words).collect();
    let label = split.next();
    let key_text = key_words.join(" ");
    let key = RecipientKey::from_str(&key_text).map_err(|e| invalid(chain_text(&e)))?;
    if key.as_str() != key_text {
        return Err(invalid(format!("{key_text:?} is not in canonical form")));
    }
    let label = match label {
        Some("") => return Err(invalid("empty label after a space".to_owned())),
        Some(label) => label,
        None => "",
    };
    validate_label(label).map_err(invalid)?;
    Ok(Recipient::new(key, label))
}

fn parse_extension(n: usize, rest: &str) -> Result<Extension, FormatError> {
    let invalid = FormatError {
        line: n,
        kind: FormatErrorKind::InvalidExtension,
    };
    let (name, data) = rest.split_once(' ').ok_or(invalid.clone())?;
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !name_ok || data.is_empty() || data.chars().any(char::is_control) {
        return Err(invalid);
    }
    Ok(Extension {
        name: name.to_owned(),
        data: data.to_owned(),
    })
}

fn parse_entry(n: usize, rest: &str) -> Result<SealedEntry, FormatError> {
    let fields: Vec<&str> = rest.split(' ').collect();
    let [name, created, changed, sealed] = fields[..] else {
        return err(
            n,
            FormatErrorKind::Expected("`secret NAME CREATED CHANGED VALUE`"),
        );
    };
    validate_name(name).map_err(|kind| FormatError { line: n, kind })?;
    let time = |text: &str| {
        parse_time(text).ok_or(FormatError {
            line: n,
            kind: FormatErrorKind::InvalidTimestamp(text.to_owned()),
        })
    };
    let created = time(created)?;
    let changed = time(changed)?;
    let sealed = decode(n, sealed, "value")?;
    if sealed.len() < super::aead::NONCE_LEN_BYTES + super::aead::TAG_LEN_BYTES {
        return err(n, FormatErrorKind::ValueTooShort(name.to_owned()));
    }
    Ok(SealedEntry {
        info: EntryInfo {
            name: name.to_owned(),
            created,
            changed,
        },
        sealed,
        line: n,
    })
}

/// Newline-terminated lines with their 1-based numbers and byte offsets.
struct Lines<'a> {
    text: &'a str,
    offset: usize,
    number: usize,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        Lines {
            text,
            offset: 0,
            number: 0,
        }
    }

    fn next_line(&mut self) -> Result<Option<(usize, &'a str)>, FormatError> {
        let rest = &self.text[self.offset..];
        if rest.is_empty() {
            return Ok(None);
        }
        self.number += 1;
        let Some(end) = rest.find('\n') else {
            if rest.len() > LINE_MAX_BYTES {
                return err(self.number, FormatErrorKind::LineTooLong);
            }
            return err(self.number, FormatErrorKind::Truncated);
        };
        if end > LINE_MAX_BYTES {
            return err(self.number, FormatErrorKind::LineTooLong);
        }
        // No valid line ends in CR, and taking it for part of the line
        // would give misleading errors (a version "1\r").
        if rest[..end].ends_with('\r') {
            return err(self.number, FormatErrorKind::CrLineEnd);
        }
        self.offset += end + 1;
        Ok(Some((self.number, &rest[..end])))
    }

    fn expect_line(&mut self, what: &'static str) -> Result<(usize, &'a str), FormatError> {
        let number = self.number + 1;
        self.next_line()?.ok_or(FormatError {
            line: number,
            kind: FormatErrorKind::Expected(what),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_dotenv_keys() {
        for ok in ["A", "DATABASE_URL", "a.b", "_x", "9LIVES"] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "A B", "A=B", "A-B", "É", "a/b", &"A".repeat(256)] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps_round_trip_and_are_strict() {
        let t = 1_764_792_786;
        let text = format_time(t);
        assert_eq!(text.len(), 20);
        assert_eq!(parse_time(&text), Some(t));
        assert_eq!(parse_time("2026-12-03T20:13:06.5Z"), None);
        assert_eq!(parse_time("2026-12-03 20:13:06Z"), None);
        assert_eq!(parse_time("2026-13-03T20:13:06Z"), None);
    }

    #[test]
    fn errors_carry_the_line() {
        let e = SealedFile::parse(b"kseal-store 1\nscope nowhere\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = SealedFile::parse(b"kseal-store 7\n").unwrap_err();
        assert_eq!(e.kind, FormatErrorKind::UnsupportedVersion("7".into()));
        let e = SealedFile::parse(b"kseal-store 1\nscope default").unwrap_err();
        assert_eq!(e.kind, FormatErrorKind::Truncated);
        let e = SealedFile::parse(b"kseal-store 1\n\xff\n").unwrap_err();
        assert_eq!((e.line, e.kind), (2, FormatErrorKind::NotUtf8));
        let e = SealedFile::parse(b"hello\n").unwrap_err();
        assert_eq!(e.kind, FormatErrorKind::NotSealedFile);
    }

    #[test]
    fn crlf_line_ends_are_named_as_such() {
        let e = SealedFile::parse(b"kseal-store 1\r\nscope default\r\n").unwrap_err();
        assert_eq!((e.line, e.kind.clone()), (1, FormatErrorKind::CrLineEnd));
        assert!(e.hint("f.sealed").contains(".gitattributes"));
    }

    fn chain(e: &anyhow::Error) -> Vec<String> {
        e.chain()
            .map(|cause| cause.to_string())
            .filter(|text| !text.is_empty())
            .collect()
    }

    #[test]
    fn located_errors_say_each_thing_once() {
        let e = SealedFile::parse(b"kseal-store 1\n\xff\n").unwrap_err();
        let err = located(e, "f.sealed");
        assert_eq!(chain(&err), ["f.sealed:2", "not valid UTF-8"]);
        assert!(hint::find(&err).is_some());
        assert_eq!(
            err.downcast_ref::<FormatErrorKind>(),
            Some(&FormatErrorKind::NotUtf8)
        );

        let err = located(SealedFile::parse(b"").unwrap_err(), "f.sealed");
        assert_eq!(chain(&err), ["f.sealed", "the file is empty"]);
    }

    #[test]
    fn nested_messages_carry_no_empty_hint_links() {
        let e = SealedFile::parse(b"kseal-store 1\nscope destination ../x\n").unwrap_err();
        let FormatErrorKind::InvalidScope(why) = e.kind else {
            panic!("{e:?}")
        };
        assert_eq!(why, "invalid destination name \"../x\"");

        let e =
            SealedFile::parse(b"kseal-store 1\nscope default\nrecipient age1nope\n").unwrap_err();
        let FormatErrorKind::InvalidRecipient(why) = e.kind else {
            panic!("{e:?}")
        };
        assert!(why.starts_with("invalid age recipient"), "{why}");
    }

    proptest::proptest! {
        // Fuzz-style: any bytes, and any line-level recombination of a real
        // file's lines, parse or fail with a located error; never a panic.
        #[test]
        fn any_bytes_parse_or_fail_cleanly(
            data in proptest::collection::vec(proptest::num::u8::ANY, 0..512)
        ) {
            if let Err(e) = SealedFile::parse(&data) {
                let lines = data.iter().filter(|&&b| b == b'\n').count() + 1;
                proptest::prop_assert!(e.line <= lines);
            }
        }

        #[test]
        fn shuffled_lines_of_a_real_file_never_panic(
            picks in proptest::collection::vec(0usize..8, 0..12)
        ) {
            let lines = [
                "kseal-store 1",
                "scope destination production",
                "recipient age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p alice",
                "datakey YWdlLWVuY3J5cHRpb24ub3JnL3YxCg==",
                "ext future-thing some-data",
                "secret A 2026-12-03T20:13:06Z 2026-12-03T20:13:06Z AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                "secret B 2026-12-03T20:13:06Z 2026-12-03T20:13:06Z AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                "mac AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            ];
            let mut text = String::new();
            for i in picks {
                text.push_str(lines[i]);
                text.push('\n');
            }
            let _ = SealedFile::parse(text.as_bytes());
        }
    }
}
