//! The forms in which a secret value shows up in output: the value itself
//! and the encodings that tools apply to it before printing.
//!
//! Each function returns the bytes that stand for the value in that form.
//! Where an encoding wraps the value in quotes, the quotes are left out: the
//! redactor masks what is between them.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

use super::Encoding;

/// Every form of `value`, each with the encoding it belongs to. Forms may
/// repeat (most values look the same quoted and unquoted); the caller
/// removes duplicates.
pub fn forms(value: &[u8]) -> Vec<(Encoding, Vec<u8>)> {
    let mut forms = vec![(Encoding::Raw, value.to_vec())];
    if value.contains(&b'\n') {
        // A terminal turns each line feed a program writes into CR LF
        // (`onlcr`), so a multi-line value printed on one arrives so.
        forms.push((Encoding::Raw, crlf(value)));
    }

    forms.push((Encoding::Hex, hex(value, b"0123456789abcdef")));
    forms.push((Encoding::Hex, hex(value, b"0123456789ABCDEF")));

    for (encoding, padded, unpadded) in [
        (Encoding::Base64, &STANDARD, &STANDARD_NO_PAD),
        (Encoding::Base64Url, &URL_SAFE, &URL_SAFE_NO_PAD),
    ] {
        forms.push((encoding, padded.encode(value).into_bytes()));
        forms.push((encoding, unpadded.encode(value).into_bytes()));
        for offset in 0..3 {
            forms.push((encoding, base64_core(value, offset, unpadded)));
        }
    }

    forms.push((
        Encoding::Percent,
        percent(value, b"0123456789ABCDEF", false),
    ));
    forms.push((
        Encoding::Percent,
        percent(value, b"0123456789abcdef", false),
    ));
    forms.push((Encoding::Percent, percent(value, b"0123456789ABCDEF", true)));

    forms.push((Encoding::ShellSingle, shell_single(value)));
    forms.push((Encoding::ShellDouble, shell_double(value)));
    forms.push((Encoding::ShellDouble, sshkit_double(value)));
    forms.push((Encoding::ShellEscaped, shell_escaped(value)));

    if let Ok(text) = std::str::from_utf8(value) {
        forms.push((Encoding::Json, json(text, false)));
        forms.push((Encoding::Json, json(text, true)));
        forms.push((Encoding::ShellDouble, kamal_shell_value(text)));
        forms.push((
            Encoding::EnvFile,
            crate::kamal::envfile::escape_value(text).into_bytes(),
        ));
    }
    forms
}

/// `value` with every LF that is not already after a CR preceded by one.
fn crlf(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 8);
    for (i, &b) in value.iter().enumerate() {
        if b == b'\n' && (i == 0 || value[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// Hexadecimal with the given digits.
fn hex(value: &[u8], digits: &[u8; 16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() * 2);
    for &b in value {
        out.push(digits[usize::from(b >> 4)]);
        out.push(digits[usize::from(b & 15)]);
    }
    out
}

/// The base64 characters that `value` alone determines when it starts
/// `offset` bytes (0, 1 or 2) into a group of three inside a longer base64
/// run.
///
/// Base64 turns every 3 bytes into 4 characters of 6 bits. A character
/// whose 6 bits all come from the value is the same whatever surrounds the
/// value; one that straddles the value's edge depends on its neighbours and
/// is left out. So the value spans bits `8·offset .. 8·(offset+len)` and the
/// characters fully inside are those from `ceil(8·offset/6)` up to
/// `floor(8·(offset+len)/6)`.
pub fn base64_core(
    value: &[u8],
    offset: usize,
    engine: &base64::engine::GeneralPurpose,
) -> Vec<u8> {
    let mut padded = vec![0u8; offset];
    padded.extend_from_slice(value);
    let encoded = engine.encode(&padded).into_bytes();
    let first = (8 * offset).div_ceil(6);
    let end = (8 * (offset + value.len())) / 6;
    if first >= end {
        return Vec::new();
    }
    encoded[first..end].to_vec()
}

/// Percent-encoding of every byte outside RFC 3986's unreserved set
/// (`A-Z a-z 0-9 - . _ ~`); with `plus_for_space`, a space is `+` as in
/// HTML form encoding.
fn percent(value: &[u8], digits: &[u8; 16], plus_for_space: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    for &b in value {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b);
        } else if b == b' ' && plus_for_space {
            out.push(b'+');
        } else {
            out.extend_from_slice(&[
                b'%',
                digits[usize::from(b >> 4)],
                digits[usize::from(b & 15)],
            ]);
        }
    }
    out
}

/// The inside of a JSON string. `ascii_only` writes every non-ASCII
/// character as `\uXXXX` (with surrogate pairs), as Python's `json.dumps`
/// does by default; otherwise only what JSON requires is escaped.
fn json(text: &str, ascii_only: bool) -> Vec<u8> {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if ascii_only && !c.is_ascii() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.into_bytes()
}

/// Inside POSIX single quotes: each `'` becomes `'\''`.
fn shell_single(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    for &b in value {
        if b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(b);
        }
    }
    out
}

/// Inside POSIX double quotes: `\`, `"`, `$` and `` ` `` take a backslash.
fn shell_double(value: &[u8]) -> Vec<u8> {
    backslash_before(value, |b| matches!(b, b'\\' | b'"' | b'$' | b'`'))
}

