//! `config/deploy.yml` and its destination overlays, with positions.
//!
//! Kamal reads `config/deploy.yml`, runs it through ERB, parses the YAML,
//! and with `-d DEST` deep-merges `config/deploy.DEST.yml` over it: nested
//! mappings merge key by key, anything else (scalars, sequences) in the
//! overlay replaces the base. [`DeployFile`] is one parsed file;
//! [`merge`] builds the configuration of one destination. Every node keeps
//! the index of the file it came from, so a finding in a merged
//! configuration still points at the file and line that wrote it.
//!
//! ```
//! use kseal::kamal::deploy::{DeployFile, merge};
//!
//! let base = DeployFile::parse("config/deploy.yml", "service: app\nenv:\n  A: 1\n", 0).unwrap();
//! let prod = DeployFile::parse("config/deploy.prod.yml", "env:\n  B: 2\n", 1).unwrap();
//! let merged = merge(base.root.as_ref().unwrap(), prod.root.as_ref().unwrap());
//! assert_eq!(merged.at(&["env", "B"]).unwrap().file, 1);
//! assert_eq!(merged.at(&["env", "A"]).unwrap().file, 0);
//! ```

use super::erb::{self, Expr, Masked, Piece};
use super::yaml::{self, Node, Style, Value, YamlError};

/// The base deploy file, relative to the app root.
pub const BASE_PATH: &str = "config/deploy.yml";

/// One parsed deploy file.
#[derive(Debug, Clone)]
pub struct DeployFile {
    /// Path relative to the app root, with `/` separators.
    pub path: String,
    /// The file as written.
    pub text: String,
    /// The text YAML parsed: ERB tags masked, same lines and columns.
    pub masked: Masked,
    /// The document; `None` for an empty file.
    pub root: Option<Node>,
}

/// What a scalar in a deploy file amounts to once ERB is understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scalar {
    /// Text written in the file (ERB string literals included).
    Literal(String),
    /// Part or all of the value comes from `ENV` or a command.
    Reference,
    /// An ERB expression kseal cannot evaluate.
    Dynamic,
}

impl DeployFile {
    /// Parses `text`; `index` is stored in every node as its file.
    pub fn parse(path: &str, text: &str, index: usize) -> Result<DeployFile, YamlError> {
        if text.len() > yaml::FILE_MAX_BYTES {
            return Err(YamlError::TooLarge(text.len()));
        }
        let masked = erb::mask(text);
        let root = yaml::parse(&masked.text, index)?;
        Ok(DeployFile {
            path: path.to_owned(),
            text: text.to_owned(),
            masked,
            root,
        })
    }

    /// What a scalar node of this file holds.
    pub fn scalar(&self, node: &Node) -> Option<Scalar> {
        let text = node.as_str()?;
        let mut literal = String::new();
        let mut kind = None;
        for piece in self.masked.expand(text) {
            match piece {
                Piece::Text(t) => literal.push_str(&t),
                Piece::Tag(tag) => match tag.expr {
                    Expr::Literal(t) => literal.push_str(&t),
                    Expr::Env(_) | Expr::Command(_) => kind = Some(Scalar::Reference),
                    Expr::Other => {
                        if kind.is_none() {
                            kind = Some(Scalar::Dynamic)
                        }
                    }
                },
            }
        }
        Some(kind.unwrap_or(Scalar::Literal(literal)))
    }

    /// Width in characters of a scalar node as written on its first line,
    /// for a caret under it.
    pub fn span_len(&self, node: &Node) -> usize {
        let Value::Scalar { text, style } = &node.value else {
            return 1;
        };
        let Some(line) = self
            .masked
            .text
            .lines()
            .nth(node.pos.line.saturating_sub(1))
        else {
            return 1;
        };
        let rest: Vec<char> = line
            .chars()
            .skip(node.pos.column.saturating_sub(1))
            .collect();
        let len = match style {
            Style::Plain if !text.contains('\n') => text.chars().count(),
            Style::Plain => rest.len(),
            Style::SingleQuoted => closing(&rest, '\''),
            Style::DoubleQuoted => closing(&rest, '"'),
            Style::Block => 1,
        };
        len.clamp(1, rest.len().max(1))
    }

    /// The source line `line` (1-based) as written.
    pub fn line(&self, line: usize) -> Option<&str> {
        self.text.lines().nth(line.checked_sub(1)?)
    }
}

