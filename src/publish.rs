//! Published copies: the outputs of stages with `publish`, copied to
//! `results/<pipeline>/<publish>[/<cell>]` for people (and git) to read.
//!
//! Each copy keeps, beside it, which cache entry and scale it came from
//! (`.nrun-published.json`). That decides what a run does to a copy that
//! is already there:
//! - the same entry: nothing (a second run of an unchanged pipeline leaves
//!   its report, its run facts and timeline included, as it was);
//! - a copy made at a larger scale (a later one among the pipeline's
//!   `scales`, which are declared smallest first): it stays, and this run
//!   publishes beside it, in `<publish>-<scale>`, so that a smoke run
//!   never replaces a full-scale report a user committed;
//! - anything else: replaced.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cache::Store;
use crate::error::{Error, Result};
use crate::exec::events::Status;
use crate::grid::Cell;
use crate::plan::Plan;
use crate::results::pipeline_dir;
use crate::run_info::RunInfo;
use crate::spec::Pipeline;
use crate::timeline::Timeline;

/// The file, inside a published copy, that says where it came from.
const PROVENANCE: &str = ".nrun-published.json";

/// Where a published copy came from.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Provenance {
    /// The cache entry it is a copy of (unknown for copies published
    /// before nrun kept this file, whose scale was read off their report).
    entry: Option<String>,
    /// The scale of the run that made it, where the pipeline has scales.
    scale: Option<String>,
}

impl Provenance {
    fn read(dir: &Path) -> Option<Provenance> {
        serde_json::from_slice(&std::fs::read(dir.join(PROVENANCE)).ok()?).ok()
    }
}

/// Copies the outputs of successful instances of stages with `publish`
/// (see the module's comment for what happens to copies already there);
/// reports get the publishing run's facts and `timeline`. Returns a line
/// for each copy published beside a larger-scale one, to tell the user.
pub fn publish_copies(
    p: &Pipeline,
    plan: &Plan,
    selected: &[usize],
    results: &[Option<(Status, f64)>],
    store: &Store,
    run: &RunInfo,
    timeline: Option<&Timeline>,
) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    for &i in selected {
        let inst = &plan.instances[i];
        let Some(dir) = &p.stages[inst.stage].publish else {
            continue;
        };
        if !matches!(&results[i], Some((s, _)) if s.ok()) {
            continue;
        }
        let copy = Provenance {
            entry: Some(inst.key.clone()),
            scale: p.scale.clone(),
        };
        let mut dest = place(p, dir, &inst.cell);
        match Provenance::read(&dest) {
            Some(there) if there.entry == copy.entry => continue,
            Some(there) if larger(p, there.scale.as_deref(), copy.scale.as_deref()) => {
                let scale = copy.scale.as_deref().unwrap_or_default();
                let beside = place(p, &format!("{dir}-{scale}"), &inst.cell);
                notes.push(format!(
                    "{} holds a {}-scale copy, kept: this {scale}-scale run published to {}",
                    dest.display(),
                    there.scale.as_deref().unwrap_or_default(),
                    beside.display()
                ));
                dest = beside;
                if Provenance::read(&dest).is_some_and(|t| t.entry == copy.entry) {
                    continue;
                }
            }
            _ => {}
        }
        let is_report = p.stages[inst.stage].kind.name() == "report";
        replace(&dest, &store.output(&inst.key), &copy, |staging| {
            // The entry may come from an earlier run: the copy says this one made it.
            if is_report {
                crate::stages::republish(staging, run, timeline)
                    .map_err(|e| Error::Other(format!("publishing {}: {e}", dest.display())))?;
            }
            Ok(())
        })?;
    }
    Ok(notes)
}

/// `results/<pipeline>/<dir>[/<cell>]`.
fn place(p: &Pipeline, dir: &str, cell: &Cell) -> PathBuf {
    let dest = pipeline_dir(p).join(dir);
    if cell.is_empty() {
        dest
    } else {
        dest.join(cell.label())
    }
}

/// Whether scale `there` comes after scale `here` among the pipeline's
/// scales (unknown or absent scales are never larger).
fn larger(p: &Pipeline, there: Option<&str>, here: Option<&str>) -> bool {
    let rank = |scale: Option<&str>| scale.and_then(|s| p.scales.iter().position(|n| n == s));
    matches!((rank(there), rank(here)), (Some(t), Some(h)) if t > h)
}

/// Replaces `dest` by a copy of `entry`, finished by `finish` and marked
/// with `provenance`, built beside it and moved in whole.
fn replace(
    dest: &Path,
    entry: &Path,
    provenance: &Provenance,
    finish: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let staging = dest.with_file_name(format!(
        ".{}.new",
        dest.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    let _ = std::fs::remove_dir_all(&staging);
    crate::fsutil::copy_tree(entry, &staging).map_err(|e| Error::io(&staging, e))?;
    finish(&staging)?;
    let marker = staging.join(PROVENANCE);
    let bytes = serde_json::to_vec_pretty(provenance).map_err(|e| Error::Other(e.to_string()))?;
    std::fs::write(&marker, bytes).map_err(|e| Error::io(&marker, e))?;
    let _ = std::fs::remove_dir_all(dest);
    std::fs::rename(&staging, dest).map_err(|e| Error::io(dest, e))
}
