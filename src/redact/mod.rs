//! The streaming redactor: replaces every occurrence of every secret value,
//! and of its encoded forms, with a marker that names the secret, such as
//! `[kseal:DB_PASSWORD]`.
//!
//! Two parts, as in a search tool: [`PatternSet`] compiles every form of
//! every value (see [`encode`]) into one Aho-Corasick automaton and finds
//! occurrences in a byte slice; [`Redactor`] feeds a stream through it in
//! chunks and writes the masked stream out.
//!
//! ```
//! use kseal::redact::{PatternSet, Redactor};
//! use kseal::secret::SecretValue;
//!
//! let secrets = vec![("TOKEN".to_owned(), SecretValue::new(b"hunter2-hunter2".to_vec()))];
//! let set = PatternSet::new(&secrets);
//! let mut out = Vec::new();
//! let mut redactor = Redactor::new(&set, &mut out);
//! redactor.write(b"token=hunt")?;
//! redactor.write(b"er2-hunter2 (aHVudGVyMi1odW50ZXIy)\n")?;
//! redactor.finish()?;
//! assert_eq!(out, b"token=[kseal:TOKEN] ([kseal:TOKEN])\n");
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Streaming rules
//!
//! - The longest match wins among those that start at the same byte, the
//!   leftmost among those that overlap; a match that overlaps the end of
//!   another extends the masked span, and the marker then names both.
//! - A byte is written as soon as no pattern that could still complete
//!   starts at or before it, so output that cannot begin a secret (a prompt
//!   without a newline) goes out at once. At most the longest pattern's
//!   length minus one is held back, whatever the input size.
//! - [`Redactor::flush_held`] writes the held bytes when the stream goes
//!   quiet. If the stream later completes a secret that began in bytes
//!   already written, the rest of it is still replaced by the marker.
//! - Input is bytes: no UTF-8 is assumed anywhere.

use std::io::{self, Write};

use aho_corasick::automaton::Automaton;
use aho_corasick::nfa::contiguous::NFA;
use aho_corasick::{Anchored, Input, MatchKind};
use zeroize::Zeroizing;

use crate::secret::SecretValue;

pub mod encode;
pub mod pump;

/// Values shorter than this are not redacted: they would match all over
/// ordinary output (`true`, a port number) and hide more than they protect.
pub const MIN_VALUE_LEN_BYTES: usize = 6;

/// Values longer than this are masked piece by piece, each line (cut to at
/// most this length) as it is, without encoded forms: every form of a
/// megabyte-long value would make an automaton of hundreds of megabytes.
pub const LONG_VALUE_BYTES: usize = 8 * 1024;

/// Length of the byte grams the prefilter hashes. Every pattern is at least
/// [`MIN_VALUE_LEN_BYTES`] long, so it holds at least three of them.
const GRAM_LEN_BYTES: usize = 4;

/// The prefilter's bitmap has `2^GRAM_HASH_BITS` bits (256 KiB): with a few
/// tens of thousands of grams set, about one position in a hundred is a
/// false candidate.
const GRAM_HASH_BITS: u32 = 21;

/// The form in which a secret value appeared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Encoding {
    /// Standard base64, padded or not, at any alignment in a longer run.
    Base64,
    /// URL-safe base64 (`-` and `_`), padded or not, at any alignment.
    Base64Url,
    /// Kamal's env-file escaping (`\n`, `\\`, …).
    EnvFile,
    /// Lower- or upper-case hexadecimal.
    Hex,
    /// Inside a JSON string.
    Json,
    /// URL percent-encoding.
    Percent,
    /// The value itself.
    Raw,
    /// Inside double quotes, as a POSIX shell, SSHKit or Kamal writes it.
    ShellDouble,
    /// Backslash-escaped as Ruby's `Shellwords.escape` writes it.
    ShellEscaped,
    /// Inside POSIX single quotes.
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

/// What a pattern stands for.
#[derive(Debug, Clone, Copy)]
struct Pattern {
    secret: usize,
    encoding: Encoding,
}

