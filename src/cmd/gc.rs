//! `nrun gc [--dry-run]`: delete cache entries that no pipeline under
//! pipelines/ (at any of its scales) and no readable link under results/
//! references. A pipeline that fails to load stops gc: deleting on a
//! partial picture could throw away hours of GPU work.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::Loaded;
use crate::cache::dir_size;
use crate::cache::record::short;
use crate::error::{Error, Result, exit};
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
            let loaded = load(&file, &overrides, &cache_dir)?;
            keep.extend(loaded.plan.instances.into_iter().map(|i| i.key));
        }
    }
    let store = super::open_store(Some(&cache_dir))?;
    let (mut entries, mut bytes, mut busy) = (0, 0u64, 0);
    for key in store.keys() {
        if keep.contains(&key) {
            continue;
        }
        match store.try_lock(&key)? {
            None => busy += 1,
            Some(_) if dry_run => {
                let size = dir_size(&store.entry(&key));
                let kind = store
                    .record(&key)
                    .and_then(|r| r["kind"].as_str().map(str::to_string))
                    .unwrap_or_else(|| "no record".into());
                super::say(format!(
                    "would delete {} ({kind}, {:.1} MB)",
                    short(&key),
                    size as f64 / 1e6
                ));
                entries += 1;
                bytes += size;
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
                super::say(format!("would delete {}", path.display()));
            } else {
                let _ = std::fs::remove_dir_all(&path);
            }
        }
    }
    let verb = if dry_run { "would free" } else { "freed" };
    super::say(format!(
        "{entries} unreferenced entries, {verb} {:.1} MB{}",
        bytes as f64 / 1e6,
        if busy > 0 {
            format!(" ({busy} in use, kept)")
        } else {
            String::new()
        }
    ));
    Ok(exit::OK)
}

/// A pipeline gc must know the entries of: one that does not load stops
/// gc, in one line that says why and what to do.
fn load(file: &Path, overrides: &Overrides, cache: &Path) -> Result<Loaded> {
    let refuse = |why: &str, problem: String, fix: &str| {
        Error::Usage(format!(
            "gc deleted nothing: {} {why} ({}), so the cache entries it needs cannot be told; {fix}, or move the pipeline out of pipelines/",
            file.display(),
            first_line(&problem)
        ))
    };
    Loaded::load_file(file, overrides, Some(cache)).map_err(|e| match e {
        Error::MissingData(missing) => refuse(
            "cannot be planned without its input data",
            missing.to_string(),
            "put the data back",
        ),
        Error::Invalid(diags) => refuse("does not load", diags.to_string(), "mend it"),
        other => other,
    })
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// Every scale of a pipeline (`None` when it declares none).
fn scales(file: &Path, cache: &Path) -> Result<Vec<Option<String>>> {
    let loaded = load(file, &Overrides::default(), cache)?;
    if loaded.pipeline.scales.is_empty() {
        Ok(vec![None])
    } else {
        Ok(loaded.pipeline.scales.iter().cloned().map(Some).collect())
    }
}
