//! Where a node sits in a pipeline file, and the path to a node inside a
//! stage's params. A leaf: errors, the YAML reader, stage kinds and
//! everything that reports a location share it.

use std::fmt;

/// 1-based line and column of a node in its file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Loc {
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// One step of a path into a YAML tree: a map key or a list index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathSegment {
    Key(String),
    Index(usize),
}
