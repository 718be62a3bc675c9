//! `nrun gc [--dry-run]`: delete cache entries that no pipeline under
//! pipelines/ (at any of its scales) and no readable link under results/
//! references. A pipeline that fails to load stops gc: deleting on a
//! partial picture could throw away hours of GPU work.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::Loaded;
use crate::cache::{Store, dir_size};
use crate::error::{Result, exit};
use crate::spec::overrides::Overrides;

pub fn run(dry_run: bool, cache: Option<&Path>) -> Result<u8> {
    let cache_dir = super::cache_dir(cache);
    let mut keep: BTreeSet<String> = crate::results::linked_keys(Path::new("results"))
        .into_iter()
        .collect();
    for file in super::list::pipeline_files(Path::new("pipelines")) {
        for scale in scales(&file, &cache_dir)? {
            let overrides = Overrides {
                scale,
                ..Overrides::default()
            };
            let loaded = Loaded::load_file(&file, &overrides, Some(&cache_dir))?;
            keep.extend(loaded.plan.instances.into_iter().map(|i| i.key));
        }
    }
    let store = Store::open(&cache_dir)?;
    let (mut entries, mut bytes, mut busy) = (0, 0u64, 0);
    for key in store.keys() {
        if keep.contains(&key) {
            continue;
        }
        match store.try_lock(&key)? {
            None => busy += 1,
            Some(_) if dry_run => {
                println!("would delete {key}");
                entries += 1;
                bytes += dir_size(&store.entry(&key));
            }
            Some(lock) => {
                bytes += store.remove(&lock, &key)?;
                entries += 1;
            }
        }
    }
    // Scratch of unreferenced keys (stale staging folders, abandoned
    // checkpoints) goes too, unless a live build holds its lock.
    let mut scratch: Vec<(String, PathBuf)> = store.scratch();
    scratch.retain(|(key, _)| !keep.contains(key));
    for (key, path) in scratch {
        if let Some(_lock) = store.try_lock(&key)? {
            bytes += dir_size(&path);
            if dry_run {
                println!("would delete {}", path.display());
            } else {
                let _ = std::fs::remove_dir_all(&path);
            }
        }
    }
    let verb = if dry_run { "would free" } else { "freed" };
    println!(
        "{entries} unreferenced entries, {verb} {:.1} MB{}",
        bytes as f64 / 1e6,
        if busy > 0 {
            format!(" ({busy} in use, kept)")
        } else {
            String::new()
        }
    );
    Ok(exit::OK)
}

/// Every scale of a pipeline (`None` when it declares none).
fn scales(file: &Path, cache: &Path) -> Result<Vec<Option<String>>> {
    let loaded = Loaded::load_file(file, &Overrides::default(), Some(cache))?;
    if loaded.pipeline.scales.is_empty() {
        Ok(vec![None])
    } else {
        Ok(loaded.pipeline.scales.iter().cloned().map(Some).collect())
    }
}