/// Every supported encoding of a set of named values, compiled for search.
pub struct PatternSet {
    /// Leftmost-longest automaton over every form of every value.
    nfa: Option<NFA>,
    /// By pattern id.
    patterns: Vec<Pattern>,
    /// By secret index: the marker that replaces it.
    markers: Vec<Vec<u8>>,
    /// Length of the longest pattern; 0 when there is none.
    max_len: usize,
    /// Candidate filter in front of the automaton, see [`GramFilter`].
    filter: GramFilter,
    /// Names whose values are too short to redact.
    too_short: Vec<String>,
}

impl PatternSet {
    /// Builds the set. Values shorter than [`MIN_VALUE_LEN_BYTES`] are left
    /// out (they would match everywhere); [`PatternSet::too_short`] names
    /// them. When two secrets share a form, the first one's name is used.
    pub fn new(secrets: &[(String, SecretValue)]) -> PatternSet {
        let mut seen = std::collections::HashSet::new();
        let mut forms: Vec<Vec<u8>> = Vec::new();
        let mut patterns = Vec::new();
        let mut too_short = Vec::new();
        for (secret, (name, value)) in secrets.iter().enumerate() {
            if value.len() < MIN_VALUE_LEN_BYTES {
                too_short.push(name.clone());
                continue;
            }
            for (encoding, form) in forms_of(value.expose()) {
                if form.len() < MIN_VALUE_LEN_BYTES || !seen.insert(form.clone()) {
                    continue;
                }
                forms.push(form);
                patterns.push(Pattern { secret, encoding });
            }
        }
        let max_len = forms.iter().map(Vec::len).max().unwrap_or(0);
        let nfa = (!forms.is_empty()).then(|| {
            NFA::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .prefilter(false)
                .build(&forms)
                .expect("an Aho-Corasick automaton over byte patterns always builds")
        });
        let filter = GramFilter::new(&forms);
        // The forms are secret-derived; wipe the build copies.
        for mut form in forms.into_iter().chain(seen.drain()) {
            zeroize::Zeroize::zeroize(&mut form);
        }
        let markers = secrets
            .iter()
            .map(|(name, _)| format!("[kseal:{name}]").into_bytes())
            .collect();
        PatternSet {
            nfa,
            patterns,
            markers,
            max_len,
            filter,
            too_short,
        }
    }

    /// Names of the secrets whose values are too short to be redacted.
    pub fn too_short(&self) -> &[String] {
        &self.too_short
    }

    /// Number of patterns (every distinct form of every value).
    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Length of the longest pattern, in bytes: a redactor holds back at
    /// most one byte less than this.
    pub fn max_len_bytes(&self) -> usize {
        self.max_len
    }

    /// Every non-overlapping occurrence in `haystack`, leftmost first and
    /// the longest where two start at the same byte.
    pub fn find_all(&self, haystack: &[u8]) -> Vec<Match> {
        let mut found = Vec::new();
        let mut pos = 0;
        while let Some(m) = self.find(haystack, pos, haystack.len()) {
            let pattern = self.patterns[m.pattern().as_usize()];
            found.push(Match {
                start: m.start(),
                end: m.end(),
                secret: pattern.secret,
                encoding: pattern.encoding,
            });
            pos = m.end();
        }
        found
    }

    /// The leftmost-longest match within `haystack[from..to]`: the first
    /// candidate start the gram filter lets through at which an anchored
    /// search finds a match, with the longest pattern matching there.
    fn find(&self, haystack: &[u8], from: usize, to: usize) -> Option<aho_corasick::Match> {
        let nfa = self.nfa.as_ref()?;
        let verify = |start: usize| {
            let input = Input::new(haystack).span(start..to).anchored(Anchored::Yes);
            nfa.try_find(&input)
                .expect("a contiguous NFA supports anchored search")
        };
        self.filter.candidates(haystack, from, to, verify)
    }

