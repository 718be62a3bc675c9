//! The content-addressed store of stage outputs.
//!
//! Layout under the cache root:
//!
//! ```text
//! entries/<key>/out/          the stage's files (immutable once there)
//! entries/<key>/record.json   what the key was hashed from
//! entries/<key>/manifest.json every output file with its size and blake3
//! entries/<key>/log.txt       the log of the run that built it
//! entries/<key>/build.json    how long the build took (what it is worth)
//! tmp/<key>.<unique>/         an entry being built; renamed into entries/
//! work/<key>/                 persistent work area (checkpoints, failed logs,
//!                             spent.json: seconds of builds that did not finish)
//! locks/<key>.lock            flock held while building <key>
//! file-hashes.json            memo of input file hashes
//! ```
//!
//! An entry appears only by the rename of a complete folder, so a crash or
//! Ctrl-C never leaves a partial entry visible; the flock is released by the
//! kernel when its holder dies, so a killed process leaves no stale lock.

pub mod hash;
pub mod record;

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct Store {
    root: PathBuf,
}

/// An exclusive lock on building one key, held until dropped.
pub struct EntryLock {
    key: String,
    _file: File,
}

/// An entry under construction.
pub struct Staging {
    key: String,
    dir: PathBuf,
}

/// One file of a folder: its path relative to the folder, size and blake3
/// (an entry's `manifest.json`, an export's manifest).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSum {
    pub path: String,
    pub size: u64,
    pub blake3: String,
}

