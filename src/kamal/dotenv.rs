//! `.kamal/secrets*` files, read the way Kamal 2 reads them: the dotenv gem
//! (v3.2) line grammar and value rules, with Kamal's own `$(…)` command
//! substitution in place of dotenv's.
//!
//! Nothing is executed. [`parse`] splits every value into the parts Kamal
//! would see — literal text, variable references (`$VAR`, `${VAR}`) and
//! command substitutions (`$(…)`) — each with its span in the source.
//! [`resolve`] then computes what Kamal would read for literal and variable
//! parts; a command's output is left unknown unless the caller supplies a
//! [`CommandRunner`] (only tests do).
//!
//! The rules mirrored here, from dotenv's `lib/dotenv/parser.rb` and
//! `substitutions/variable.rb` and Kamal's
//! `lib/kamal/secrets/dotenv/inline_command_substitution.rb`:
//!
//! - `\r\n` and lone `\r` become `\n`; a line is `[export ]KEY=VALUE` or
//!   `KEY: VALUE`, `KEY` alone means an empty value; lines that do not match
//!   are silently skipped.
//! - A value is stripped, then unquoted when it starts and ends with the same
//!   quote. Single quotes keep everything literal. Double quotes keep `\n`
//!   as the two characters backslash-n (real newlines unless
//!   `DOTENV_LINEBREAK_MODE=legacy`). Outside single quotes `\x` becomes
//!   `x` except before `$`.
//! - An unquoted `#` ends the value, even inside `$(…)`.
//! - Commands are substituted first, their text variable-expanded before
//!   running; then variables are expanded over the whole value, output of
//!   commands included, so a `$word` in command output is lost.
//! - Variables read earlier keys of the same file, then the environment;
//!   unknown ones become empty.
//!
//! ```
//! use kseal::kamal::dotenv::{parse, Part};
//!
//! let entries = parse("DB_PASSWORD=$(op read op://app/db)\n").unwrap();
//! assert!(matches!(entries[0].parts[0], Part::Command { .. }));
//! ```

use std::sync::LazyLock;

use regex::Regex;

/// A byte range in the source text, as given to [`parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// How a value was quoted in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Quote {
    None,
    Single,
    Double,
}

/// One piece of a value, in order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Part {
    /// Text Kamal takes as is (after quote and backslash processing).
    Literal { text: String, span: Span },
    /// `$NAME` or `${NAME}`: a key defined earlier in the same file, or an
    /// environment variable; empty when neither exists.
    Variable {
        name: String,
        braced: bool,
        span: Span,
    },
    /// `$(…)`: Kamal runs `command` (after expanding its variables) through
    /// Ruby's backticks and uses its output, minus one trailing newline.
    Command { command: String, span: Span },
}

impl Part {
    pub fn span(&self) -> Span {
        match self {
            Part::Literal { span, .. }
            | Part::Variable { span, .. }
            | Part::Command { span, .. } => *span,
        }
    }
}

/// One `KEY=VALUE` line (a double-quoted value may span lines).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    /// 1-based line and column (in characters) of the key.
    pub line: usize,
    pub column: usize,
    pub export: bool,
    pub quote: Quote,
    /// The value as written, quotes included; `None` for a bare key.
    pub value_span: Option<Span>,
    /// The span Kamal takes as the value: inside the quotes, stripped.
    pub inner_span: Option<Span>,
    pub parts: Vec<Part>,
}

impl Entry {
    /// The value when it is made only of literal parts.
    pub fn literal(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal { text, .. } => out.push_str(text),
                _ => return None,
            }
        }
        Some(out)
    }

    pub fn has_literal(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Literal { text, .. } if !text.is_empty()))
    }

    pub fn commands(&self) -> impl Iterator<Item = (&str, Span)> {
        self.parts.iter().filter_map(|p| match p {
            Part::Command { command, span } => Some((command.as_str(), *span)),
            _ => None,
        })
    }
}