/// SSHKit's environment prefix (`export NAME="value"`), which escapes only
/// the double quote.
fn sshkit_double(value: &[u8]) -> Vec<u8> {
    backslash_before(value, |b| b == b'"')
}

/// Ruby's `Shellwords.escape`, which Kamal applies to command arguments: a
/// backslash before every byte outside `A-Za-z0-9_-.,:+/@` and a newline
/// written as `'\n'`. A multi-byte character gets one backslash before it.
fn shell_escaped(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() * 2);
    let mut continuation = false;
    for &b in value {
        let plain = b.is_ascii_alphanumeric() || b"_-.,:+/@".contains(&b);
        if b == b'\n' {
            out.extend_from_slice(b"'\n'");
        } else if plain || (continuation && (b & 0xC0) == 0x80) {
            out.push(b);
        } else {
            out.push(b'\\');
            out.push(b);
        }
        continuation = b >= 0xC0 || (continuation && (b & 0xC0) == 0x80);
    }
    out
}

fn backslash_before(value: &[u8], special: impl Fn(u8) -> bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    for &b in value {
        if special(b) {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

/// Kamal's `escape_shell_value`: each ASCII run goes through Ruby's
/// `String#dump` (a double-quoted string), with `` ` `` and a `$` that does
/// not start `${…}` escaped; non-ASCII runs stay as they are between the
/// quoted runs. The outer quotes are left out.
fn kamal_shell_value(text: &str) -> Vec<u8> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut first = true;
    while !rest.is_empty() {
        let ascii = rest.as_bytes()[0].is_ascii();
        let len = rest
            .char_indices()
            .find(|(_, c)| c.is_ascii() != ascii)
            .map_or(rest.len(), |(i, _)| i);
        let (run, tail) = rest.split_at(len);
        if ascii {
            if !first {
                out.push('"');
            }
            out.push_str(&escape_dollars(
                &crate::kamal::envfile::ruby_dump(run).replace('`', "\\`"),
            ));
            if !tail.is_empty() {
                out.push('"');
            }
        } else {
            out.push_str(run);
        }
        first = false;
        rest = tail;
    }
    out.into_bytes()
}

/// `$` gets a backslash unless it begins `${…}` (Kamal leaves those for the
/// remote shell to expand).
fn escape_dollars(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        if c == '$' {
            let rest = &s[i + 1..];
            let expands = rest.starts_with('{') && rest.contains('}');
            if !expands {
                out.push('\\');
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(value: &[u8], encoding: Encoding, form: &[u8]) -> bool {
        forms(value)
            .iter()
            .any(|(e, f)| *e == encoding && f == form)
    }

    #[test]
    fn base64_cores_are_found_inside_longer_runs() {
        let value = b"s3cret-value!";
        for offset in 0..3 {
            for after in 0..3 {
                let mut text = vec![0xA5u8; offset];
                text.extend_from_slice(value);
                text.extend(std::iter::repeat_n(0x5Au8, after));
                let run = STANDARD.encode(&text);
                let core = base64_core(value, offset, &STANDARD_NO_PAD);
                assert!(core.len() >= 15, "{offset}: {core:?}");
                let core = String::from_utf8(core).unwrap();
                assert!(run.contains(&core), "{offset}/{after}: {core} in {run}");
            }
        }
    }

    #[test]
    fn quoting_forms_match_what_tools_print() {
        assert!(has(b"it's", Encoding::ShellSingle, b"it'\\''s"));
        assert!(has(b"a\"$b`", Encoding::ShellDouble, b"a\\\"\\$b\\`"));
        assert!(has(b"a\"$b", Encoding::ShellDouble, b"a\\\"$b"));
        assert!(has(b"a b\nc", Encoding::ShellEscaped, b"a\\ b'\n'c"));
        assert!(has(
            "pä ss".as_bytes(),
            Encoding::ShellEscaped,
            "p\\ä\\ ss".as_bytes()
        ));
        assert!(has(b"x$y${Z}\n", Encoding::ShellDouble, b"x\\$y${Z}\\n"));
        assert!(has(
            "aé\"b".as_bytes(),
            Encoding::ShellDouble,
            "a\"é\"\\\"b".as_bytes()
        ));
        assert!(has(b"a\nb\\", Encoding::EnvFile, b"a\\nb\\\\"));
        assert!(has(b"l1\nl2\r\nl3", Encoding::Raw, b"l1\r\nl2\r\nl3"));
    }

    #[test]
    fn url_json_and_hex_forms() {
        assert!(has(b"p@ss w/rd", Encoding::Percent, b"p%40ss%20w%2Frd"));
        assert!(has(b"p@ss w/rd", Encoding::Percent, b"p%40ss+w%2Frd"));
        assert!(has(b"p@ss w/rd", Encoding::Percent, b"p%40ss%20w%2frd"));
        assert!(has(
            "é\"\n".as_bytes(),
            Encoding::Json,
            "é\\\"\\n".as_bytes()
        ));
        assert!(has(
            "é😀".as_bytes(),
            Encoding::Json,
            b"\\u00e9\\ud83d\\ude00"
        ));
        assert!(has(b"\x01\xff", Encoding::Hex, b"01ff"));
        assert!(has(b"\x01\xff", Encoding::Hex, b"01FF"));
    }
}