    /// Whether `haystack[at..]` is the start of a pattern that more input
    /// could still complete or lengthen: an anchored walk from `at` reaches
    /// the end of the haystack without dying.
    fn open_at(&self, haystack: &[u8], at: usize) -> bool {
        let Some(nfa) = &self.nfa else { return false };
        if haystack.len() - at >= GRAM_LEN_BYTES && !self.filter.may_start(&haystack[at..]) {
            return false;
        }
        let mut sid = nfa
            .start_state(Anchored::Yes)
            .expect("a contiguous NFA supports anchored search");
        for &byte in &haystack[at..] {
            sid = nfa.next_state(Anchored::Yes, sid, byte);
            if nfa.is_dead(sid) {
                return false;
            }
        }
        true
    }

    /// Grows the match `first` over every match that starts inside the
    /// masked span and ends beyond it. Returns the span's end and the
    /// secrets it covers, in order.
    fn union(&self, haystack: &[u8], first: aho_corasick::Match) -> (usize, Vec<usize>) {
        let mut end = first.end();
        let mut secrets = vec![self.patterns[first.pattern().as_usize()].secret];
        let mut from = first.start() + 1;
        while from < end {
            // A match that starts before `end` ends before `end + max_len`.
            let to = haystack.len().min(end - 1 + self.max_len);
            let Some(m) = self.find(haystack, from, to) else {
                break;
            };
            if m.start() >= end {
                break;
            }
            if m.end() > end {
                end = m.end();
                let secret = self.patterns[m.pattern().as_usize()].secret;
                if !secrets.contains(&secret) {
                    secrets.push(secret);
                }
            }
            from = m.start() + 1;
        }
        (end, secrets)
    }

    /// Masks `buf` into `out`, skipping the first `emitted` bytes, which
    /// were written already. Returns where the bytes to hold back start.
    ///
    /// Without `at_end`, a byte is decided only when every pattern that
    /// could start at or before it is either complete in `buf` or already
    /// impossible; the undecided tail is held back. With `at_end`, the
    /// stream is taken to stop here: everything is decided, and the return
    /// value is where the last unmasked stretch begins (bytes a later
    /// continuation might still turn into a secret).
    fn redact_into(
        &self,
        buf: &[u8],
        emitted: usize,
        at_end: bool,
        out: &mut impl Write,
    ) -> io::Result<usize> {
        let n = buf.len();
        let window = self.max_len.saturating_sub(1);
        // Written straight from `buf`: no copy of the passed-through bytes.
        let emit = |out: &mut dyn Write, from: usize, to: usize| {
            let from = from.max(emitted);
            if from < to {
                out.write_all(&buf[from..to])?;
            }
            Ok::<(), io::Error>(())
        };

        let mut pos = 0;
        loop {
            let found = self.find(buf, pos, n);
            let limit = found.map_or(n, |m| m.start());
            if !at_end {
                // Only the last `window` bytes can begin a pattern that does
                // not fit in `buf` yet.
                let from = pos.max(n.saturating_sub(window));
                if let Some(open) = (from..limit).find(|&p| self.open_at(buf, p)) {
                    emit(out, pos, open)?;
                    return Ok(open);
                }
            }
            let Some(m) = found else {
                emit(out, pos, n)?;
                return Ok(if at_end { pos } else { n });
            };
            let (end, secrets) = self.union(buf, m);
            if !at_end && end + window > n && (m.start()..end).any(|p| self.open_at(buf, p)) {
                // A longer or overlapping pattern may still complete.
                emit(out, pos, m.start())?;
                return Ok(m.start());
            }
            emit(out, pos, m.start())?;
            for secret in secrets {
                out.write_all(&self.markers[secret])?;
            }
            pos = end;
        }
    }
}

/// The patterns for one value: every encoded form, or for a long value its
/// pieces (see [`LONG_VALUE_BYTES`]).
fn forms_of(value: &[u8]) -> Vec<(Encoding, Vec<u8>)> {
    if value.len() <= LONG_VALUE_BYTES {
        return encode::forms(value);
    }
    value
        .split(|&b| b == b'\n')
        .flat_map(|line| {
            line.strip_suffix(b"\r")
                .unwrap_or(line)
                .chunks(LONG_VALUE_BYTES)
        })
        .map(|piece| (Encoding::Raw, piece.to_vec()))
        .collect()
}

