//! The detector engine: the table compiled once, then applied to byte
//! buffers.
//!
//! One Aho-Corasick automaton over every detector's keywords finds the few
//! places worth a closer look; each detector's regex then runs only on the
//! lines around its own keywords. Text is bytes throughout: no part assumes
//! UTF-8, so a binary-ish log or a Latin-1 file is scanned as it is.

use std::collections::HashMap;
use std::ops::Range;

use regex::bytes::{Regex, RegexBuilder};
use sha2::{Digest, Sha256};

use super::detectors::{self, DETECTORS, Detector, GENERIC};
use super::keywords::{Keywords, Occurrence};
use super::known::KnownValues;
use crate::check::secretish;

/// Bytes before a keyword a window may reach back on a very long line.
const WINDOW_BEFORE_BYTES: usize = 512;
/// Bytes after a keyword a window reaches on a very long line, or across
/// lines for a multi-line detector.
const WINDOW_AFTER_BYTES: usize = 16 * 1024;
/// The same for the generic rule, whose match holds its keyword in the
/// name: at most 61 bytes of name, the operator and 202 of value follow
/// the keyword, so 1 KiB leaves room for padding. Minified files have
/// lines of many KiB where a secret-ish word occurs every few hundred
/// bytes; confirming 16 KiB after each one was most of the scan's time.
const GENERIC_AFTER_BYTES: usize = 1024;

/// One secret found in a buffer.
#[derive(Debug, Clone)]
pub struct Hit {
    pub code: &'static str,
    /// Says what was found; never contains the value.
    pub message: String,
    /// Byte range of the secret in the buffer.
    pub start: usize,
    pub end: usize,
    /// A digest of the secret bytes, so that the same secret seen in two
    /// places (two versions of a file) can be recognised without keeping it.
    pub digest: [u8; 16],
}

struct Compiled {
    detector: &'static Detector,
    regex: Regex,
    allow: Vec<Regex>,
    path: Option<Regex>,
}

/// Every detector compiled, plus the known values, ready to scan buffers
/// from many threads at once.
pub struct Engine {
    compiled: Vec<Compiled>,
    /// Every keyword, ignoring ASCII case, so the buffer is read once.
    keywords: Keywords,
    /// For each keyword of the automaton, the detectors (indexes into
    /// `compiled`) that asked for it, each with the exact spelling it
    /// requires if it is case-sensitive.
    owners: Vec<Vec<Owner>>,
    global_allow: Vec<Regex>,
    known: Option<KnownValues>,
}

/// A detector that asked for a keyword.
struct Owner {
    detector: usize,
    /// The spelling a case-sensitive detector requires.
    exact: Option<&'static str>,
}

fn build_regex(pattern: &str) -> Regex {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(32 << 20)
        .build()
        .unwrap_or_else(|e| panic!("the detector pattern {pattern:?} is valid: {e}"))
}

impl Engine {
    /// Compiles the table. `known` holds the sealed values to look for.
    pub fn new(known: Option<KnownValues>) -> Engine {
        let mut compiled = Vec::new();
        for detector in DETECTORS.iter().chain(std::iter::once(&GENERIC)) {
            compiled.push(Compiled {
                detector,
                regex: build_regex(detector.pattern),
                allow: detector.allow.iter().map(|p| build_regex(p)).collect(),
                path: detector.path.map(build_regex),
            });
        }

        let mut words: Vec<String> = Vec::new();
        let mut owners: Vec<Vec<Owner>> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (i, c) in compiled.iter().enumerate() {
            for keyword in c.detector.keywords {
                let key = keyword.to_ascii_lowercase();
                let slot = *index.entry(key.clone()).or_insert_with(|| {
                    words.push(key);
                    owners.push(Vec::new());
                    owners.len() - 1
                });
                let exact = c.detector.case_sensitive.then_some(*keyword);
                if !owners[slot]
                    .iter()
                    .any(|o| o.detector == i && o.exact == exact)
                {
                    owners[slot].push(Owner { detector: i, exact });
                }
            }
        }
        let keywords = Keywords::new(&words);

        Engine {
            keywords,
            owners,
            compiled,
            global_allow: detectors::ALLOW_EVERYWHERE
                .iter()
                .map(|p| build_regex(p))
                .collect(),
            known,
        }
    }