/// Why a secrets file cannot be read the way Kamal reads it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// `export NAME` with no value, for a name not set earlier in the file:
    /// dotenv raises `Dotenv::FormatError` and Kamal stops.
    #[error("line {line}: `export {key}` has no value and {key:?} is not set earlier in the file")]
    UnsetExport { key: String, line: usize },
}

/// Parses a secrets file. `DOTENV_LINEBREAK_MODE` is honoured when set in
/// the file; use [`parse_with`] to also honour it from the environment.
pub fn parse(text: &str) -> Result<Vec<Entry>, ParseError> {
    parse_with(text, false)
}

/// Like [`parse`]; `legacy_linebreaks` says the environment has
/// `DOTENV_LINEBREAK_MODE=legacy`.
pub fn parse_with(text: &str, legacy_linebreaks: bool) -> Result<Vec<Entry>, ParseError> {
    let (norm, map) = normalize_newlines(text);
    let lines = LineIndex::new(text);
    let mut entries: Vec<Entry> = Vec::new();

    for caps in LINE.captures_iter(&norm) {
        let key_m = caps
            .name("key")
            .expect("the line pattern always captures a key");
        let key = key_m.as_str().to_string();
        let key_span = Span {
            start: map[key_m.start()],
            end: map[key_m.end()],
        };
        let (line, column) = lines.line_col(key_span.start);
        let export = caps.name("export").is_some();
        let value = caps.name("value");

        if export && value.is_none() {
            if !entries.iter().any(|e| e.key == key) {
                return Err(ParseError::UnsetExport { key, line });
            }
            continue;
        }

        let legacy = legacy_linebreaks
            || entries
                .iter()
                .rev()
                .find(|e| e.key == "DOTENV_LINEBREAK_MODE")
                .and_then(|e| e.literal())
                .is_some_and(|v| v == "legacy");

        let (quote, inner_span, parts, value_span) = match value {
            None => (Quote::None, None, Vec::new(), None),
            Some(m) => {
                let seq: Seq = norm[m.start()..m.end()]
                    .char_indices()
                    .map(|(i, c)| {
                        let s = m.start() + i;
                        (c, map[s], map[s + c.len_utf8()])
                    })
                    .collect();
                let (quote, seq) = unquote(strip(seq));
                let inner = span_of(&seq);
                let parts = value_parts(seq, quote, legacy);
                let vspan = Span {
                    start: map[m.start()],
                    end: map[m.end()],
                };
                (quote, inner, parts, Some(vspan))
            }
        };

        entries.push(Entry {
            key,
            key_span,
            line,
            column,
            export,
            quote,
            value_span,
            inner_span,
            parts,
        });
    }

    Ok(entries)
}

/// 1-based line and character column of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    LineIndex::new(text).line_col(offset)
}

/// What happened when a `$(…)` command would run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandOutcome {
    /// Its standard output.
    Output(String),
    /// Ruby ran it without a shell and the program does not exist: Kamal's
    /// dotenv call swallows the error and the whole file reads as empty.
    NotFound,
    /// Not run: the value stays unknown.
    Unknown,
}

/// Runs (or declines to run) the command of a `$(…)`, already
/// variable-expanded.
pub trait CommandRunner {
    fn run(&mut self, command: &str) -> CommandOutcome;
}

/// Never runs anything; commands whose program is certainly missing are
/// reported as [`CommandOutcome::NotFound`], since Kamal would then drop the
/// file.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoExec;

impl CommandRunner for NoExec {
    fn run(&mut self, command: &str) -> CommandOutcome {
        match direct_program(command) {
            Some(program) if !program_exists(program) => CommandOutcome::NotFound,
            _ => CommandOutcome::Unknown,
        }
    }
}

/// The values Kamal would read from one file, in its order (first
/// definition's position, last definition's value). `None` marks a value
/// that depends on command output that was not run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    pub values: Vec<(String, Option<String>)>,
    /// Set when a command's program was missing: Kamal reads nothing at all
    /// from this file.
    pub dropped: bool,
}