/// A sampling q-gram filter that rules out most positions before the
/// automaton is consulted.
///
/// Every pattern is at least `min_len` bytes long, so an occurrence starting
/// at `s` holds the 4-byte grams at `s`, `s+1`, …, `s+stride-1` with
/// `stride = min_len - 3`. The filter records a hash of those grams of
/// every pattern in a bitmap, and looks only at every `stride`-th position
/// of the haystack: an occurrence always has one of its recorded grams at
/// such a position. Only when that gram's bit is set are the `stride`
/// starts it could belong to checked with an anchored search, leftmost
/// first, so the first match found is the leftmost one.
struct GramFilter {
    /// Grams at offsets `0..stride` of every pattern.
    bits: Vec<u64>,
    /// Grams at offset 0 only: a candidate start must begin with one.
    starts: Vec<u64>,
    min_len: usize,
    stride: usize,
}

impl GramFilter {
    fn new(patterns: &[Vec<u8>]) -> GramFilter {
        let min_len = patterns.iter().map(Vec::len).min().unwrap_or(0);
        let mut filter = GramFilter {
            bits: vec![0; (1 << GRAM_HASH_BITS) / 64],
            starts: vec![0; (1 << GRAM_HASH_BITS) / 64],
            min_len,
            stride: (min_len + 1).saturating_sub(GRAM_LEN_BYTES).max(1),
        };
        for pattern in patterns {
            for offset in 0..filter.stride {
                set_bit(&mut filter.bits, gram_hash(&pattern[offset..]));
            }
            set_bit(&mut filter.starts, gram_hash(pattern));
        }
        filter
    }

    /// Whether a pattern may start with the gram at the start of `bytes`.
    fn may_start(&self, bytes: &[u8]) -> bool {
        bit_is_set(&self.starts, gram_hash(bytes))
    }

    /// The first result of `verify(start)` that is a match, trying the
    /// candidate starts in `from..to` in increasing order.
    fn candidates(
        &self,
        haystack: &[u8],
        from: usize,
        to: usize,
        verify: impl Fn(usize) -> Option<aho_corasick::Match>,
    ) -> Option<aho_corasick::Match> {
        if self.min_len == 0 || to < from + self.min_len {
            return None;
        }
        let last_start = to - self.min_len;
        let window = &haystack[..to];
        let mut probe = from + self.stride - 1;
        loop {
            // `probe` is at most `last_start + stride - 1 = to - 4`, so
            // the gram is in the window.
            if bit_is_set(&self.bits, gram_hash(&window[probe..])) {
                let first = (probe + 1 - self.stride).max(from);
                for start in first..=probe.min(last_start) {
                    if !bit_is_set(&self.starts, gram_hash(&window[start..])) {
                        continue;
                    }
                    if let Some(m) = verify(start) {
                        return Some(m);
                    }
                }
            }
            if probe + 1 > last_start {
                return None;
            }
            probe += self.stride;
        }
    }
}

fn set_bit(bits: &mut [u64], bit: usize) {
    bits[bit / 64] |= 1 << (bit % 64);
}

#[inline]
fn bit_is_set(bits: &[u64], bit: usize) -> bool {
    bits[bit / 64] & (1 << (bit % 64)) != 0
}

/// The filter bitmap's bit for the 4-byte gram at the start of `bytes`:
/// Fibonacci hashing of the gram as a little-endian integer.
#[inline]
fn gram_hash(bytes: &[u8]) -> usize {
    let gram: [u8; GRAM_LEN_BYTES] = bytes[..GRAM_LEN_BYTES]
        .try_into()
        .expect("the slice is GRAM_LEN_BYTES long");
    let x = u32::from_le_bytes(gram);
    (x.wrapping_mul(0x9E37_79B1) >> (32 - GRAM_HASH_BITS)) as usize
}

