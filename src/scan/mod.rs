//! `kseal scan`: provider-token detectors and known-value search over trees,
//! streams, git history and image tarballs.
//!
//! The parts, as in a search tool, are kept apart:
//!
//! - [`detectors`] is the table of formats, as data; [`engine`] compiles it
//!   once (a keyword prefilter, then a regex per detector on candidate
//!   lines only) and finds [`engine::Hit`]s in a byte buffer; [`keywords`]
//!   is that prefilter;
//! - [`known`] searches the values of the sealed stores, raw and encoded;
//! - the inputs feed buffers to the engine: [`walk`] a tree of files in
//!   parallel, [`git`] every blob of a repository's history once,
//!   [`image`] the layers of a `docker save` tarball, and
//!   [`Scanner::scan_buffer`] a stream;
//! - findings leave as [`crate::findings::Finding`]s, rendered and
//!   suppressed (inline `kseal:ignore`, baseline) as `kseal check`'s are.
//!
//! ```no_run
//! use kseal::scan::{Scanner, Options};
//!
//! let scanner = Scanner::new(Options::default(), None);
//! let findings = scanner.scan_buffer("notes.txt", b"token ghp_...", None);
//! println!("{} findings", findings.len());
//! ```

use std::sync::atomic::{AtomicU64, Ordering};

use crate::check::suppress;
use crate::findings::{Finding, mask};

pub mod detectors;
pub mod engine;
pub mod git;
pub mod image;
pub mod keywords;
pub mod known;
pub mod walk;

pub use engine::{Engine, Hit};
pub use known::KnownValues;

/// Files larger than this are skipped unless asked otherwise.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;
/// How far into a file to look for a NUL byte, the mark of binary content
/// (the same test git uses).
pub const BINARY_PROBE_BYTES: usize = 8000;
/// Source lines longer than this get no excerpt (minified code would flood
/// the terminal).
const SNIPPET_MAX_BYTES: usize = 300;

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct Options {
    pub max_file_bytes: u64,
    /// Scan files with NUL bytes too.
    pub include_binary: bool,
    /// Worker threads; 0 for one per core.
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            include_binary: false,
            threads: 0,
        }
    }
}

impl Options {
    pub fn thread_count(&self) -> usize {
        if self.threads > 0 {
            return self.threads;
        }
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

/// Counters a scan keeps as it goes; shared with a progress display.
#[derive(Debug, Default)]
pub struct Stats {
    pub files: AtomicU64,
    pub bytes: AtomicU64,
    pub skipped_binary: AtomicU64,
    pub skipped_large: AtomicU64,
    pub unreadable: AtomicU64,
    /// Findings dropped by an inline ignore.
    pub ignored: AtomicU64,
}

impl Stats {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// The engine plus the options and counters of one run.
pub struct Scanner {
    pub engine: Engine,
    pub options: Options,
    pub stats: Stats,
}

impl Scanner {
    pub fn new(options: Options, known: Option<KnownValues>) -> Scanner {
        Scanner {
            engine: Engine::new(known),
            options,
            stats: Stats::default(),
        }
    }

    /// Whether a file of `size` bytes is scanned; counts it if not.
    pub fn admits_size(&self, size: u64) -> bool {
        if size > self.options.max_file_bytes {
            Stats::add(&self.stats.skipped_large, 1);
            return false;
        }
        true
    }

    /// Whether `data` is scanned as text; counts it if it is binary.
    pub fn admits_content(&self, data: &[u8]) -> bool {
        let probe = &data[..data.len().min(BINARY_PROBE_BYTES)];
        if !self.options.include_binary && probe.contains(&0) {
            Stats::add(&self.stats.skipped_binary, 1);
            return false;
        }
        true
    }

    /// Scans one buffer named `path` (relative, `/`-separated) and returns
    /// its findings, inline ignores applied. `origin` says where the buffer
    /// came from beyond its path (a commit, an image layer).
    pub fn scan_buffer(&self, path: &str, data: &[u8], origin: Option<&str>) -> Vec<Finding> {
        self.scan_buffer_with_digests(path, data, origin)
            .into_iter()
            .map(|(f, _)| f)
            .collect()
    }

    /// Like [`Scanner::scan_buffer`], with each finding's digest of the
    /// secret, for callers that merge copies of one secret (git history).
    pub fn scan_buffer_with_digests(
        &self,
        path: &str,
        data: &[u8],
        origin: Option<&str>,
    ) -> Vec<(Finding, [u8; 16])> {
        Stats::add(&self.stats.files, 1);
        Stats::add(&self.stats.bytes, data.len() as u64);
        let hits = self.engine.scan(path, data);
        if hits.is_empty() {
            // Most files: no line index to build.
            return Vec::new();
        }
        let lines = LineIndex::new(data);
        let mut out = Vec::new();
        // Hits come in order of position, so columns are counted from the
        // previous hit on the same line, and each line is checked for an
        // ignore once: a long minified line with many hits stays linear.
        let mut cursor = (usize::MAX, 0, 0);
        let mut ignored_lines: std::collections::HashMap<(usize, &str), bool> = Default::default();
        for hit in &hits {
            let line = lines.line_of(hit.start);
            let (line_start, _) = lines.range(data, line);
            if cursor.0 != line || cursor.1 > hit.start {
                cursor = (line, line_start, 0);
            }
            cursor.2 += chars(&data[cursor.1..hit.start]);
            cursor.1 = hit.start;
            let finding = to_finding(path, data, &lines, hit, &hits, origin, cursor.2 + 1);
            let ignored = *ignored_lines
                .entry((line, hit.code))
                .or_insert_with(|| is_ignored(data, &lines, &finding));
            if ignored {
                Stats::add(&self.stats.ignored, 1);
                continue;
            }
            out.push((finding, hit.digest));
        }
        out
    }
}

/// Line starts of a buffer, for byte offset to line and column.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(data: &[u8]) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', data).map(|i| i + 1));
        LineIndex { starts }
    }

    /// 0-based line of byte `at`.
    fn line_of(&self, at: usize) -> usize {
        self.starts.partition_point(|&s| s <= at) - 1
    }

    /// Byte range of 0-based line `line`, without its newline.
    fn range(&self, data: &[u8], line: usize) -> (usize, usize) {
        let start = self.starts[line];
        let end = self
            .starts
            .get(line + 1)
            .map_or(data.len(), |next| next - 1);
        let end = if end > start && data[end - 1] == b'\r' {
            end - 1
        } else {
            end
        };
        (start, end)
    }
}

/// Characters in UTF-8 `bytes`: every byte that does not continue a
/// multi-byte sequence starts one.
fn chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count()
}