impl Resolved {
    pub fn get(&self, key: &str) -> Option<&Option<String>> {
        self.values.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn set(&mut self, key: &str, value: Option<String>) {
        match self.values.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.values.push((key.to_string(), value)),
        }
    }
}

/// Computes the values of one file as Kamal would, looking variables up in
/// earlier keys of the file and then in `env`.
pub fn resolve(
    entries: &[Entry],
    env: &dyn Fn(&str) -> Option<String>,
    runner: &mut dyn CommandRunner,
) -> Resolved {
    let mut out = Resolved::default();

    for entry in entries {
        if entry.quote == Quote::Single {
            out.set(&entry.key, entry.literal());
            continue;
        }

        // First pass: command substitution, as text with its unknowns.
        let mut text: Vec<Piece> = Vec::new();
        for part in &entry.parts {
            match part {
                Part::Literal { text: t, .. } => text.push(Piece::Text(reescape(t))),
                Part::Variable { name, braced, .. } => {
                    // Variables are expanded in the second pass; keep their
                    // source form so that the pass sees the same string.
                    let form = if *braced {
                        format!("${{{name}}}")
                    } else {
                        format!("${name}")
                    };
                    text.push(Piece::Text(form));
                }
                Part::Command { command, .. } => {
                    let expanded = match expand_variables(command, &out, env) {
                        Some(c) => c,
                        None => {
                            text.push(Piece::Unknown);
                            continue;
                        }
                    };
                    let outcome = if KAMAL_SECRETS_COMMAND.is_match(&expanded) {
                        CommandOutcome::Unknown
                    } else {
                        runner.run(&expanded)
                    };
                    match outcome {
                        CommandOutcome::Output(o) => text.push(Piece::Text(chomp(o))),
                        CommandOutcome::NotFound => {
                            return Resolved {
                                values: Vec::new(),
                                dropped: true,
                            };
                        }
                        CommandOutcome::Unknown => text.push(Piece::Unknown),
                    }
                }
            }
        }

        // Second pass: variables over the whole value.
        let value = if text.iter().any(|p| matches!(p, Piece::Unknown)) {
            None
        } else {
            let joined: String = text
                .iter()
                .map(|p| match p {
                    Piece::Text(t) => t.as_str(),
                    Piece::Unknown => "",
                })
                .collect();
            expand_variables(&joined, &out, env)
        };
        out.set(&entry.key, value);
    }

    out
}

/// [`resolve`] with [`NoExec`].
pub fn resolve_without_commands(
    entries: &[Entry],
    env: &dyn Fn(&str) -> Option<String>,
) -> Resolved {
    resolve(entries, env, &mut NoExec)
}

/// The program Ruby's backticks would exec directly (no shell) for
/// `command`, or `None` when the command goes through `/bin/sh` (it then
/// never fails as a whole; a missing program just prints nothing).
pub fn direct_program(command: &str) -> Option<&str> {
    const META: &[char] = &[
        '*', '?', '{', '}', '[', ']', '<', '>', '(', ')', '~', '&', '|', '\\', '$', ';', '\'', '`',
        '"', '\n', '#',
    ];
    const SH_WORDS: &[&str] = &[
        "!", ".", ":", "break", "case", "continue", "do", "done", "elif", "else", "esac", "eval",
        "exec", "exit", "export", "fi", "for", "if", "in", "readonly", "return", "set", "shift",
        "then", "times", "trap", "unset", "until", "while",
    ];
    if command.contains(META) {
        return None;
    }
    let first = command.split([' ', '\t']).find(|w| !w.is_empty())?;
    if first.contains('=') || SH_WORDS.contains(&first) {
        return None;
    }
    Some(first)
}

/// Whether `program` would be found: a path that exists, or a name on
/// `PATH`. Looking is not running.
pub fn program_exists(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;

    let executable = |p: &std::path::Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        return executable(std::path::Path::new(program));
    }
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| executable(&dir.join(program)))
}