/// Masks a stream: bytes go in through [`Redactor::write`] in chunks of any
/// size and come out, masked, on the inner writer.
pub struct Redactor<'s, W: Write> {
    set: &'s PatternSet,
    out: W,
    /// Bytes held back, possibly the start of a secret: wiped when dropped.
    held: Zeroizing<Vec<u8>>,
    /// How many of the held bytes were already written by an idle flush.
    emitted: usize,
}

impl<'s, W: Write> Redactor<'s, W> {
    pub fn new(set: &'s PatternSet, out: W) -> Redactor<'s, W> {
        Redactor {
            set,
            out,
            held: Zeroizing::new(Vec::new()),
            emitted: 0,
        }
    }

    /// Feeds `chunk`; everything that is decided is written and the inner
    /// writer flushed.
    pub fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        if self.set.is_empty() {
            self.out.write_all(chunk)?;
            return self.out.flush();
        }
        self.held.extend_from_slice(chunk);
        let keep = self
            .set
            .redact_into(&self.held, self.emitted, false, &mut self.out)?;
        self.held.drain(..keep);
        self.emitted = self.emitted.saturating_sub(keep);
        self.out.flush()
    }

    /// Whether bytes are held back that [`Redactor::flush_held`] would
    /// write.
    pub fn holds_back(&self) -> bool {
        self.held.len() > self.emitted
    }

    /// Writes what is held back, as if the stream ended here, while
    /// remembering it: if the stream goes on to complete a secret that began
    /// in these bytes, the rest of the secret is still masked. Call when the
    /// input has gone quiet.
    pub fn flush_held(&mut self) -> io::Result<()> {
        if !self.holds_back() {
            return Ok(());
        }
        let last = self
            .set
            .redact_into(&self.held, self.emitted, true, &mut self.out)?;
        let window = self.set.max_len.saturating_sub(1);
        let keep = last.max(self.held.len().saturating_sub(window));
        self.held.drain(..keep);
        self.emitted = self.held.len();
        self.out.flush()
    }

