//! The redactor: a property test over the library, and `kseal redact`
//! through the real binary.
//!
//! The encodings here are written independently of kseal's own (from the
//! formats' definitions, or with serde_json and the base64 crate), so the
//! test catches a wrong encoder as well as a wrong search.

use std::io::Write;
use std::process::Stdio;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use kseal::redact::{PatternSet, Redactor};
use kseal::secret::SecretValue;
use proptest::prelude::*;

use crate::run::{CANARY, Store};

/// How a secret is written into the test text.
#[derive(Debug, Clone, Copy)]
enum Form {
    Raw,
    HexLower,
    HexUpper,
    Base64,
    Base64NoPad,
    Base64Url,
    Base64UrlNoPad,
    /// Inside a longer base64 run: `prefix` random bytes before the value
    /// and `suffix` after it, encoded together.
    Base64Run {
        prefix: usize,
        suffix: usize,
        url: bool,
    },
    Percent,
    Json,
    ShellSingle,
    ShellDouble,
    EnvFile,
}

fn form_strategy() -> impl Strategy<Value = Form> {
    prop_oneof![
        Just(Form::Raw),
        Just(Form::HexLower),
        Just(Form::HexUpper),
        Just(Form::Base64),
        Just(Form::Base64NoPad),
        Just(Form::Base64Url),
        Just(Form::Base64UrlNoPad),
        (0..7usize, 0..7usize, any::<bool>()).prop_map(|(prefix, suffix, url)| Form::Base64Run {
            prefix,
            suffix,
            url
        }),
        Just(Form::Percent),
        Just(Form::Json),
        Just(Form::ShellSingle),
        Just(Form::ShellDouble),
        Just(Form::EnvFile),
    ]
}

/// Secret values: text with the characters encoders care about, or raw
/// bytes.
fn value_strategy() -> impl Strategy<Value = Vec<u8>> {
    let text = proptest::collection::vec(
        prop_oneof![
            8 => proptest::char::range('a', 'z'),
            4 => proptest::char::range('0', '9'),
            4 => proptest::char::range('A', 'Z'),
            4 => proptest::sample::select(vec![
                ' ', '\n', '\t', '"', '\'', '\\', '$', '`', '%', '/', '+', '=', '#', '{', '}', '&',
                '@', 'é', '中', '😀', '\u{1}'
            ]),
        ],
        6..40,
    )
    .prop_map(|chars| chars.into_iter().collect::<String>().into_bytes());
    let bytes = proptest::collection::vec(any::<u8>(), 6..40);
    prop_oneof![3 => text, 1 => bytes]
}

fn hex(value: &[u8], upper: bool) -> Vec<u8> {
    value
        .iter()
        .map(|b| {
            if upper {
                format!("{b:02X}")
            } else {
                format!("{b:02x}")
            }
        })
        .collect::<String>()
        .into_bytes()
}

/// The base64 characters determined by the value alone when it starts
/// `offset` bytes into a group of three: the value covers bits
/// `8·offset .. 8·(offset+len)` and a character covers six of them.
fn core_range(offset: usize, len: usize) -> (usize, usize) {
    ((8 * offset).div_ceil(6), 8 * (offset + len) / 6)
}

/// The text to insert for `value` in `form`, and what the redactor must
/// turn it into. `None` when the form does not apply to the value.
fn insertion(value: &[u8], form: Form, marker: &[u8], noise: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let whole = |text: Vec<u8>| Some((text, marker.to_vec()));
    let text = std::str::from_utf8(value).ok();
    match form {
        Form::Raw => whole(value.to_vec()),
        Form::HexLower => whole(hex(value, false)),
        Form::HexUpper => whole(hex(value, true)),
        Form::Base64 => whole(STANDARD.encode(value).into_bytes()),
        Form::Base64NoPad => whole(STANDARD_NO_PAD.encode(value).into_bytes()),
        Form::Base64Url => whole(URL_SAFE.encode(value).into_bytes()),
        Form::Base64UrlNoPad => whole(URL_SAFE_NO_PAD.encode(value).into_bytes()),
        Form::Base64Run {
            prefix,
            suffix,
            url,
        } => {
            // Bytes after the value have their top bit set, so the character
            // that straddles the value's end never looks like the end of the
            // value's own unpadded encoding.
            let mut plain: Vec<u8> = noise.iter().cycle().take(prefix).copied().collect();
            plain.extend_from_slice(value);
            plain.extend(noise.iter().cycle().take(suffix).map(|b| b | 0x80));
            let engine = if url { &URL_SAFE } else { &STANDARD };
            let run = engine.encode(&plain).into_bytes();
            let (first, end) = core_range(prefix, value.len());
            let mut expected = run[..first].to_vec();
            expected.extend_from_slice(marker);
            // A value that starts a group of three and ends the run is its
            // own complete base64 encoding, padding and all.
            let ends_run = prefix % 3 == 0 && suffix == 0;
            if !ends_run {
                expected.extend_from_slice(&run[end..]);
            }
            Some((run, expected))
        }
        Form::Percent => {
            let mut out = Vec::new();
            for &b in value {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    out.push(b);
                } else {
                    out.extend_from_slice(format!("%{b:02X}").as_bytes());
                }
            }
            whole(out)
        }
        Form::Json => {
            let quoted = serde_json::to_string(text?).unwrap();
            whole(quoted.as_bytes()[1..quoted.len() - 1].to_vec())
        }
        Form::ShellSingle => whole(text?.replace('\'', r"'\''").into_bytes()),
        Form::ShellDouble => {
            let mut out = String::new();
            for c in text?.chars() {
                if matches!(c, '\\' | '"' | '$' | '`') {
                    out.push('\\');
                }
                out.push(c);
            }
            whole(out.into_bytes())
        }
        Form::EnvFile => whole(kseal::kamal::envfile::escape_value(text?).into_bytes()),
    }
}

