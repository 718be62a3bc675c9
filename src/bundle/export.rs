//! Choosing what an export carries, within an optional size budget, and
//! writing the stream.

use std::fs::File;
use std::io::{self, Write};

use super::{Item, ItemKind, MANIFEST, Manifest};
use crate::cache::{EntryLock, Store, file_sums};
use crate::stages::checkpoint;

/// One instance a pipeline's targets need: its label and cache key.
pub struct Wanted {
    pub label: String,
    pub key: String,
}

/// What goes into the stream, and what was left out and why.
pub struct Selection {
    pub items: Vec<Item>,
    /// One line per instance left out.
    pub left_out: Vec<String>,
    /// Build locks of the exported checkpoints, held until the stream is
    /// written so that no training swaps them meanwhile.
    _locks: Vec<EntryLock>,
}

impl Selection {
    pub fn bytes(&self) -> u64 {
        self.items.iter().map(Item::stream_size).sum()
    }
}

/// The complete entries of `wanted` and the newest checkpoints of the
/// unfinished ones, as many as fit in `budget` bytes: what took longest to
/// compute first (an entry's build time, including builds that stopped and
/// resumed; the time spent so far on a checkpoint), so a tight budget
/// carries the GPU's work and leaves out what any machine rebuilds in
/// seconds.
pub fn select(store: &Store, wanted: &[Wanted], budget: Option<u64>) -> io::Result<Selection> {
    let mut found = Vec::new();
    let mut left_out = Vec::new();
    let mut locks = Vec::new();
    let entry = |w: &Wanted| -> io::Result<Item> {
        item(ItemKind::Entry, &w.key, None, &store.entry(&w.key))
    };
    for w in wanted {
        if store.contains(&w.key) {
            found.push((store.build_seconds(&w.key), w, entry(w)?));
            continue;
        }
        let Some(lock) = store
            .try_lock(&w.key)
            .map_err(|e| io::Error::other(e.to_string()))?
        else {
            left_out.push(format!(
                "{}: another nrun is building it now; its checkpoint stays here",
                w.label
            ));
            continue;
        };
        // Built while we looked: an entry after all.
        if store.contains(&w.key) {
            found.push((store.build_seconds(&w.key), w, entry(w)?));
        } else if let Some(dir) = checkpoint::latest(&store.work(&w.key)) {
            let step = checkpoint::step(&dir);
            let worth = store.spent(&w.key);
            found.push((worth, w, item(ItemKind::Checkpoint, &w.key, step, &dir)?));
            locks.push(lock);
        }
    }
    // Stable: equal worth keeps the plan's order (upstream first).
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut items = Vec::new();
    let mut total = 0u64;
    for (_, w, item) in found {
        let size = item.stream_size();
        if budget.is_some_and(|b| total + size > b) {
            let what = match item.step {
                Some(step) => format!("its checkpoint at step {step}"),
                None => "its entry".to_string(),
            };
            left_out.push(format!(
                "{}: {what} ({}) does not fit in the size limit",
                w.label,
                human_bytes(size)
            ));
            continue;
        }
        total += size;
        items.push(item);
    }
    Ok(Selection {
        items,
        left_out,
        _locks: locks,
    })
}

fn item(kind: ItemKind, key: &str, step: Option<u64>, dir: &std::path::Path) -> io::Result<Item> {
    Ok(Item {
        kind,
        key: key.to_string(),
        step,
        files: file_sums(dir).map_err(|e| io::Error::other(e.to_string()))?,
    })
}

/// Writes the manifest, then every file of the selection, as a tar stream.
pub fn write(store: &Store, selection: &Selection, out: impl Write) -> io::Result<()> {
    let mut tar = tar::Builder::new(out);
    let manifest = serde_json::to_vec_pretty(&Manifest::new(selection.items.clone()))
        .map_err(io::Error::other)?;
    tar.append_data(
        &mut header(manifest.len() as u64),
        MANIFEST,
        manifest.as_slice(),
    )?;
    for item in &selection.items {
        let dir = match item.kind {
            ItemKind::Entry => store.entry(&item.key),
            ItemKind::Checkpoint => {
                checkpoint::latest(&store.work(&item.key)).ok_or_else(|| {
                    io::Error::other(format!("the checkpoint of {} disappeared", item.key))
                })?
            }
        };
        for file in &item.files {
            let path = format!("{}/{}", item.prefix(), file.path);
            let data = File::open(dir.join(&file.path))?;
            tar.append_data(&mut header(file.size), path, data)?;
        }
    }
    tar.into_inner()?.flush()
}

/// A plain file's header; no owner, time or mode from this machine, so the
/// same selection always gives the same stream.
fn header(size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(0);
    header
}

/// `24.1 MiB`-style sizes for messages.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}
