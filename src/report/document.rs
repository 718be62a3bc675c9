//! A report as a title and a list of blocks.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A report: a title (rendered as the level-1 heading) and its blocks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub title: String,
    pub blocks: Vec<Block>,
}

/// One piece of a report. Text is plain text, not Markdown: renderers
/// escape it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Block {
    /// A heading of level 1 to 6 (others are clamped). The title is level
    /// 1, so sections start at 2.
    Heading(u8, String),
    Paragraph(String),
    /// Preformatted text, e.g. the exact command line.
    Code(String),
    /// A Markdown pipe table, as `table::to_markdown` writes, under its caption.
    Table {
        markdown: String,
        caption: String,
    },
    /// A PNG image above its caption.
    Figure {
        path: PathBuf,
        caption: String,
    },
    /// Labelled facts: nrun version, device, scale, date.
    KeyValues(Vec<(String, String)>),
    /// The facts of the run that published the report and its command
    /// line. Not part of any cache key, so a report copied out of the
    /// cache gets the publishing run's ([`Document::with_run`]).
    RunFacts {
        facts: Vec<(String, String)>,
        command: String,
    },
    /// Links to every heading of level `max_level` or less, the title aside.
    Contents {
        max_level: u8,
    },
}

impl Document {
    pub fn new(title: impl Into<String>) -> Document {
        Document {
            title: title.into(),
            blocks: Vec::new(),
        }
    }

    /// A fact the document states about the run that published it
    /// (`scale`, `commit`, ...): in its run facts, or in the labelled facts
    /// that documents written before run facts had.
    pub fn fact(&self, name: &str) -> Option<&str> {
        self.blocks.iter().find_map(|b| match b {
            Block::RunFacts { facts, .. } | Block::KeyValues(facts) => facts
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str()),
            _ => None,
        })
    }

    /// The document with its run facts replaced by these.
    pub fn with_run(&self, facts: &[(String, String)], command: &str) -> Document {
        let blocks = self
            .blocks
            .iter()
            .map(|b| match b {
                Block::RunFacts { .. } => Block::RunFacts {
                    facts: facts.to_vec(),
                    command: command.to_string(),
                },
                other => other.clone(),
            })
            .collect();
        Document {
            title: self.title.clone(),
            blocks,
        }
    }

    /// The document with `figure` right after its run facts (none without
    /// them): the publishing run's timeline.
    pub fn with_run_figure(&self, figure: Block) -> Document {
        let mut blocks = Vec::with_capacity(self.blocks.len() + 1);
        for b in &self.blocks {
            blocks.push(b.clone());
            if matches!(b, Block::RunFacts { .. }) {
                blocks.push(figure.clone());
            }
        }
        Document {
            title: self.title.clone(),
            blocks,
        }
    }

    /// Appends `block`; returns the document so pushes can be chained.
    pub fn push(&mut self, block: Block) -> &mut Document {
        self.blocks.push(block);
        self
    }
}
