//! Content hashes of file and folder inputs, memoised by path, size, mtime
//! and inode so unchanged data is not read again.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Files at least this large are memory-mapped and hashed on all cores.
const MMAP_THRESHOLD: u64 = 1 << 20;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    size: u64,
    mtime_ns: i128,
    inode: u64,
    hash: String,
}

/// A memo of file hashes kept in the cache folder.
pub struct FileHasher {
    /// Where the memo lives; `None` keeps it in memory only.
    memo_path: Option<PathBuf>,
    memo: BTreeMap<PathBuf, Stamp>,
    dirty: bool,
}

impl FileHasher {
    /// Loads the memo at `memo_path` (a missing or unreadable memo is empty).
    pub fn open(memo_path: PathBuf) -> Self {
        let memo = fs::read(&memo_path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        FileHasher {
            memo_path: Some(memo_path),
            memo,
            dirty: false,
        }
    }

    /// A hasher that remembers nothing between processes.
    pub fn in_memory() -> Self {
        FileHasher {
            memo_path: None,
            memo: BTreeMap::new(),
            dirty: false,
        }
    }

    /// The blake3 hash of a file, or of a folder's relative paths and file
    /// hashes (walked in sorted order, so the result is stable).
    pub fn hash(&mut self, path: &Path) -> Result<String> {
        let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if !meta.is_dir() {
            return self.hash_file(path, &meta);
        }
        let mut listing = blake3::Hasher::new();
        let walker = walkdir::WalkDir::new(path)
            .sort_by_file_name()
            .follow_links(true);
        for entry in walker {
            let entry = entry.map_err(|e| {
                let p = e.path().unwrap_or(path).to_path_buf();
                Error::io(p, e.into())
            })?;
            if entry.file_type().is_dir() {
                continue;
            }
            let meta = entry
                .metadata()
                .map_err(|e| Error::io(entry.path(), e.into()))?;
            let rel = entry.path().strip_prefix(path).unwrap_or(entry.path());
            let hash = self.hash_file(entry.path(), &meta)?;
            listing.update(rel.to_string_lossy().as_bytes());
            listing.update(b"\0");
            listing.update(hash.as_bytes());
            listing.update(b"\n");
        }
        Ok(listing.finalize().to_hex().to_string())
    }

    fn hash_file(&mut self, path: &Path, meta: &fs::Metadata) -> Result<String> {
        let key = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let mtime_ns = meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128;
        if let Some(stamp) = self.memo.get(&key)
            && stamp.size == meta.len()
            && stamp.mtime_ns == mtime_ns
            && stamp.inode == meta.ino()
        {
            return Ok(stamp.hash.clone());
        }
        let hash = hash_file_contents(path, meta.len())?;
        self.memo.insert(
            key,
            Stamp {
                size: meta.len(),
                mtime_ns,
                inode: meta.ino(),
                hash: hash.clone(),
            },
        );
        self.dirty = true;
        Ok(hash)
    }

    /// Writes the memo back if it changed (atomically; a lost race between
    /// two processes only loses memo entries, never correctness).
    pub fn save(&mut self) {
        let Some(path) = self.memo_path.as_ref().filter(|_| self.dirty) else {
            return;
        };
        if let Ok(bytes) = serde_json::to_vec(&self.memo) {
            let _ = crate::fsutil::write_atomic(path, &bytes);
        }
        self.dirty = false;
    }
}

/// The blake3 hash of one file's bytes.
pub fn hash_file_contents(path: &Path, len: u64) -> Result<String> {
    let mut hasher = blake3::Hasher::new();
    if len >= MMAP_THRESHOLD {
        hasher
            .update_mmap_rayon(path)
            .map_err(|e| Error::io(path, e))?;
    } else {
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut buf = Vec::with_capacity(len as usize);
        file.read_to_end(&mut buf).map_err(|e| Error::io(path, e))?;
        hasher.update(&buf);
    }
    Ok(hasher.finalize().to_hex().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_hash_covers_names_and_contents() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        fs::create_dir_all(data.join("sub")).unwrap();
        fs::write(data.join("a.txt"), "one").unwrap();
        fs::write(data.join("sub/b.txt"), "two").unwrap();
        let mut hasher = FileHasher::open(dir.path().join("memo.json"));
        let h1 = hasher.hash(&data).unwrap();
        assert_eq!(hasher.hash(&data).unwrap(), h1);
        fs::rename(data.join("a.txt"), data.join("c.txt")).unwrap();
        let h2 = hasher.hash(&data).unwrap();
        assert_ne!(h1, h2);
        fs::write(data.join("c.txt"), "changed").unwrap();
        assert_ne!(hasher.hash(&data).unwrap(), h2);
    }

    #[test]
    fn memo_survives_a_reload_and_notices_changes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.bin");
        fs::write(&file, vec![7u8; 3 << 20]).unwrap();
        let memo = dir.path().join("memo.json");
        let mut hasher = FileHasher::open(memo.clone());
        let h = hasher.hash(&file).unwrap();
        assert_eq!(h, blake3::hash(&vec![7u8; 3 << 20]).to_hex().to_string());
        hasher.save();
        let mut again = FileHasher::open(memo);
        assert_eq!(again.hash(&file).unwrap(), h);
        assert!(!again.dirty, "an unchanged file is not re-hashed");
        fs::write(&file, b"new").unwrap();
        assert_ne!(again.hash(&file).unwrap(), h);
    }
}