    /// Every secret in `data`, a file at `path` (used by path-bound
    /// detectors), in order of position. Where two detectors find
    /// overlapping bytes, the known value wins, then the earlier detector.
    pub fn scan(&self, path: &str, data: &[u8]) -> Vec<Hit> {
        let mut hits: Vec<(usize, Hit)> = Vec::new();

        if let Some(known) = &self.known {
            for m in known.find_all(data) {
                hits.push((
                    0,
                    Hit {
                        code: detectors::KNOWN_VALUE_CODE,
                        message: format!(
                            "{} found{}",
                            known.name(m.secret),
                            super::known::phrase(m.encoding)
                        ),
                        start: m.start,
                        end: m.end,
                        digest: digest(&data[m.start..m.end]),
                    },
                ));
            }
        }

        // Windows to confirm, per detector: merged byte ranges.
        let mut windows: Vec<Vec<(usize, usize)>> = vec![Vec::new(); self.compiled.len()];
        let mut found: Vec<Occurrence> = Vec::new();
        self.keywords.find_all(data, &mut found);
        for m in found {
            let spelled = &data[m.start..m.end];
            for owner in &self.owners[m.keyword] {
                if owner.exact.is_some_and(|word| word.as_bytes() != spelled) {
                    continue;
                }
                let d = owner.detector;
                let detector = self.compiled[d].detector;
                let reach = if std::ptr::eq(detector, &GENERIC) {
                    GENERIC_AFTER_BYTES
                } else {
                    WINDOW_AFTER_BYTES
                };
                let (start, end) = window(data, m.start, detector.multiline, reach);
                let list = &mut windows[d];
                match list.last_mut() {
                    Some(last) if start <= last.1 => {
                        last.0 = last.0.min(start);
                        last.1 = last.1.max(end);
                    }
                    _ => list.push((start, end)),
                }
            }
        }
        for (i, c) in self.compiled.iter().enumerate() {
            if let Some(path_regex) = &c.path
                && path_regex.is_match(path.as_bytes())
                && c.detector.keywords.is_empty()
            {
                windows[i].push((0, data.len()));
            }
        }

        for (i, c) in self.compiled.iter().enumerate() {
            if let Some(path_regex) = &c.path
                && !path_regex.is_match(path.as_bytes())
            {
                continue;
            }
            for &(start, end) in &windows[i] {
                self.confirm(i, c, data, start, end, &mut hits);
            }
        }

        // Known values first, then table order; drop what overlaps a hit
        // already kept.
        hits.sort_by_key(|(rank, h)| (*rank, h.start));
        let mut kept: Vec<Hit> = Vec::new();
        for (_, hit) in hits {
            if !kept.iter().any(|k| hit.start < k.end && k.start < hit.end) {
                kept.push(hit);
            }
        }
        kept.sort_by_key(|h| (h.start, h.end));
        kept
    }

    fn confirm(
        &self,
        rank: usize,
        c: &Compiled,
        data: &[u8],
        start: usize,
        end: usize,
        hits: &mut Vec<(usize, Hit)>,
    ) {
        let window = &data[start..end];
        let generic = std::ptr::eq(c.detector, &GENERIC);
        for caps in c.regex.captures_iter(window) {
            let group = caps
                .name("s")
                .or_else(|| caps.name("q"))
                .unwrap_or_else(|| caps.get(0).expect("group 0 is the match"));
            let mut range = group.range();
            if generic && range.len() > detectors::GENERIC_MAX_VALUE {
                if caps.name("q").is_some() {
                    continue;
                }
                range.end = range.start + detectors::GENERIC_MAX_VALUE;
            }
            let secret = &window[range.clone()];
            if !c.detector.entropy.passes(secret) {
                continue;
            }
            if c.allow.iter().any(|a| a.is_match(secret))
                || self.global_allow.iter().any(|a| a.is_match(secret))
            {
                continue;
            }
            let message = if generic {
                let Some(name) = caps
                    .name("name")
                    .and_then(|m| generic_name(window, m.range()))
                else {
                    continue;
                };
                // A name that continues a path (`src/api_key.rs`) is a file.
                if name.start > 0 && matches!(window[name.start - 1], b'/' | b'\\') {
                    continue;
                }
                let name = String::from_utf8_lossy(&window[name]);
                // An unquoted value followed by a call, an index, a path or
                // an assignment is an expression or a type, not a literal.
                let next = window[range.end..]
                    .iter()
                    .find(|b| !matches!(b, b' ' | b'\t'));
                let expression =
                    caps.name("s").is_some() && next.is_some_and(|b| b"(=.[{<:)&|+*/-".contains(b));
                if expression || !generic_accepts(&name, secret) {
                    continue;
                }
                format!("`{name}` is assigned a random-looking literal")
            } else {
                format!("{} found", c.detector.summary)
            };
            hits.push((
                rank + 1,
                Hit {
                    code: c.detector.code,
                    message,
                    start: start + range.start,
                    end: start + range.end,
                    digest: digest(secret),
                },
            ));
        }
    }
}

