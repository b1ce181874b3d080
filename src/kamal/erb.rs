//! ERB in `config/deploy*.yml`, understood but never evaluated.
//!
//! Kamal runs every deploy file through ERB before YAML sees it. kseal does
//! not run Ruby; it needs to know what a tag stands for: `<%= "pw" %>` is a
//! literal string as surely as `pw`, while `<%= ENV["PW"] %>`, `%x(…)` and
//! backticks fetch the value from elsewhere at deploy time.
//!
//! [`mask`] prepares a file for the YAML parser: control tags (`<% … %>`,
//! `<%# … %>`) become blanks and each output tag (`<%= … %>`) becomes a
//! placeholder word of the same width, so every line and column the parser
//! reports still points at the original text. [`Masked::expand`] turns a
//! parsed scalar back into text and [`Tag`]s.
//!
//! ```
//! use kseal::kamal::erb::{mask, Expr, Piece};
//!
//! let masked = mask("password: <%= ENV[\"PW\"] %>\n");
//! let scalar = masked.text.split(": ").nth(1).unwrap().trim();
//! let pieces = masked.expand(scalar);
//! assert!(matches!(&pieces[0], Piece::Tag(t) if t.expr == Expr::Env("PW".into())));
//! ```

use std::sync::LazyLock;

use regex::Regex;

/// What an output tag's Ruby expression amounts to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Expr {
    /// A plain string literal: its text is in the file, in the clear.
    Literal(String),
    /// `ENV["NAME"]`, `ENV.fetch("NAME")`: read from the environment.
    Env(String),
    /// `%x(…)` or backticks: the output of a command.
    Command(String),
    /// Any other Ruby expression; its value cannot be known statically.
    Other,
}

impl Expr {
    /// Whether the expression takes its value from outside the file.
    pub fn is_reference(&self) -> bool {
        matches!(self, Expr::Env(_) | Expr::Command(_))
    }
}

/// One ERB output tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// The Ruby code between `<%=` and `%>`, trimmed.
    pub code: String,
    pub expr: Expr,
    /// Width of the tag in the source, in characters.
    pub width: usize,
}

/// A piece of a scalar after [`Masked::expand`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Tag(Tag),
}

/// A deploy file with its ERB tags replaced, same lines and columns.
#[derive(Debug, Clone, Default)]
pub struct Masked {
    pub text: String,
    /// The output tags, in order; the placeholder of tag `i` is
    /// [`placeholder`]`(i)` padded to the tag's width.
    pub tags: Vec<Tag>,
}

/// The word that stands for output tag `index` in masked text.
pub fn placeholder(index: usize) -> String {
    format!("{OPEN}{index}{CLOSE}")
}

// Private-use characters: YAML takes them as plain text and no real deploy
// file contains them, and they keep a placeholder narrower than its tag.
const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';
const PAD: char = '\u{E002}';

/// Replaces the ERB tags of `source`; see the module docs.
pub fn mask(source: &str) -> Masked {
    if !source.contains("<%") {
        return Masked {
            text: source.to_owned(),
            tags: Vec::new(),
        };
    }
    let mut out = String::with_capacity(source.len());
    let mut tags = Vec::new();
    let mut rest = source;

    while let Some(open) = rest.find("<%") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        // `<%%` is ERB's escape for a literal `<%`.
        if let Some(escaped) = after.strip_prefix('%') {
            out.push_str("<%");
            rest = escaped;
            continue;
        }
        let Some(close) = after.find("%>") else {
            // An unclosed tag: leave the rest for YAML to judge.
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let inner = &after[..close];
        let whole = &rest[open..open + 2 + close + 2];
        rest = &after[close + 2..];
        let width = whole.chars().count();

        if let Some(code) = inner.strip_prefix('=') {
            let code = code.trim().trim_end_matches('-').trim().to_owned();
            let index = tags.len();
            let word = placeholder(index);
            let first_line_width = whole.split('\n').next().map_or(0, |l| l.chars().count());
            out.push_str(&word);
            for _ in word.chars().count()..first_line_width {
                out.push(PAD);
            }
            // A tag spanning lines keeps its line breaks, so later lines
            // keep their numbers.
            for line in whole.split('\n').skip(1) {
                out.push('\n');
                out.extend(line.chars().map(|_| ' '));
            }
            tags.push(Tag {
                expr: classify(&code),
                code,
                width,
            });
        } else {
            for c in whole.chars() {
                out.push(if c == '\n' { '\n' } else { ' ' });
            }
        }
    }
    out.push_str(rest);
    Masked { text: out, tags }
}

