//! A YAML document as a tree of located nodes.
//!
//! serde-saphyr parses; every node keeps the line and column it came from so
//! that validation long after parsing can still point at the offending key.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::loc::{Loc, PathSegment};

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub loc: Loc,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in file order; keys are plain strings located at the key.
    Map(Vec<(Key, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    pub name: String,
    pub loc: Loc,
}

impl Node {
    pub fn new(value: Value, loc: Loc) -> Self {
        Node { value, loc }
    }

    /// What a user would call this node's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    /// The node itself as plain JSON (locations dropped).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(x) => serde_json::Number::from_f64(*x).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// Builds a node from JSON, every part located at `loc` (used for values
    /// that come from the command line rather than a file).
    pub fn from_json(json: &serde_json::Value, loc: Loc) -> Node {
        use serde_json::Value as J;
        let value = match json {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            J::String(s) => Value::Str(s.clone()),
            J::Array(items) => Value::Seq(items.iter().map(|i| Node::from_json(i, loc)).collect()),
            J::Object(map) => Value::Map(
                map.iter()
                    .map(|(k, v)| {
                        (
                            Key {
                                name: k.clone(),
                                loc,
                            },
                            Node::from_json(v, loc),
                        )
                    })
                    .collect(),
            ),
        };
        Node { value, loc }
    }

    /// Finds the location of the node at a path of map keys and list indices
    /// below this one; falls back to the deepest node that exists.
    pub fn locate(&self, path: &[PathSegment]) -> Loc {
        self.find(path).loc
    }

    /// The node at `path`, or the deepest one on the way to it.
    pub fn find(&self, path: &[PathSegment]) -> &Node {
        let mut node = self;
        for seg in path {
            let next = match (seg, &node.value) {
                (PathSegment::Key(k), Value::Map(entries)) => entries
                    .iter()
                    .find(|(key, _)| &key.name == k)
                    .map(|(_, v)| v),
                (PathSegment::Index(i), Value::Seq(items)) => items.get(*i),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        node
    }
}

/// A YAML syntax error: where, and what the parser said.
#[derive(Debug)]
pub struct SyntaxError {
    pub loc: Loc,
    pub message: String,
}

/// Parses one YAML document into a located tree.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    // YAML 1.2 booleans only: a param named `n` or `y` is text, not false.
    let options = serde_saphyr::options! { strict_booleans: true };
    serde_saphyr::from_str_with_options::<Node>(text, options).map_err(|e| {
        let loc = e
            .location()
            .map(|l| Loc {
                line: l.line() as u32,
                col: l.column() as u32,
            })
            .unwrap_or_default();
        let render = serde_saphyr::render_options! {
            snippets: serde_saphyr::SnippetMode::Off,
        };
        let message = e.render_with_options(render);
        SyntaxError {
            loc,
            message: plain(&message),
        }
    })
}

/// The parser's first line without its location (ours goes first) and
/// without advice meant for programs calling it.
fn plain(rendered: &str) -> String {
    let mut message = rendered.lines().next().unwrap_or_default();
    if let Some(at) = message.rfind(" at line ") {
        message = &message[..at];
    }
    if let Some(advice) = message.find(", set DuplicateKeyPolicy") {
        message = &message[..advice];
    }
    message
        .trim_end_matches(|c: char| c == '.' || c == ',' || c.is_whitespace())
        .to_string()
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(d)?;
        Ok(Node {
            value: spanned.value,
            loc: Loc {
                line: spanned.referenced.line() as u32,
                col: spanned.referenced.column() as u32,
            },
        })
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let node = Node::deserialize(d)?;
        let name = match node.value {
            Value::Str(s) => s,
            Value::Int(i) => i.to_string(),
            Value::Float(x) => x.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return Err(de::Error::custom("mapping keys must be scalars")),
        };
        Ok(Key {
            name,
            loc: node.loc,
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom("integer too large"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Key>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_keep_their_location() {
        let doc = parse("a: 1\nb:\n  c: [x, 2.5]\n  d: '0.5'\n").unwrap();
        let b = doc.get("b").unwrap();
        assert_eq!(b.get("c").unwrap().loc.line, 3);
        let (key, _) = &b.as_map().unwrap()[1];
        assert_eq!((key.name.as_str(), key.loc.line, key.loc.col), ("d", 4, 3));
        assert_eq!(b.get("d").unwrap().value, Value::Str("0.5".into()));
        assert_eq!(doc.get("a").unwrap().value, Value::Int(1));
    }

    #[test]
    fn syntax_errors_are_located() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.loc.line >= 1, "{err:?}");
        assert!(!err.message.is_empty());
    }

    #[test]
    fn only_yaml_1_2_booleans() {
        let doc = parse("n: no\ny: true\n").unwrap();
        assert_eq!(doc.get("n").unwrap().value, Value::Str("no".into()));
        assert_eq!(doc.get("y").unwrap().value, Value::Bool(true));
    }

    #[test]
    fn duplicate_keys_are_rejected_in_plain_words() {
        let err = parse("a: 1\na: 2\n").unwrap_err();
        assert_eq!((err.loc.line, err.loc.col), (2, 1));
        assert_eq!(err.message, "duplicate mapping key: a");
        let err = parse("a: [1, 2\n").unwrap_err();
        assert_eq!(err.message, "unclosed bracket '['");
    }
}