/// The generic rule's name within `name`, the identifier before the
/// operator: a longer one than [`detectors::GENERIC_MAX_NAME`] is cut to its
/// last bytes, starting at a letter or `_`. None if no such start is left.
fn generic_name(window: &[u8], name: Range<usize>) -> Option<Range<usize>> {
    let floor = name
        .end
        .saturating_sub(detectors::GENERIC_MAX_NAME)
        .max(name.start);
    let start =
        (floor..name.end).find(|&i| window[i].is_ascii_alphabetic() || window[i] == b'_')?;
    Some(start..name.end)
}

/// The generic rule's judgement beyond its regex: the name must say secret,
/// and the value must be a literal that is not a placeholder, a reference
/// or an expression.
fn generic_accepts(name: &str, value: &[u8]) -> bool {
    let Ok(value) = std::str::from_utf8(value) else {
        return false;
    };
    // `config.api_token`, `"db.password"`: the last part is the name;
    // `private_key_info.rs` is a file name.
    let name = name.rsplit('.').next().unwrap_or(name);
    if !secretish::name_is_secret(name) || secretish::is_placeholder(value) {
        return false;
    }
    // Expressions and references: a call, an index, a template, a lookup.
    if value.contains(['(', ')', '[', ']', '{', '}', '<', '>', '$', ' ']) {
        return false;
    }
    // Dotted identifiers (`config.secret_key`, `settings.API_TOKEN`) are
    // code, not values.
    let dotted = value.split('.').count() > 1
        && value
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        && value.bytes().any(|b| b.is_ascii_lowercase())
        && !value.bytes().any(|b| b.is_ascii_digit());
    if dotted {
        return false;
    }
    // A path or key of lowercase segments (`views/products/index-2026`) is
    // a name, not a value.
    if value.contains('/')
        && value
            .bytes()
            .all(|b| !b.is_ascii_uppercase() && !b"+=".contains(&b))
    {
        return false;
    }
    // Identifiers: `SOME_CONSTANT_NAME`, `snake_case_name`, and words run
    // together (`CamelCaseTypeName`), which change between upper case,
    // lower case and digits far less often than a random string does
    // (about every second character in random base62).
    let snake = value.contains('_')
        && value.split('_').all(|p| {
            !p.is_empty()
                && (p
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                    || p.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        });
    if snake || class_changes(value) * 4 < value.len() {
        return false;
    }
    // A random secret mixes character classes; an identifier like
    // `SOME_SETTING_NAME` or `some-kebab-name` does not.
    let lower = value.bytes().any(|b| b.is_ascii_lowercase());
    let upper = value.bytes().any(|b| b.is_ascii_uppercase());
    let digit = value.bytes().any(|b| b.is_ascii_digit());
    let hex = value.bytes().all(|b| b.is_ascii_hexdigit());
    if hex {
        return value.len() >= 16 && digit;
    }
    value.len() >= 12 && digit && (lower || upper) && !(value.len() < 20 && !(lower && upper))
}

/// How often adjacent characters change class (upper, lower, digit,
/// other).
fn class_changes(value: &str) -> usize {
    let class = |b: u8| match b {
        b'A'..=b'Z' => 0,
        b'a'..=b'z' => 1,
        b'0'..=b'9' => 2,
        _ => 3,
    };
    value
        .as_bytes()
        .windows(2)
        .filter(|w| class(w[0]) != class(w[1]))
        .count()
}

/// The range of `data` to confirm a keyword found at `at`: its line, cut
/// to `reach` bytes after it on a very long line; a multi-line detector
/// reaches on for `reach` bytes across lines.
fn window(data: &[u8], at: usize, multiline: bool, reach: usize) -> (usize, usize) {
    let floor = at.saturating_sub(WINDOW_BEFORE_BYTES);
    let line_start = memchr::memrchr(b'\n', &data[floor..at]).map_or(floor, |i| floor + i + 1);
    let ceiling = (at + reach).min(data.len());
    if multiline {
        return (line_start, ceiling);
    }
    let line_end = memchr::memchr(b'\n', &data[at..ceiling]).map_or(ceiling, |i| at + i);
    (line_start, line_end)
}

fn digest(bytes: &[u8]) -> [u8; 16] {
    let full = Sha256::digest(bytes);
    let mut out = [0; 16];
    out.copy_from_slice(&full[..16]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str) -> Vec<&'static str> {
        Engine::new(None)
            .scan("x", text.as_bytes())
            .iter()
            .map(|h| h.code)
            .collect()
    }

    #[test]
    fn rails_key_in_generic_and_specific_rules() {
        assert_eq!(
            codes("RAILS_MASTER_KEY=9f2c4e1a7b3d5f60a8c2e4f6b1d3f5a7\n"),
            ["KS649"]
        );
        assert_eq!(
            codes("SIGNING_KEY=\"9f2c4e1a7b3d5f60a8c2e4f6b1d3f5a7\"\n"),
            ["KS602"]
        );
    }

    #[test]
    fn references_are_not_findings() {
        for text in [
            "DB_PASSWORD=$DB_PASSWORD",
            "DB_PASSWORD=${DB_PASSWORD}",
            "DB_PASSWORD=$(kamal secrets extract DB_PASSWORD $SECRETS)",
            "DB_PASSWORD=op://vault/item/password",
            "password: <%= ENV['DB_PASSWORD'] %>",
            "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
            "token = params[:token]",
            "api_key: changeme",
        ] {
            assert!(codes(text).is_empty(), "{text}: {:?}", codes(text));
        }
    }

    #[test]
    fn generic_secret_deep_in_a_minified_line_is_found() {
        // One line of 24 KiB where a secret-ish word occurs every few
        // bytes, the secret at its end.
        let mut text = "{".to_string();
        for i in 0..1000 {
            text.push_str(&format!("\"token_{i}\":\"abc\","));
        }
        text.push_str("\"api_token\":\"9fK2xQ7mZp4LwR8tYb3NcV6h\"}\n");
        assert!(text.len() > 16 * 1024);
        assert_eq!(codes(&text), ["KS602"]);
    }

    /// `len` letters and digits from a fixed pseudo-random sequence.
    fn random_alnum(len: usize) -> String {
        let set = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                set[(x % set.len() as u64) as usize] as char
            })
            .collect()
    }

    #[test]
    fn generic_rule_holds_name_and_value_to_their_limits() {
        let engine = Engine::new(None);
        let long_name = format!("{}_api_token", "a".repeat(80));
        let text = format!("{long_name} = \"{}\"\n", random_alnum(24));
        let hits = engine.scan("x", text.as_bytes());
        let kept = &long_name[long_name.len() - detectors::GENERIC_MAX_NAME..];
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(
            hits[0].message,
            format!("`{kept}` is assigned a random-looking literal")
        );

        let quoted = format!("api_token = \"{}\"\n", random_alnum(250));
        assert!(engine.scan("x", quoted.as_bytes()).is_empty());

        let bare = format!("api_token = {}\n", random_alnum(250));
        let hits = engine.scan("x", bare.as_bytes());
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].end - hits[0].start, detectors::GENERIC_MAX_VALUE);
        assert_eq!(hits[0].start, "api_token = ".len());
    }

    #[test]
    fn a_secret_split_by_a_window_edge_is_still_found() {
        let mut text = "x".repeat(20_000);
        text.push_str(" ghp_0123456789abcdefghijklmnopqrstuvwxyZ ");
        assert_eq!(codes(&text), ["KS612"]);
    }
}