impl Store {
    pub fn open(root: impl Into<PathBuf>) -> Result<Store> {
        let root = root.into();
        for sub in ["entries", "tmp", "work", "locks"] {
            let dir = root.join(sub);
            fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        // Absolute, so links and commands see the same place from anywhere.
        let root = fs::canonicalize(&root).map_err(|e| Error::io(&root, e))?;
        Ok(Store { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn entry(&self, key: &str) -> PathBuf {
        self.root.join("entries").join(key)
    }

    /// The stage's output folder inside a complete entry.
    pub fn output(&self, key: &str) -> PathBuf {
        Store::output_under(&self.root, key)
    }

    /// Where a cache rooted at `root` keeps an entry's output, for reading
    /// another cache (another checkout's) without opening it.
    pub fn output_under(root: &Path, key: &str) -> PathBuf {
        root.join("entries").join(key).join("out")
    }

    pub fn contains(&self, key: &str) -> bool {
        self.entry(key).is_dir()
    }

    /// Seconds the entry took to build (0 for entries from before nrun
    /// recorded it).
    pub fn build_seconds(&self, key: &str) -> f64 {
        read_seconds(&self.entry(key).join("build.json"))
    }

    /// Seconds spent on builds of `key` that did not finish (its work
    /// area's checkpoints are worth that much).
    pub fn spent(&self, key: &str) -> f64 {
        read_seconds(&self.work(key).join("spent.json"))
    }

    /// Adds a build that did not finish to `spent` (its lock must be held).
    pub fn add_spent(&self, key: &str, seconds: f64) {
        let path = self.work(key).join("spent.json");
        let total = read_seconds(&path) + seconds;
        let _ = crate::fsutil::write_atomic(
            &path,
            serde_json::json!({"seconds": total}).to_string().as_bytes(),
        );
    }

    pub fn record(&self, key: &str) -> Option<Json> {
        let bytes = fs::read(self.entry(key).join("record.json")).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn work(&self, key: &str) -> PathBuf {
        self.root.join("work").join(key)
    }

    pub fn memo_path(&self) -> PathBuf {
        self.root.join("file-hashes.json")
    }

    fn lock_file(&self, key: &str) -> Result<File> {
        let path = self.root.join("locks").join(format!("{key}.lock"));
        File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))
    }

    /// Takes the build lock of `key` if no other process holds it.
    pub fn try_lock(&self, key: &str) -> Result<Option<EntryLock>> {
        let file = self.lock_file(key)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(EntryLock {
                key: key.to_string(),
                _file: file,
            })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(Error::io(self.root.join("locks"), e)),
        }
    }

    /// Waits for the build lock of `key`.
    pub fn lock(&self, key: &str) -> Result<EntryLock> {
        let file = self.lock_file(key)?;
        file.lock()
            .map_err(|e| Error::io(self.root.join("locks"), e))?;
        Ok(EntryLock {
            key: key.to_string(),
            _file: file,
        })
    }

    /// Starts building `key`: clears what dead builds of it left in tmp/ and
    /// makes a fresh staging folder with an empty `out/`.
    pub fn stage(&self, lock: &EntryLock) -> Result<Staging> {
        self.remove_stale_tmp(&lock.key);
        let dir =
            self.root
                .join("tmp")
                .join(format!("{}.{}", lock.key, crate::fsutil::unique_suffix()));
        let out = dir.join("out");
        fs::create_dir_all(&out).map_err(|e| Error::io(&out, e))?;
        Ok(Staging {
            key: lock.key.clone(),
            dir,
        })
    }

    /// Deletes staging folders of `key` (only call with its lock held).
    fn remove_stale_tmp(&self, key: &str) {
        let prefix = format!("{key}.");
        if let Ok(entries) = fs::read_dir(self.root.join("tmp")) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = fs::remove_dir_all(entry.path());
                }
            }
        }
    }

    /// Publishes a staged entry: manifest, record and build time beside the
    /// outputs, the log copied in, then one rename makes it visible.
    pub fn commit(&self, staging: Staging, record: &Json, log: &Path, seconds: f64) -> Result<()> {
        let out = staging.dir.join("out");
        let manifest = file_sums(&out)?;
        write_json(&staging.dir.join("manifest.json"), &manifest)?;
        write_json(&staging.dir.join("record.json"), record)?;
        write_json(
            &staging.dir.join("build.json"),
            &serde_json::json!({"seconds": seconds}),
        )?;
        if log.exists() {
            let dest = staging.dir.join("log.txt");
            fs::copy(log, &dest).map_err(|e| Error::io(&dest, e))?;
        }
        let entry = self.entry(&staging.key);
        if entry.exists() {
            // Another process won the race; its entry has the same content.
            let _ = fs::remove_dir_all(&staging.dir);
            return Ok(());
        }
        fs::rename(&staging.dir, &entry).map_err(|e| Error::io(&entry, e))?;
        let work = self.work(&staging.key);
        let _ = fs::remove_dir_all(work);
        Ok(())
    }

    /// Throws a staged entry away (the work area stays for a retry).
    pub fn abandon(&self, staging: Staging) {
        let _ = fs::remove_dir_all(&staging.dir);
    }

    /// Keys of all complete entries.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = fs::read_dir(self.root.join("entries"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|k| is_key(k))
            .collect();
        keys.sort();
        keys
    }

    /// Work areas and staging folders, with the key each belongs to.
    pub fn scratch(&self) -> Vec<(String, PathBuf)> {
        let mut out = Vec::new();
        for sub in ["work", "tmp"] {
            for entry in fs::read_dir(self.root.join(sub))
                .into_iter()
                .flatten()
                .flatten()
            {
                let name = entry.file_name().to_string_lossy().into_owned();
                let key = name.split('.').next().unwrap_or_default().to_string();
                out.push((key, entry.path()));
            }
        }
        out
    }

    /// Removes an entry (its lock must be held).
    pub fn remove(&self, _lock: &EntryLock, key: &str) -> Result<u64> {
        let entry = self.entry(key);
        let size = dir_size(&entry);
        // Rename first so no reader ever sees a half-deleted entry.
        let doomed = self
            .root
            .join("tmp")
            .join(format!("{key}.gc.{}", crate::fsutil::unique_suffix()));
        fs::rename(&entry, &doomed).map_err(|e| Error::io(&entry, e))?;
        fs::remove_dir_all(&doomed).map_err(|e| Error::io(&doomed, e))?;
        Ok(size)
    }
}

impl Staging {
    pub fn out(&self) -> PathBuf {
        self.dir.join("out")
    }
}

pub fn is_key(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Every file under `out`, in sorted order, with its size and hash.
pub fn file_sums(out: &Path) -> Result<Vec<FileSum>> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(out).sort_by_file_name() {
        let entry = entry.map_err(|e| Error::io(out, e.into()))?;
        if entry.file_type().is_dir() {
            continue;
        }
        let meta = entry
            .metadata()
            .map_err(|e| Error::io(entry.path(), e.into()))?;
        let rel = entry.path().strip_prefix(out).unwrap_or(entry.path());
        files.push(FileSum {
            path: rel.to_string_lossy().into_owned(),
            size: meta.len(),
            blake3: hash::hash_file_contents(entry.path(), meta.len())?,
        });
    }
    Ok(files)
}

/// `seconds` of a `{"seconds": ...}` file; 0 if absent or unreadable.
fn read_seconds(path: &Path) -> f64 {
    fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Json>(&bytes).ok())
        .and_then(|json| json["seconds"].as_f64())
        .unwrap_or(0.0)
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| Error::Other(e.to_string()))?;
    fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

pub fn dir_size(path: &Path) -> u64 {
    walkdir::WalkDir::new(path)
        .into_iter()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}
