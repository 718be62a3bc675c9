//! Finished work that travels: cache entries and the checkpoints of
//! unfinished trainings as one tar stream (`nrun export` / `nrun import`),
//! e.g. from a GPU machine whose outputs come back as a few small files:
//!
//! ```text
//! nrun export pipelines/x.yaml | split -b 15M - part.     # there
//! cat part.* | nrun import -                               # here
//! ```
//!
//! The stream's first member, `nrun-export.json`, lists every file that
//! follows with its size and blake3. Import extracts into a staging folder
//! of the cache and checks everything there first: each file against the
//! list, nothing missing or extra, each entry's `record.json` hashing to
//! its key. Only then does it move entries in (never over an existing one)
//! and checkpoints (only over an older one of the same key), so a
//! truncated, corrupted or foreign stream changes nothing.

pub mod export;
pub mod import;

use serde::{Deserialize, Serialize};

pub use crate::cache::FileSum;

/// The name of the stream's first member.
pub const MANIFEST: &str = "nrun-export.json";
const FORMAT: &str = "nrun-export";
const VERSION: u32 = 1;

/// What a stream carries; written first, checked against what follows.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    /// The nrun that wrote it (informative).
    pub nrun: String,
    pub items: Vec<Item>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    /// A complete cache entry: `entries/<key>/...` in the stream.
    Entry,
    /// The newest checkpoint of an unfinished training:
    /// `checkpoints/<key>/...` in the stream.
    Checkpoint,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Item {
    pub kind: ItemKind,
    pub key: String,
    /// For checkpoints: the outer step they resume at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<u64>,
    pub files: Vec<FileSum>,
}

impl Item {
    /// The item's folder inside the stream.
    pub fn prefix(&self) -> String {
        let top = match self.kind {
            ItemKind::Entry => "entries",
            ItemKind::Checkpoint => "checkpoints",
        };
        format!("{top}/{}", self.key)
    }

    /// Bytes the item takes in a tar stream (512-byte header and padded
    /// contents per file; long paths may add a header more).
    pub fn stream_size(&self) -> u64 {
        self.files
            .iter()
            .map(|f| 2 * 512 + f.size.div_ceil(512) * 512)
            .sum()
    }
}

impl Manifest {
    pub fn new(items: Vec<Item>) -> Manifest {
        Manifest {
            format: FORMAT.to_string(),
            version: VERSION,
            nrun: env!("CARGO_PKG_VERSION").to_string(),
            items,
        }
    }

    /// Whether this is a manifest this nrun can read.
    pub fn check(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!("`{MANIFEST}` is not an nrun export manifest"));
        }
        if self.version != VERSION {
            return Err(format!(
                "export format version {} (this nrun {} reads version {VERSION})",
                self.version,
                env!("CARGO_PKG_VERSION")
            ));
        }
        Ok(())
    }
}