// ---------------------------------------------------------------------------

/// dotenv's `LINE` pattern. Ruby's `\s` is spelled out (it is ASCII there),
/// `\w` is ASCII, and `^` matches at every line start.
static LINE: LazyLock<Regex> = LazyLock::new(|| {
    let s = r"[ \t\r\n\x0B\x0C]";
    let pattern = format!(
        r#"(?m)(?:^|\A){s}*(?P<export>export{s}+)?(?P<key>[A-Za-z0-9_.]+)(?:(?:{s}*={s}*?|:{s}+?)(?P<value>{s}*'(?:\\'|[^'])*'|{s}*"(?:\\"|[^"])*"|[^#\n]+)?)?{s}*(?:#.*)?(?:$|\z)"#
    );
    Regex::new(&pattern).expect("the dotenv line pattern is valid")
});

/// Kamal inlines `kamal secrets …` commands instead of running a shell.
static KAMAL_SECRETS_COMMAND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\A[ \t\r\n\x0B\x0C]*kamal[ \t\r\n\x0B\x0C]*secrets[ \t\r\n\x0B\x0C]+")
        .expect("the kamal secrets pattern is valid")
});

/// A character of a value with the source range it came from.
type Seq = Vec<(char, usize, usize)>;

enum Piece {
    Text(String),
    Unknown,
}

fn normalize_newlines(text: &str) -> (String, Vec<usize>) {
    let mut norm = String::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len() + 1);
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\r' {
            map.push(i);
            norm.push('\n');
            i += if bytes.get(i + 1) == Some(&b'\n') {
                2
            } else {
                1
            };
            continue;
        }
        let c = text[i..].chars().next().expect("i is on a char boundary");
        let n = c.len_utf8();
        map.extend(i..i + n);
        norm.push(c);
        i += n;
    }
    map.push(text.len());
    (norm, map)
}

struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let end = offset.min(self.text.len());
        let column = self
            .text
            .get(start..end)
            .map_or(1, |s| s.chars().count() + 1);
        (line, column)
    }
}

fn is_ruby_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0B' | '\x0C' | '\r' | '\0')
}

fn strip(seq: Seq) -> Seq {
    let start = seq
        .iter()
        .position(|(c, ..)| !is_ruby_space(*c))
        .unwrap_or(seq.len());
    let end = seq
        .iter()
        .rposition(|(c, ..)| !is_ruby_space(*c))
        .map_or(start, |i| i + 1);
    seq[start..end.max(start)].to_vec()
}

fn unquote(seq: Seq) -> (Quote, Seq) {
    if seq.len() >= 2 {
        let first = seq[0].0;
        let last = seq[seq.len() - 1].0;
        if (first == '\'' || first == '"') && first == last {
            let quote = if first == '\'' {
                Quote::Single
            } else {
                Quote::Double
            };
            return (quote, seq[1..seq.len() - 1].to_vec());
        }
    }
    (Quote::None, seq)
}

fn span_of(seq: &Seq) -> Option<Span> {
    Some(Span {
        start: seq.first()?.1,
        end: seq.last()?.2,
    })
}

/// Quote, newline and backslash processing, then the split into parts.
fn value_parts(seq: Seq, quote: Quote, legacy: bool) -> Vec<Part> {
    if quote == Quote::Single {
        return literal_part(&seq).into_iter().collect();
    }
    let seq = if quote == Quote::Double {
        expand_newlines(seq, legacy)
    } else {
        seq
    };
    let seq = unescape(seq);

    // Commands first, as Kamal substitutes them first; the text between
    // them (and escaped commands) then goes through variable expansion.
    let mut parts = Vec::new();
    let mut rest: Seq = Vec::new();
    let mut i = 0;
    while i < seq.len() {
        let escaped = seq[i].0 == '\\' && seq.get(i + 1).is_some_and(|c| c.0 == '$');
        let dollar = if escaped { i + 1 } else { i };
        if seq[dollar].0 == '$'
            && seq.get(dollar + 1).is_some_and(|c| c.0 == '(')
            && let Some(close) = match_command(&seq, dollar + 1)
        {
            if escaped {
                rest.extend_from_slice(&seq[dollar..=close]);
            } else {
                variable_parts(std::mem::take(&mut rest), &mut parts);
                let command: String = seq[dollar + 2..close].iter().map(|c| c.0).collect();
                parts.push(Part::Command {
                    command,
                    span: Span {
                        start: seq[i].1,
                        end: seq[close].2,
                    },
                });
            }
            i = close + 1;
            continue;
        }
        rest.push(seq[i]);
        i += 1;
    }
    variable_parts(rest, &mut parts);
    parts
}