/// Width of a quoted scalar from its opening quote to its closing one on
/// the same line, or to the end of the line.
fn closing(rest: &[char], quote: char) -> usize {
    let mut i = 1;
    while i < rest.len() {
        let c = rest[i];
        if quote == '"' && c == '\\' {
            i += 2;
            continue;
        }
        if c == quote {
            if quote == '\'' && rest.get(i + 1) == Some(&'\'') {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    rest.len()
}

/// The destination an overlay file is for: `config/deploy.staging.yml` →
/// `staging`. `None` for the base file and anything else.
pub fn destination_of(path: &str) -> Option<&str> {
    let name = path.strip_prefix("config/")?;
    let dest = name.strip_prefix("deploy.")?.strip_suffix(".yml")?;
    (!dest.is_empty() && !dest.contains('/')).then_some(dest)
}

/// ActiveSupport's `Hash#deep_merge`, as Kamal applies an overlay: mappings
/// merge key by key, recursively; every other value in `overlay` replaces
/// the one in `base`.
pub fn merge(base: &Node, overlay: &Node) -> Node {
    match (&base.value, &overlay.value) {
        (Value::Map(b), Value::Map(o)) => {
            let mut entries = b.clone();
            for (key, value) in o {
                let slot = key
                    .as_str()
                    .and_then(|k| entries.iter().rposition(|(e, _)| e.as_str() == Some(k)));
                match slot {
                    Some(i) => {
                        let merged = merge(&entries[i].1, value);
                        entries[i] = (key.clone(), merged);
                    }
                    None => entries.push((key.clone(), value.clone())),
                }
            }
            Node {
                value: Value::Map(entries),
                pos: base.pos,
                file: base.file,
            }
        }
        _ => overlay.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erb_literal_is_a_literal_and_env_a_reference() {
        let text = "registry:\n  username: <%= \"my-user\" %>\n  password: <%= ENV[\"PW\"] %>\n";
        let file = DeployFile::parse("config/deploy.yml", text, 0).unwrap();
        let root = file.root.as_ref().unwrap();
        let user = root.at(&["registry", "username"]).unwrap();
        assert_eq!(file.scalar(user), Some(Scalar::Literal("my-user".into())));
        assert_eq!(user.pos.column, 13);
        assert_eq!(file.span_len(user), "<%= \"my-user\" %>".len());
        let pw = root.at(&["registry", "password"]).unwrap();
        assert_eq!(file.scalar(pw), Some(Scalar::Reference));
    }

    #[test]
    fn overlay_replaces_sequences_and_merges_maps() {
        let base = DeployFile::parse(BASE_PATH, "a:\n  x: [1, 2]\n  y: 1\n", 0).unwrap();
        let over = DeployFile::parse("config/deploy.p.yml", "a:\n  x: [3]\n", 1).unwrap();
        let m = merge(base.root.as_ref().unwrap(), over.root.as_ref().unwrap());
        assert_eq!(m.at(&["a", "x"]).unwrap().as_seq().unwrap().len(), 1);
        assert_eq!(m.at(&["a", "y"]).unwrap().as_str(), Some("1"));
    }

    #[test]
    fn destination_names() {
        assert_eq!(destination_of("config/deploy.staging.yml"), Some("staging"));
        assert_eq!(destination_of("config/deploy.yml"), None);
        assert_eq!(destination_of("config/other.yml"), None);
    }

    proptest::proptest! {
        /// Whatever the bytes, parsing ends in a model or an error, and
        /// every position it reports lies inside the file.
        #[test]
        fn parse_never_panics(text in "[a-z0-9 :\\-\\[\\]{}&*!|>'\"#<%=\n]{0,300}") {
            if let Ok(file) = DeployFile::parse(BASE_PATH, &text, 0)
                && let Some(root) = &file.root
            {
                let lines = text.lines().count().max(1);
                let mut stack = vec![root];
                while let Some(node) = stack.pop() {
                    proptest::prop_assert!(node.pos.line <= lines + 1);
                    let _ = file.span_len(node);
                    let _ = file.scalar(node);
                    match &node.value {
                        Value::Seq(items) => stack.extend(items),
                        Value::Map(entries) => {
                            stack.extend(entries.iter().flat_map(|(k, v)| [k, v]))
                        }
                        Value::Scalar { .. } => {}
                    }
                }
            }
        }
    }

    #[test]
    fn quoted_span_covers_quotes() {
        let file = DeployFile::parse(BASE_PATH, "k: 'it''s'  # c\n", 0).unwrap();
        let node = file.root.as_ref().unwrap().get("k").unwrap();
        assert_eq!(file.span_len(node), 7);
    }
}
