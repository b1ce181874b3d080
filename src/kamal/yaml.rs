//! A YAML document as a tree whose every node knows its line and column.
//!
//! Built from yaml-rust2's event parser, with limits a hostile file cannot
//! get past: a size cap on the input, a depth cap, and a node budget that
//! aliases spend as they are expanded (an alias bomb runs out of budget
//! long before it runs out of memory). Merge keys (`<<: *base`) are applied
//! as Psych applies them: keys already in the mapping win.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Largest deploy file kseal reads.
pub const FILE_MAX_BYTES: usize = 1024 * 1024;
/// Deepest nesting of sequences and mappings.
pub const DEPTH_MAX: usize = 64;
/// Most nodes one document may hold once aliases are expanded.
pub const NODES_MAX: usize = 100_000;

/// 1-based line and column (in characters) of a node's first character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Block,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar { text: String, style: Style },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// One node, with the file it came from (an index the caller assigns) and
/// its position there.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
    pub file: usize,
}

impl Node {
    /// The scalar's text, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The value under `key` in a mapping; the last one wins, as in Ruby.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .rev()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// Follows a path of mapping keys.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, key| node.get(key))
    }

    /// Whether a scalar is YAML's null (`~`, `null`, or nothing).
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, style: Style::Plain }
            if text.is_empty() || text == "~" || text == "null" || text == "Null" || text == "NULL")
    }

    fn count(&self) -> usize {
        match &self.value {
            Value::Scalar { .. } => 1,
            Value::Seq(items) => 1 + items.iter().map(Node::count).sum::<usize>(),
            Value::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.count() + v.count())
                    .sum::<usize>()
            }
        }
    }
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum YamlError {
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("the file is {0} bytes, more than the {FILE_MAX_BYTES} kseal reads")]
    TooLarge(usize),
    #[error("line {0}: nested more than {DEPTH_MAX} levels deep")]
    TooDeep(usize),
    #[error("line {0}: more than {NODES_MAX} nodes once aliases are expanded (an alias bomb?)")]
    TooManyNodes(usize),
    #[error("line {0}: alias to an unknown anchor")]
    UnknownAnchor(usize),
}

/// Parses the first document of `text`. An empty document is `None`.
/// `file` is stored in every node.
pub fn parse(text: &str, file: usize) -> Result<Option<Node>, YamlError> {
    if text.len() > FILE_MAX_BYTES {
        return Err(YamlError::TooLarge(text.len()));
    }
    let mut builder = Builder {
        file,
        stack: Vec::new(),
        anchors: Vec::new(),
        root: None,
        nodes: 0,
        error: None,
        documents: 0,
    };
    let mut parser = Parser::new_from_str(text);
    let result = parser.load(&mut builder, false);
    if let Some(err) = builder.error {
        return Err(err);
    }
    if let Err(e) = result {
        let m = e.marker();
        return Err(YamlError::Syntax {
            line: m.line(),
            column: m.col() + 1,
            message: e.info().to_owned(),
        });
    }
    Ok(builder.root)
}

enum Open {
    Seq(Node, usize),
    /// A mapping, its pending key, and its anchor.
    Map(Node, Option<Node>, usize),
}

struct Builder {
    file: usize,
    stack: Vec<Open>,
    anchors: Vec<(usize, Node)>,
    root: Option<Node>,
    nodes: usize,
    error: Option<YamlError>,
    documents: usize,
}

impl Builder {
    fn pos(mark: &Marker) -> Pos {
        Pos {
            line: mark.line(),
            column: mark.col() + 1,
        }
    }

    fn fail(&mut self, err: YamlError) {
        if self.error.is_none() {
            self.error = Some(err);
        }
    }

    /// Adds a finished node to its parent (or makes it the root).
    fn push(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.push((anchor, node.clone()));
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Open::Seq(seq, _)) => {
                if let Value::Seq(items) = &mut seq.value {
                    items.push(node);
                }
            }
            Some(Open::Map(map, key, _)) => match key.take() {
                None => *key = Some(node),
                Some(k) => {
                    if let Value::Map(entries) = &mut map.value {
                        if matches!(&k.value, Value::Scalar { text, style: Style::Plain } if text == "<<")
                        {
                            merge_into(entries, node);
                        } else {
                            entries.push((k, node));
                        }
                    }
                }
            },
        }
    }
}