/// Kamal's `(?<cmd>\((?:\\.|[^()\\]|\g<cmd>)+\))` from the `(` at `open`:
/// the index of the matching `)`. Each alternative starts with a different
/// character, so a single left-to-right walk decides it.
fn match_command(seq: &Seq, open: usize) -> Option<usize> {
    let mut i = open + 1;
    let mut items = 0;
    loop {
        match seq.get(i)?.0 {
            ')' => return (items > 0).then_some(i),
            '(' => i = match_command(seq, i)? + 1,
            '\\' => {
                let next = seq.get(i + 1)?.0;
                if next == '\n' {
                    return None;
                }
                i += 2;
            }
            _ => i += 1,
        }
        items += 1;
    }
}

/// dotenv's variable pattern `(\\)?(\$)(?!\()\{?([A-Z0-9_]+)?\}?` (case
/// insensitive) over `seq`, appending literal and variable parts.
fn variable_parts(seq: Seq, parts: &mut Vec<Part>) {
    let mut lit: Seq = Vec::new();
    let mut i = 0;
    while i < seq.len() {
        let escaped = seq[i].0 == '\\' && seq.get(i + 1).is_some_and(|c| c.0 == '$');
        let dollar = if escaped { i + 1 } else { i };
        if seq[dollar].0 != '$' || seq.get(dollar + 1).is_some_and(|c| c.0 == '(') {
            lit.push(seq[i]);
            i += 1;
            continue;
        }
        let mut j = dollar + 1;
        let braced = seq.get(j).is_some_and(|c| c.0 == '{');
        if braced {
            j += 1;
        }
        let name_start = j;
        while seq
            .get(j)
            .is_some_and(|c| c.0.is_ascii_alphanumeric() || c.0 == '_')
        {
            j += 1;
        }
        let name: String = seq[name_start..j].iter().map(|c| c.0).collect();
        if seq.get(j).is_some_and(|c| c.0 == '}') {
            j += 1;
        }
        if escaped || name.is_empty() {
            // `\$X` stays `$X`; a `$` with no name stays as written.
            let from = if escaped { dollar } else { i };
            lit.extend_from_slice(&seq[from..j]);
        } else {
            parts.extend(literal_part(&std::mem::take(&mut lit)));
            parts.push(Part::Variable {
                name,
                braced,
                span: Span {
                    start: seq[i].1,
                    end: seq[j - 1].2,
                },
            });
        }
        i = j;
    }
    parts.extend(literal_part(&lit));
}

fn literal_part(seq: &Seq) -> Option<Part> {
    let span = span_of(seq)?;
    Some(Part::Literal {
        text: seq.iter().map(|c| c.0).collect(),
        span,
    })
}

/// dotenv's `expand_newlines` for double-quoted values: `\n` (backslash,
/// n) becomes a real newline in legacy mode, else backslash-backslash-n
/// (which unescaping turns back into backslash-n); the same for `\r`.
fn expand_newlines(seq: Seq, legacy: bool) -> Seq {
    let mut out = seq;
    for letter in ['n', 'r'] {
        let mut next = Vec::with_capacity(out.len());
        let mut i = 0;
        while i < out.len() {
            if out[i].0 == '\\' && out.get(i + 1).is_some_and(|c| c.0 == letter) {
                let (s, e) = (out[i].1, out[i + 1].2);
                if legacy {
                    next.push((if letter == 'n' { '\n' } else { '\r' }, s, e));
                } else {
                    next.push(('\\', s, e));
                    next.push(('\\', s, e));
                    next.push((letter, s, e));
                }
                i += 2;
            } else {
                next.push(out[i]);
                i += 1;
            }
        }
        out = next;
    }
    out
}

