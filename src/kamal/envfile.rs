//! The env files Kamal uploads to hosts
//! (`~/.kamal/apps/<service>[-<dest>]/env/roles/<role>.env`), encoded as
//! Kamal's `lib/kamal/env_file.rb` does: one `KEY=value` line per entry,
//! ASCII runs escaped with Ruby's `String#dump` (minus its quotes, with `\"`
//! and `\#` turned back into `"` and `#`), non-ASCII runs kept as they are,
//! and a lone `\n` for an empty file.
//!
//! The escaping is why a multi-line value reaches the container with a
//! literal backslash-n instead of a line break: Docker's env-file reader
//! does not unescape.

/// The env-file bytes for `entries`, in order.
pub fn encode<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (key, value) in entries {
        out.push_str(key);
        out.push('=');
        out.push_str(&escape_value(value));
        out.push('\n');
    }
    if out.is_empty() {
        out.push('\n');
    }
    out
}

/// One value, escaped as Kamal escapes it.
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut run = String::new();
    let mut ascii_run = true;
    for c in value.chars() {
        if c.is_ascii() != ascii_run && !run.is_empty() {
            flush(&mut out, &run, ascii_run);
            run.clear();
        }
        ascii_run = c.is_ascii();
        run.push(c);
    }
    if !run.is_empty() {
        flush(&mut out, &run, ascii_run);
    }
    out
}

/// Whether Kamal's encoding changes `value`: it then arrives in the
/// container different from what was written (a newline becomes `\n`).
pub fn is_altered(value: &str) -> bool {
    escape_value(value) != value
}

fn flush(out: &mut String, run: &str, ascii: bool) {
    if !ascii {
        out.push_str(run);
        return;
    }
    let dumped = ruby_dump(run);
    // `.gsub(/\\"/, "\"").gsub(/\\#/, "#")`, applied in that order.
    let dumped = dumped.replace("\\\"", "\"");
    out.push_str(&dumped.replace("\\#", "#"));
}

/// Ruby's `String#dump` of an ASCII string, without the surrounding quotes.
/// The redactor uses it too, for the way Kamal quotes values in commands.
pub(crate) fn ruby_dump(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x0C => out.push_str("\\f"),
            0x0B => out.push_str("\\v"),
            0x08 => out.push_str("\\b"),
            0x07 => out.push_str("\\a"),
            0x1B => out.push_str("\\e"),
            b'#' if matches!(bytes.get(i + 1), Some(b'$' | b'@' | b'{')) => out.push_str("\\#"),
            0x20..=0x7E => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newline_is_escaped_and_unicode_kept() {
        assert_eq!(escape_value("a\nb"), "a\\nb");
        assert_eq!(escape_value("中\n文"), "中\\n文");
        assert!(is_altered("a\nb"));
        assert!(!is_altered("plain #{x}"));
    }

    #[test]
    fn empty_file_is_one_newline() {
        assert_eq!(encode([]), "\n");
    }
}
