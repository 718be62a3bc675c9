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

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use serde::{Deserialize, Serialize};

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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSum {
    /// Relative to the item's folder, `/`-separated.
    pub path: String,
    pub size: u64,
    pub blake3: String,
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

/// Size and blake3 of what `reader` yields, copying it to `sink`.
pub fn copy_hashed(reader: &mut dyn Read, sink: &mut dyn io::Write) -> io::Result<(u64, String)> {
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        sink.write_all(&buf[..n])?;
        size += n as u64;
    }
    Ok((size, hasher.finalize().to_hex().to_string()))
}

/// Every file under `dir` with its size and hash, in sorted order.
pub fn sums(dir: &Path) -> io::Result<Vec<FileSum>> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(io::Error::from)?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
        let (size, blake3) = copy_hashed(&mut File::open(entry.path())?, &mut io::sink())?;
        files.push(FileSum {
            path: rel.to_string_lossy().replace('\\', "/"),
            size,
            blake3,
        });
    }
    Ok(files)
}