/// dotenv's `unescape_characters`: `\x` becomes `x` unless `x` is `$`.
fn unescape(seq: Seq) -> Seq {
    let mut out = Vec::with_capacity(seq.len());
    let mut i = 0;
    while i < seq.len() {
        if seq[i].0 == '\\'
            && let Some(next) = seq.get(i + 1).filter(|c| c.0 != '$')
        {
            out.push((next.0, seq[i].1, next.2));
            i += 2;
            continue;
        }
        out.push(seq[i]);
        i += 1;
    }
    out
}

/// dotenv's variable substitution over a string; `None` when a referenced
/// value is unknown.
fn expand_variables(
    text: &str,
    known: &Resolved,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let escaped = chars[i] == '\\' && chars.get(i + 1) == Some(&'$');
        let dollar = if escaped { i + 1 } else { i };
        if chars[dollar] != '$' || chars.get(dollar + 1) == Some(&'(') {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let mut j = dollar + 1;
        if chars.get(j) == Some(&'{') {
            j += 1;
        }
        let name_start = j;
        while chars
            .get(j)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
        {
            j += 1;
        }
        let name: String = chars[name_start..j].iter().collect();
        if chars.get(j) == Some(&'}') {
            j += 1;
        }
        if escaped {
            out.extend(&chars[dollar..j]);
        } else if name.is_empty() {
            out.extend(&chars[i..j]);
        } else {
            match known.get(&name) {
                Some(Some(v)) => out.push_str(v),
                Some(None) => return None,
                None => out.push_str(&env(&name).unwrap_or_default()),
            }
        }
        i = j;
    }
    Some(out)
}

/// A literal part as the variable pass must see it again: its `$` were
/// literal (escaped or nameless), so escaping them keeps them so, except
/// before `(` where the pass never looks.
fn reescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek() != Some(&'(') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Ruby's `String#chomp` with no argument.
fn chomp(mut s: String) -> String {
    if s.ends_with("\r\n") {
        s.truncate(s.len() - 2);
    } else if s.ends_with('\n') || s.ends_with('\r') {
        s.truncate(s.len() - 1);
    }
    s
}

/// `KEY=VALUE` written so that Kamal's reader (and [`parse`]) gives back
/// exactly `value`, with no variable or command expansion: single quotes
/// when they can carry it, else double quotes with `\\`, `\"` and `\$`
/// escaped. `None` when no quoting round-trips (a carriage return, which
/// dotenv turns into a newline, or a value both quoting styles mangle).
pub fn quote_line(key: &str, value: &str) -> Option<String> {
    let single = format!("{key}='{value}'\n");
    let mut escaped = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        if matches!(c, '\\' | '"' | '$') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    let double = format!("{key}=\"{escaped}\"\n");
    let candidates = if value.contains('\'') {
        vec![double]
    } else {
        vec![single, double]
    };
    candidates
        .into_iter()
        .find(|line| reads_back(line, key, value))
}