fn to_finding(
    path: &str,
    data: &[u8],
    lines: &LineIndex,
    hit: &Hit,
    all: &[Hit],
    origin: Option<&str>,
    column: usize,
) -> Finding {
    let line = lines.line_of(hit.start);
    let (line_start, line_end) = lines.range(data, line);
    let span_end = hit.end.min(line_end).max(hit.start);
    let secret = String::from_utf8_lossy(&data[hit.start..hit.end]);

    // The excerpt: the line with every secret on it starred out, character
    // for character, so that the caret still lines up.
    let snippet = (line_end - line_start <= SNIPPET_MAX_BYTES).then(|| {
        let mut masked = Vec::new();
        let mut at = line_start;
        for other in all {
            let (s, e) = (other.start.max(at), other.end.min(line_end));
            if s >= e {
                continue;
            }
            masked.extend_from_slice(&data[at..s]);
            masked.extend(std::iter::repeat_n(b'*', chars(&data[s..e])));
            at = e;
        }
        masked.extend_from_slice(&data[at..line_end]);
        String::from_utf8_lossy(&masked).into_owned()
    });

    Finding {
        rule: hit.code.to_owned(),
        message: hit.message.clone(),
        path: path.into(),
        line: line + 1,
        column,
        span_len: chars(&data[hit.start..span_end]),
        preview: Some(mask(&secret)),
        fix: Some(if hit.code == detectors::KNOWN_VALUE_CODE {
            "remove the copy and rotate the secret (`kseal set NAME --generate`)".to_owned()
        } else {
            "revoke it at the provider, then keep the new one sealed: `kseal set NAME`".to_owned()
        }),
        origin: origin.map(str::to_owned),
        snippet,
    }
}

/// Whether an inline `kseal:ignore CODE reason` on the finding's line or
/// the line above covers it. An ignore without a reason covers nothing.
fn is_ignored(data: &[u8], lines: &LineIndex, finding: &Finding) -> bool {
    let line = finding.line - 1;
    let first = line.saturating_sub(1);
    (first..=line).any(|l| {
        let (s, e) = lines.range(data, l);
        const MARK: &[u8] = b"kseal:ignore";
        if !data[s..e].windows(MARK.len()).any(|w| w == MARK) {
            return false;
        }
        let text = String::from_utf8_lossy(&data[s..e]);
        suppress::ignores(&text)
            .iter()
            .any(|ig| !ig.reason.is_empty() && ig.rules.contains(&finding.rule))
    })
}

/// Sorts findings by path, line, column and rule, for stable output.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.rule, &a.origin)
            .cmp(&(&b.path, b.line, b.column, &b.rule, &b.origin))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_points_at_the_secret_and_masks_it() {
        let scanner = Scanner::new(Options::default(), None);
        let text = b"# config\nexport GH=\"ghp_0123456789abcdefghijklmnopqrstuvwxyZ\"\n";
        let found = scanner.scan_buffer("a.sh", text, None);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!((f.line, f.column, f.span_len), (2, 12, 40));
        let snippet = f.snippet.as_deref().unwrap();
        assert!(!snippet.contains("ghp_"), "{snippet}");
        assert_eq!(snippet.len(), "export GH=\"\"".len() + 40);
    }

    #[test]
    fn inline_ignore_with_reason() {
        let scanner = Scanner::new(Options::default(), None);
        let text =
            b"# kseal:ignore KS612 revoked test token\nghp_0123456789abcdefghijklmnopqrstuvwxyZ\n";
        assert!(scanner.scan_buffer("a", text, None).is_empty());
        let text = b"# kseal:ignore KS612\nghp_0123456789abcdefghijklmnopqrstuvwxyZ\n";
        assert_eq!(scanner.scan_buffer("a", text, None).len(), 1);
    }
}