impl Masked {
    /// Splits a scalar's text into plain text and the tags it holds.
    pub fn expand(&self, scalar: &str) -> Vec<Piece> {
        if self.tags.is_empty() || !scalar.contains(OPEN) {
            return vec![Piece::Text(scalar.to_owned())];
        }
        let mut pieces = Vec::new();
        let mut rest = scalar;
        while let Some(caps) = PLACEHOLDER.captures(rest) {
            let m = caps.get(0).expect("group 0 is the whole match");
            let index: usize = caps[1].parse().unwrap_or(usize::MAX);
            let Some(tag) = self.tags.get(index) else {
                break;
            };
            if m.start() > 0 {
                pieces.push(Piece::Text(rest[..m.start()].to_owned()));
            }
            pieces.push(Piece::Tag(tag.clone()));
            rest = &rest[m.end()..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_owned()));
        }
        pieces
    }
}

static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new("\u{E000}([0-9]+)\u{E001}\u{E002}*").expect("the placeholder pattern is valid")
});

/// Reads a Ruby expression for what it yields.
pub fn classify(code: &str) -> Expr {
    static STRING: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"^(?:"((?:[^"\\#]|\\.|#[^{])*)"|'((?:[^'\\]|\\.)*)')$"#)
            .expect("the string pattern is valid")
    });
    static ENV: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"ENV(?:\[|\.fetch\(\s*)["']([^"']+)["']"#).expect("the ENV pattern is valid")
    });
    static COMMAND: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:%x[\(\[\{<|](.*)[\)\]\}>|]|`(.*)`)$")
            .expect("the command pattern is valid")
    });

    let code = code.trim();
    if let Some(caps) = STRING.captures(code) {
        let text = caps
            .get(1)
            .or_else(|| caps.get(2))
            .map_or("", |m| m.as_str());
        return Expr::Literal(unescape_ruby(text));
    }
    if let Some(caps) = COMMAND.captures(code) {
        let text = caps
            .get(1)
            .or_else(|| caps.get(2))
            .map_or("", |m| m.as_str());
        return Expr::Command(text.trim().to_owned());
    }
    if let Some(caps) = ENV.captures(code) {
        return Expr::Env(caps[1].to_owned());
    }
    if code.contains("%x") || code.contains('`') {
        return Expr::Command(code.to_owned());
    }
    Expr::Other
}

/// The common backslash escapes of a Ruby string literal.
fn unescape_ruby(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_keeps_lines_and_columns() {
        let src = "a: <%= \"x\" %>\n<% if true %>\nb: 1\n<% end %>\n";
        let masked = mask(src);
        let widths = |t: &str| t.lines().map(|l| l.chars().count()).collect::<Vec<_>>();
        assert_eq!(widths(&masked.text), widths(src));
        assert_eq!(masked.text.lines().count(), src.lines().count());
        assert!(masked.text.lines().nth(2) == Some("b: 1"));
        assert_eq!(masked.tags[0].expr, Expr::Literal("x".into()));
    }

    #[test]
    fn classifies_references_and_literals() {
        assert_eq!(classify("'my-user'"), Expr::Literal("my-user".into()));
        assert_eq!(classify("ENV.fetch(\"DB\", \"x\")"), Expr::Env("DB".into()));
        assert_eq!(
            classify("%x(aws ecr get-login-password)"),
            Expr::Command("aws ecr get-login-password".into())
        );
        assert_eq!(
            classify("`git rev-parse HEAD`"),
            Expr::Command("git rev-parse HEAD".into())
        );
        assert_eq!(classify("Kamal::Utils.docker_arch"), Expr::Other);
        assert_eq!(classify("\"a#{b}\""), Expr::Other);
    }

    #[test]
    fn expand_splits_text_and_tags() {
        let masked = mask("k: pre-<%= 'lit' %>-post\n");
        let value = masked.text[3..].trim_end();
        let pieces = masked.expand(value);
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces[0], Piece::Text("pre-".into()));
        assert_eq!(pieces[2], Piece::Text("-post".into()));
    }

    #[test]
    fn escaped_open_is_kept() {
        assert_eq!(mask("a: <%% x %>").text, "a: <% x %>");
    }
}
