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
use crate::report::Document;
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
    /// Where the copy in `dir` came from; for a report without a readable
    /// provenance file (published before nrun kept one, or the file mangled
    /// by a merge), its scale as its run facts state it.
    fn read(dir: &Path) -> Option<Provenance> {
        let recorded = std::fs::read(dir.join(PROVENANCE))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        recorded.or_else(|| {
            let doc: Document =
                serde_json::from_slice(&std::fs::read(dir.join("document.json")).ok()?).ok()?;
            Some(Provenance {
                entry: None,
                scale: doc.fact("scale").map(str::to_string),
            })
        })
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
        let dir = dir.trim_end_matches('/');
        let mut dest = place(p, dir, &inst.cell);
        let there = Provenance::read(&dest);
        if there.as_ref().is_some_and(|t| t.entry == copy.entry) {
            continue;
        }
        // A larger-scale copy stays: in this place, around it (one for all
        // cells, where this is a cell's), or inside it (cells' copies, where
        // this is one for all cells).
        let whole = place(p, dir, &Cell::default());
        let is_larger =
            |t: &Provenance| larger(&p.scales, t.scale.as_deref(), copy.scale.as_deref());
        let guard = there.filter(is_larger).or_else(|| {
            if inst.cell.is_empty() {
                cells_inside(&whole).into_iter().find(is_larger)
            } else {
                Provenance::read(&whole).filter(is_larger)
            }
        });
        if let Some(guard) = guard {
            let scale = copy.scale.as_deref().unwrap_or_default();
            let beside_dir = format!("{dir}-{scale}");
            let beside = place(p, &beside_dir, &inst.cell);
            if Provenance::read(&beside).is_some_and(|t| t.entry == copy.entry) {
                continue;
            }
            let note = kept(
                &whole,
                &guard,
                scale,
                "published to",
                &place(p, &beside_dir, &Cell::default()),
            );
            if !notes.contains(&note) {
                notes.push(note);
            }
            dest = beside;
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

/// Where the cells' copies in `dir` came from.
fn cells_inside(dir: &Path) -> Vec<Provenance> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| Provenance::read(&e.path()))
        .collect()
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
fn larger(scales: &[String], there: Option<&str>, here: Option<&str>) -> bool {
    let rank = |scale: Option<&str>| scale.and_then(|s| scales.iter().position(|n| n == s));
    matches!((rank(there), rank(here)), (Some(t), Some(h)) if t > h)
}

/// Where a document nrun writes itself (`reproduce-report`'s) at `scale`
/// goes: `dir`, unless `dir` holds one made at a larger scale among
/// `scales`; then `<dir>-<scale>`, with the line that says so.
pub fn place_beside_larger(
    dir: &Path,
    scale: Option<&str>,
    scales: &[String],
) -> (PathBuf, Option<String>) {
    match Provenance::read(dir) {
        Some(there) if larger(scales, there.scale.as_deref(), scale) => {
            let scale = scale.unwrap_or_default();
            let mut beside = dir.as_os_str().to_owned();
            beside.push(format!("-{scale}"));
            let beside = PathBuf::from(beside);
            let note = kept(dir, &there, scale, "wrote", &beside);
            (beside, Some(note))
        }
        _ => (dir.to_path_buf(), None),
    }
}

/// The line that says the copy in `dir`, from `there`, stays, and where this
/// run at `scale` put its own.
fn kept(dir: &Path, there: &Provenance, scale: &str, put: &str, beside: &Path) -> String {
    format!(
        "{} holds a {}-scale copy, kept: this {scale}-scale run {put} {}",
        dir.display(),
        there.scale.as_deref().unwrap_or_default(),
        beside.display()
    )
}

/// Marks `dir` as made at `scale` (no cache entry: nrun wrote it itself).
pub fn mark(dir: &Path, scale: Option<&str>) -> Result<()> {
    write_provenance(
        dir,
        &Provenance {
            entry: None,
            scale: scale.map(str::to_string),
        },
    )
}

fn write_provenance(dir: &Path, provenance: &Provenance) -> Result<()> {
    let marker = dir.join(PROVENANCE);
    let bytes = serde_json::to_vec_pretty(provenance).map_err(|e| Error::Other(e.to_string()))?;
    std::fs::write(&marker, bytes).map_err(|e| Error::io(&marker, e))
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
    write_provenance(&staging, provenance)?;
    let _ = std::fs::remove_dir_all(dest);
    std::fs::rename(&staging, dest).map_err(|e| Error::io(dest, e))
}