/// Whether `line` reads as exactly one entry `key` with value `value`.
fn reads_back(line: &str, key: &str, value: &str) -> bool {
    let Ok(entries) = parse(line) else {
        return false;
    };
    if entries.len() != 1 || entries[0].key != key {
        return false;
    }
    let resolved = resolve_without_commands(&entries, &|_| None);
    resolved.get(key) == Some(&Some(value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_lines_read_back_exactly() {
        let nasty = [
            "",
            "plain",
            "it's",
            "a\nb",
            "$HOME",
            "${X}",
            "$(rm -rf /)",
            "#no comment",
            "back\\slash",
            "ends\\",
            "\\n literal",
            "\"dq\"",
            "'sq' and \"dq\" $x",
            "  spaced  ",
            "中文 ✓",
        ];
        for value in nasty {
            let line = quote_line("K", value).unwrap_or_else(|| panic!("{value:?}"));
            assert!(reads_back(&line, "K", value), "{value:?} as {line:?}");
        }
        assert_eq!(quote_line("K", "a\rb"), None);
    }

    fn kinds(e: &Entry) -> Vec<&'static str> {
        e.parts
            .iter()
            .map(|p| match p {
                Part::Literal { .. } => "lit",
                Part::Variable { .. } => "var",
                Part::Command { .. } => "cmd",
            })
            .collect()
    }

    #[test]
    fn splits_literal_variable_and_command_parts() {
        let text = "A=pre${B}$(echo x)post\n";
        let e = &parse(text).unwrap()[0];
        assert_eq!(kinds(e), ["lit", "var", "cmd", "lit"]);
        let Part::Variable { span, .. } = &e.parts[1] else {
            panic!()
        };
        assert_eq!(&text[span.start..span.end], "${B}");
        let Part::Command { span, command } = &e.parts[2] else {
            panic!()
        };
        assert_eq!(&text[span.start..span.end], "$(echo x)");
        assert_eq!(command, "echo x");
    }

    #[test]
    fn hash_inside_command_truncates_value() {
        let e = &parse("A=$(echo 'a#b')\n").unwrap()[0];
        assert_eq!(e.literal().as_deref(), Some("$(echo 'a"));
    }

    #[test]
    fn escaped_command_is_literal() {
        let e = &parse("A=\\$(echo x)\n").unwrap()[0];
        assert_eq!(e.literal().as_deref(), Some("$(echo x)"));
    }

    #[test]
    fn crlf_spans_point_into_original_text() {
        let text = "A=1\r\nBB=two\r\n";
        let e = &parse(text).unwrap()[1];
        assert_eq!(&text[e.key_span.start..e.key_span.end], "BB");
        assert_eq!((e.line, e.column), (2, 1));
        let s = e.inner_span.unwrap();
        assert_eq!(&text[s.start..s.end], "two");
    }

    #[test]
    fn unset_export_is_an_error() {
        assert!(matches!(
            parse("export NOPE\n"),
            Err(ParseError::UnsetExport { line: 1, .. })
        ));
        assert!(parse("A=1\nexport A\n").is_ok());
    }

    #[test]
    fn direct_program_follows_ruby_backticks() {
        assert_eq!(direct_program("op read x"), Some("op"));
        assert_eq!(direct_program("op read x 2>/dev/null"), None);
        assert_eq!(direct_program("FOO=1 op"), None);
        assert_eq!(direct_program("exit 1"), None);
    }

    #[test]
    fn multibyte_columns_count_characters() {
        let text = "A='中文'\nB=x\n";
        let e = &parse(text).unwrap()[0];
        let s = e.inner_span.unwrap();
        assert_eq!(&text[s.start..s.end], "中文");
        assert_eq!(line_col(text, s.end), (1, 6));
    }

    proptest::proptest! {
        // Fuzz-style: any text made of the characters that matter to the
        // grammar parses, and resolving it never panics; every span lies
        // inside the text on a character boundary.
        #[test]
        fn any_secrets_text_parses_without_panic(
            text in "[A-Z_=$(){}'\"#\\ \r\nax.:é-]{0,80}"
        ) {
            if let Ok(entries) = parse(&text) {
                for entry in &entries {
                    for part in &entry.parts {
                        let span = part.span();
                        proptest::prop_assert!(span.start <= span.end && span.end <= text.len());
                        proptest::prop_assert!(text.is_char_boundary(span.start));
                        proptest::prop_assert!(text.is_char_boundary(span.end));
                    }
                }
                let _ = resolve_without_commands(&entries, &|_| None);
            }
        }
    }
}