/// Every form of `value` that must not survive redaction.
fn forbidden_forms(value: &[u8]) -> Vec<Vec<u8>> {
    let mut forms = vec![value.to_vec(), hex(value, false), hex(value, true)];
    for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
        for offset in 0..3 {
            let mut plain = vec![0u8; offset];
            plain.extend_from_slice(value);
            let run = engine.encode(&plain).into_bytes();
            let (first, end) = core_range(offset, value.len());
            forms.push(run[first..end].to_vec());
        }
    }
    forms
}

/// `text` with each run of one repeated marker written once.
fn collapse_markers(text: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(text.len());
    let mut last_marker: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < text.len() {
        if text[i..].starts_with(b"[kseal:S")
            && let Some(len) = text[i..].iter().position(|&b| b == b']')
        {
            let marker = &text[i..=i + len];
            let repeat = last_marker.is_some_and(|(s, e)| out.len() == e && &out[s..e] == marker);
            if !repeat {
                last_marker = Some((out.len(), out.len() + marker.len()));
                out.extend_from_slice(marker);
            }
            i += len + 1;
            continue;
        }
        out.push(text[i]);
        i += 1;
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Random secrets written into random bytes in every supported form,
    /// fed in random chunk sizes from one byte up: every form is masked and
    /// every other byte comes through unchanged.
    #[test]
    fn no_form_of_a_secret_survives_and_nothing_else_changes(
        values in proptest::collection::vec(value_strategy(), 1..5),
        pieces in proptest::collection::vec(
            (proptest::collection::vec(any::<u8>(), 0..40), any::<prop::sample::Index>(), form_strategy()),
            1..12,
        ),
        tail in proptest::collection::vec(any::<u8>(), 0..40),
        chunks in proptest::collection::vec(1..80usize, 1..20),
    ) {
        let secrets: Vec<(String, SecretValue)> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("S{i}"), SecretValue::new(v.clone())))
            .collect();
        let set = PatternSet::new(&secrets);

        // Keep the surrounding bytes from completing a longer form of a
        // secret, which is rightly masked whole: an unpadded base64 form
        // followed by `=` is the padded form, and a raw special character
        // after a backslash is its shell-escaped form.
        let unpad = |bytes: &Vec<u8>| -> Vec<u8> {
            bytes
                .iter()
                .map(|&b| if b == b'=' || b == b'\\' { b'.' } else { b })
                .collect()
        };
        let tail = unpad(&tail);
        let mut input = Vec::new();
        let mut expected = Vec::new();
        for (filler, which, form) in &pieces {
            let filler = &unpad(filler);
            input.extend_from_slice(filler);
            expected.extend_from_slice(filler);
            let secret = which.index(values.len());
            let marker = format!("[kseal:S{secret}]").into_bytes();
            let noise = if filler.is_empty() { &b"\x42"[..] } else { filler };
            if let Some((text, masked)) = insertion(&values[secret], *form, &marker, noise) {
                input.extend_from_slice(&text);
                expected.extend_from_slice(&masked);
            }
        }
        input.extend_from_slice(&tail);
        expected.extend_from_slice(&tail);

        let mut out = Vec::new();
        let mut redactor = Redactor::new(&set, &mut out);
        let mut rest = &input[..];
        for size in chunks.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (chunk, after) = rest.split_at((*size).min(rest.len()));
            redactor.write(chunk).unwrap();
            rest = after;
        }
        redactor.finish().unwrap();

        for value in &values {
            for form in forbidden_forms(value) {
                prop_assert!(!contains(&out, &form), "a form of a secret survived");
            }
        }
        // Forms of one secret written side by side can overlap (the raw
        // value's last `\\` and the next form's first byte make a shell-escaped
        // form): the redactor rightly masks them as one span.
        prop_assert_eq!(collapse_markers(&out), collapse_markers(&expected));
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn redact_masks_the_store_values_from_stdin() {
    let store = Store::new();
    store.set(Some("--shared"), "SHARED_TOKEN", b"shared-token-value");
    store.set(Some("production"), "DB_PASSWORD", CANARY.as_bytes());
    store.set(Some("production"), "PORT", b"5432");
    store.set(Some("production"), "APP_ENV", b"prod");

    let input = format!(
        "connect with {CANARY}\nauth {} and shared-token-value\nport 5432\n",
        STANDARD.encode(CANARY)
    );
    let mut child = store
        .kseal()
        .args(["redact", "-d", "production"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "connect with [kseal:DB_PASSWORD]\nauth [kseal:DB_PASSWORD] and [kseal:SHARED_TOKEN]\nport 5432\n"
    );
    let err = text(&out.stderr);
    assert_eq!(err.matches("warning").count(), 1, "{err}");
    assert!(err.contains("PORT") && err.contains("APP_ENV"), "{err}");
    assert!(!err.contains("5432") && !err.contains("prod\n"), "{err}");
}

#[test]
fn redact_without_a_store_passes_input_through() {
    let store = Store::new();
    let mut child = store
        .kseal()
        .arg("redact")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    let mut stdin = child.stdin.take().unwrap();
    let writer = {
        let input = input.clone();
        std::thread::spawn(move || stdin.write_all(&input).unwrap())
    };
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, input);
}