    /// Ends the stream: writes everything still held, flushes, and returns
    /// the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.set
            .redact_into(&self.held, self.emitted, true, &mut self.out)?;
        self.held.clear();
        self.emitted = 0;
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pairs: &[(&str, &[u8])]) -> PatternSet {
        let secrets: Vec<(String, SecretValue)> = pairs
            .iter()
            .map(|(n, v)| (n.to_string(), SecretValue::new(v.to_vec())))
            .collect();
        PatternSet::new(&secrets)
    }

    /// Feeds `input` in chunks of `size` bytes and returns the output.
    fn redact(set: &PatternSet, input: &[u8], size: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut redactor = Redactor::new(set, &mut out);
        for chunk in input.chunks(size.max(1)) {
            redactor.write(chunk).unwrap();
        }
        redactor.finish().unwrap();
        out
    }

    #[test]
    fn longest_match_wins_and_prefix_secrets_do_not_split_it() {
        let set = set(&[("SHORT", b"abcdef"), ("LONG", b"abcdefghij")]);
        for size in [1, 3, 64] {
            assert_eq!(
                redact(&set, b"x abcdefghij abcdefg", size),
                b"x [kseal:LONG] [kseal:SHORT]g"
            );
        }
    }

    #[test]
    fn overlapping_secrets_are_masked_together() {
        let set = set(&[("A", b"abcdef12"), ("B", b"ef123456")]);
        for size in [1, 2, 5, 100] {
            assert_eq!(
                redact(&set, b"<abcdef123456>", size),
                b"<[kseal:A][kseal:B]>"
            );
        }
    }

    #[test]
    fn bytes_that_cannot_start_a_secret_are_written_at_once() {
        let set = set(&[("PW", b"Password-xyz")]);
        let mut out = Vec::new();
        let mut redactor = Redactor::new(&set, &mut out);
        redactor.write(b"Enter passphrase: ").unwrap();
        assert!(!redactor.holds_back());
        redactor.write(b"Pass").unwrap();
        assert!(redactor.holds_back());
        redactor.flush_held().unwrap();
        // The stream resumes and completes the secret: the rest is masked.
        redactor.write(b"word-xyz ok").unwrap();
        redactor.finish().unwrap();
        assert_eq!(out, b"Enter passphrase: Pass[kseal:PW] ok");
    }

    #[test]
    fn idle_flush_of_a_complete_match_is_not_repeated() {
        let set = set(&[("SHORT", b"abcdef"), ("LONG", b"abcdefghij")]);
        let mut out = Vec::new();
        let mut redactor = Redactor::new(&set, &mut out);
        redactor.write(b"abcdef").unwrap();
        redactor.flush_held().unwrap();
        redactor.write(b" done").unwrap();
        redactor.finish().unwrap();
        assert_eq!(out, b"[kseal:SHORT] done");
    }

    #[test]
    fn binary_input_passes_unchanged_around_matches() {
        let set = set(&[("K", b"\x00\xffkey-bytes")]);
        let mut input: Vec<u8> = (0..=255u8).collect();
        input.extend_from_slice(b"\x00\xffkey-bytes");
        input.extend((0..=255u8).rev());
        let mut expected: Vec<u8> = (0..=255u8).collect();
        expected.extend_from_slice(b"[kseal:K]");
        expected.extend((0..=255u8).rev());
        assert_eq!(redact(&set, &input, 7), expected);
    }

    #[test]
    fn short_values_are_named_and_left_alone() {
        let set = set(&[("PORT", b"5432"), ("EMPTY", b""), ("OK", b"long-enough")]);
        assert_eq!(set.too_short(), ["PORT", "EMPTY"]);
        assert_eq!(redact(&set, b"5432 long-enough", 4), b"5432 [kseal:OK]");
    }

    #[test]
    fn find_all_reports_secret_and_encoding() {
        let set = set(&[("A", b"alpha-secret"), ("B", b"bravo-secret")]);
        let hay = b"x YWxwaGEtc2VjcmV0 y 627261766f2d736563726574";
        let found = set.find_all(hay);
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].secret, found[0].encoding), (0, Encoding::Base64));
        assert_eq!((found[1].secret, found[1].encoding), (1, Encoding::Hex));
        assert_eq!(
            &hay[found[1].start..found[1].end],
            b"627261766f2d736563726574"
        );
    }

    #[test]
    fn a_long_multi_line_value_is_masked_line_by_line() {
        let line = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7".repeat(2);
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----",
            [line.as_str(); 120].join("\n")
        );
        assert!(pem.len() > LONG_VALUE_BYTES);
        let set = set(&[("KEY", pem.as_bytes())]);
        // A terminal shows it with CR LF line ends.
        let shown = pem.replace('\n', "\r\n");
        let out = redact(&set, shown.as_bytes(), 1000);
        let out = String::from_utf8(out).unwrap();
        assert!(!out.contains("MIIEvQ"), "{out}");
        assert!(!out.contains("PRIVATE KEY"), "{out}");
        assert_eq!(out.matches("[kseal:KEY]").count(), 122);
    }

    #[test]
    fn a_multi_line_value_on_a_terminal_is_masked_whole() {
        let set = set(&[("CERT", b"line-one\nline-two\n")]);
        assert_eq!(
            redact(&set, b"> line-one\r\nline-two\r\n<", 3),
            b"> [kseal:CERT]<"
        );
    }

    #[test]
    fn held_back_bytes_stay_below_the_longest_pattern() {
        let set = set(&[("A", b"aaaaaaaaaaaa")]);
        let mut out = Vec::new();
        let mut redactor = Redactor::new(&set, &mut out);
        for _ in 0..10_000 {
            redactor.write(b"aaaaaaaaaaa-").unwrap();
            assert!(redactor.held.len() < set.max_len_bytes());
        }
    }
}