/// Psych's merge key: the merged mapping's keys are added unless the
/// mapping already has them; a sequence merges each of its mappings.
fn merge_into(entries: &mut Vec<(Node, Node)>, source: Node) {
    let maps: Vec<Node> = match source.value {
        Value::Map(_) => vec![source],
        Value::Seq(items) => items,
        Value::Scalar { .. } => return,
    };
    for map in maps {
        if let Value::Map(from) = map.value {
            for (k, v) in from {
                if !entries.iter().any(|(e, _)| e.as_str() == k.as_str()) {
                    entries.push((k, v));
                }
            }
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let pos = Builder::pos(&mark);
        match ev {
            Event::DocumentStart => self.documents += 1,
            Event::Scalar(text, style, anchor, _) => {
                self.nodes += 1;
                if self.nodes > NODES_MAX {
                    return self.fail(YamlError::TooManyNodes(pos.line));
                }
                let style = match style {
                    TScalarStyle::Plain => Style::Plain,
                    TScalarStyle::SingleQuoted => Style::SingleQuoted,
                    TScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    TScalarStyle::Literal | TScalarStyle::Folded => Style::Block,
                };
                let node = Node {
                    value: Value::Scalar { text, style },
                    pos,
                    file: self.file,
                };
                self.push(node, anchor);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                self.nodes += 1;
                if self.nodes > NODES_MAX {
                    return self.fail(YamlError::TooManyNodes(pos.line));
                }
                if self.stack.len() >= DEPTH_MAX {
                    return self.fail(YamlError::TooDeep(pos.line));
                }
                let open = if matches!(ev, Event::SequenceStart(..)) {
                    let node = Node {
                        value: Value::Seq(Vec::new()),
                        pos,
                        file: self.file,
                    };
                    Open::Seq(node, anchor)
                } else {
                    let node = Node {
                        value: Value::Map(Vec::new()),
                        pos,
                        file: self.file,
                    };
                    Open::Map(node, None, anchor)
                };
                self.stack.push(open);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(open) = self.stack.pop() {
                    let (node, anchor) = match open {
                        Open::Seq(node, anchor) | Open::Map(node, _, anchor) => (node, anchor),
                    };
                    self.push(node, anchor);
                }
            }
            Event::Alias(id) => {
                let Some(node) = self
                    .anchors
                    .iter()
                    .rev()
                    .find(|(a, _)| *a == id)
                    .map(|(_, n)| n)
                else {
                    return self.fail(YamlError::UnknownAnchor(pos.line));
                };
                // Count before copying, so a bomb is stopped without
                // building it.
                let size = node.count();
                self.nodes += size;
                if self.nodes > NODES_MAX {
                    return self.fail(YamlError::TooManyNodes(pos.line));
                }
                let mut copy = node.clone();
                // The alias sits where it is written.
                copy.pos = pos;
                self.push(copy, 0);
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_keys_and_values() {
        let doc = parse("a:\n  b: 'x'\n  c:\n    - d\n", 0).unwrap().unwrap();
        let b = doc.at(&["a", "b"]).unwrap();
        assert_eq!(b.pos, Pos { line: 2, column: 6 });
        assert_eq!(b.as_str(), Some("x"));
        let d = &doc.at(&["a", "c"]).unwrap().as_seq().unwrap()[0];
        assert_eq!(d.pos, Pos { line: 4, column: 7 });
    }

    #[test]
    fn alias_bomb_is_stopped() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(matches!(parse(&text, 0), Err(YamlError::TooManyNodes(_))));
    }

    #[test]
    fn deep_nesting_is_stopped() {
        let text = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let r = parse(&text, 0);
        assert!(matches!(r, Err(YamlError::TooDeep(_))), "{r:?}");
    }

    #[test]
    fn merge_keys_fill_missing_keys() {
        let doc = parse("base: &b {x: 1, y: 2}\nthis:\n  <<: *b\n  y: 3\n", 0)
            .unwrap()
            .unwrap();
        let this = doc.get("this").unwrap();
        assert_eq!(this.get("x").and_then(Node::as_str), Some("1"));
        assert_eq!(this.get("y").and_then(Node::as_str), Some("3"));
    }
}
