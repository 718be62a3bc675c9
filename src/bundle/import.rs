//! Reading an export: everything is extracted and checked in a staging
//! folder before anything moves into the cache.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};

use super::{FileSum, Item, ItemKind, MANIFEST, Manifest};
use crate::cache::{Store, is_key, record};
use crate::stages::checkpoint;

/// Why a stream was refused; the cache is unchanged.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(String);

/// What an import changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Imported {
    pub entries_added: usize,
    /// Entries this cache already had (left as they were).
    pub entries_present: usize,
    /// Checkpoints installed, with their steps.
    pub checkpoints_added: Vec<u64>,
    /// Checkpoints not installed: the training is finished here, or its
    /// checkpoint here is as far along.
    pub checkpoints_kept: usize,
}

/// Imports the stream read from `reader` into `store`.
pub fn import(store: &Store, reader: impl Read) -> Result<Imported, Refused> {
    let staging = Staging::new(store).map_err(|e| Refused(format!("staging folder: {e}")))?;
    let manifest = extract(reader, &staging.dir)?;
    for item in manifest.items.iter().filter(|i| i.kind == ItemKind::Entry) {
        let path = staging.dir.join(item.prefix()).join("record.json");
        let record: serde_json::Value = fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| Refused(format!("entry {}: no readable record.json", item.key)))?;
        if record::key(&record) != item.key {
            return Err(Refused(format!(
                "entry {}: its record does not hash to its key (altered, or not written by nrun)",
                item.key
            )));
        }
    }
    commit(store, &manifest, &staging.dir)
        .map_err(|e| Refused(format!("moving into the cache: {e}")))
}

/// A folder under the cache's tmp/ that is removed whatever happens.
struct Staging {
    dir: PathBuf,
}

impl Staging {
    fn new(store: &Store) -> io::Result<Staging> {
        let dir = store
            .root()
            .join("tmp")
            .join(format!("import.{}", crate::fsutil::unique_suffix()));
        fs::create_dir_all(&dir)?;
        Ok(Staging { dir })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Extracts every member into `into`, checking it against the manifest.
fn extract(reader: impl Read, into: &Path) -> Result<Manifest, Refused> {
    let damaged = |e: io::Error| Refused(format!("not a tar stream, or a damaged one: {e}"));
    let mut archive = tar::Archive::new(reader);
    let mut members = archive.entries().map_err(damaged)?;
    let mut first = match members.next() {
        None => return Err(Refused("empty stream: not an nrun export".into())),
        Some(m) => m.map_err(damaged)?,
    };
    let name = member_path(&first)?;
    if name != MANIFEST {
        return Err(Refused(format!(
            "not an nrun export: its first member is `{name}`, not `{MANIFEST}`"
        )));
    }
    let mut text = Vec::new();
    first
        .read_to_end(&mut text)
        .map_err(|e| Refused(format!("reading `{MANIFEST}`: {e}")))?;
    let manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| Refused(format!("`{MANIFEST}` is not an nrun export manifest: {e}")))?;
    manifest.check().map_err(Refused)?;
    let mut expected: BTreeMap<String, &FileSum> = BTreeMap::new();
    for item in &manifest.items {
        check_item(item)?;
        for file in &item.files {
            expected.insert(format!("{}/{}", item.prefix(), file.path), file);
        }
    }
    let total = expected.len();
    for member in members {
        let mut member =
            member.map_err(|e| Refused(format!("truncated or damaged stream: {e}")))?;
        let name = member_path(&member)?;
        let Some(want) = expected.remove(&name) else {
            return Err(Refused(format!(
                "unexpected member `{name}` (not in the manifest, or there twice)"
            )));
        };
        if member.header().entry_type() != tar::EntryType::Regular {
            return Err(Refused(format!("`{name}` is not a plain file")));
        }
        let dest = into.join(&name);
        let write = |member: &mut dyn Read| -> io::Result<(u64, String)> {
            fs::create_dir_all(dest.parent().expect("member paths have a folder"))?;
            let mut out = BufWriter::new(File::create(&dest)?);
            let sum = copy_hashed(member, &mut out)?;
            out.flush()?;
            Ok(sum)
        };
        let (size, blake3) = write(&mut member)
            .map_err(|e| Refused(format!("truncated or damaged stream at `{name}`: {e}")))?;
        if size != want.size || blake3 != want.blake3 {
            return Err(Refused(format!(
                "`{name}` is corrupted: its size or hash differs from the manifest's"
            )));
        }
    }
    if let Some(missing) = expected.keys().next() {
        return Err(Refused(format!(
            "truncated stream: {} of {total} files are missing, the first `{missing}`",
            expected.len()
        )));
    }
    Ok(manifest)
}

fn member_path<R: Read>(member: &tar::Entry<R>) -> Result<String, Refused> {
    let path = member
        .path()
        .map_err(|e| Refused(format!("a member's name is unreadable: {e}")))?;
    Ok(path.to_string_lossy().into_owned())
}

/// Keys are keys and file paths stay inside their item's folder.
fn check_item(item: &Item) -> Result<(), Refused> {
    if !is_key(&item.key) {
        return Err(Refused(format!(
            "`{}` in the manifest is not a cache key",
            item.key
        )));
    }
    if item.kind == ItemKind::Checkpoint && item.step.is_none() {
        return Err(Refused(format!("checkpoint {} has no step", item.key)));
    }
    for file in &item.files {
        let inside = Path::new(&file.path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
        if file.path.is_empty() || !inside {
            return Err(Refused(format!(
                "manifest path `{}` leaves its folder",
                file.path
            )));
        }
    }
    Ok(())
}

/// Moves checked items into the cache, each under its key's build lock.
fn commit(store: &Store, manifest: &Manifest, staged: &Path) -> crate::error::Result<Imported> {
    let mut done = Imported::default();
    for item in &manifest.items {
        let _lock = store.lock(&item.key)?;
        let from = staged.join(item.prefix());
        match item.kind {
            ItemKind::Entry => {
                if store.contains(&item.key) {
                    done.entries_present += 1;
                    continue;
                }
                let entry = store.entry(&item.key);
                fs::rename(&from, &entry).map_err(|e| crate::error::Error::io(&entry, e))?;
                // As when the entry is built here: its checkpoints are spent.
                let _ = fs::remove_dir_all(store.work(&item.key));
                done.entries_added += 1;
            }
            ItemKind::Checkpoint => {
                let work = store.work(&item.key);
                let ours = checkpoint::latest_step(&work);
                let step = item.step.unwrap_or_default();
                if store.contains(&item.key) || ours.is_some_and(|s| s >= step) {
                    done.checkpoints_kept += 1;
                    continue;
                }
                checkpoint::install(&work, &from).map_err(|e| crate::error::Error::io(&work, e))?;
                done.checkpoints_added.push(step);
            }
        }
    }
    Ok(done)
}

/// Size and blake3 of what `reader` yields, copying it to `sink`.
fn copy_hashed(reader: &mut dyn Read, sink: &mut dyn Write) -> io::Result<(u64, String)> {
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
