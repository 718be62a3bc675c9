//! Training checkpoints in a stage's work area, tied to its cache key.
//!
//! A checkpoint is a folder (`ckpt/`) with both nets (burnpack records,
//! which keep parameter ids), both optimisers' moments, the training log so
//! far and `state.json`, written last. A new checkpoint is built beside the
//! old one and swapped in by renames, so a crash at any moment leaves one
//! complete checkpoint to resume from.
//!
//! T's snapshots (`train`'s `snapshots` param) are written to the work
//! area's `snapshots/` as their steps pass, and every checkpoint carries
//! the ones so far (hard links): a training resumed from a checkpoint, here
//! or on another machine after `nrun import`, gets them back, so it ends
//! with every snapshot an unbroken training has.

use std::fs;
use std::path::{Path, PathBuf};

use burn::store::ModuleRecord;
use serde::{Deserialize, Serialize};

use crate::fsutil;
use crate::ot::trainer::{Snapshot, Trainer};

#[derive(Serialize, Deserialize)]
struct State {
    step: u64,
    lr_scale: f64,
    retries: u32,
}

const STATE: &str = "state.json";
const SNAPSHOTS: &str = "snapshots";

/// Where a training keeps T's snapshots while it runs.
pub fn snapshots(work: &Path) -> PathBuf {
    work.join(SNAPSHOTS)
}

/// Makes a training's snapshots those of the checkpoint `from` it resumes
/// from (none for a fresh start): a run killed after its last checkpoint
/// may have left later ones, which the resumed run writes again.
pub fn restore_snapshots(work: &Path, from: Option<&Path>) -> std::io::Result<()> {
    let live = snapshots(work);
    if live.exists() {
        fs::remove_dir_all(&live)?;
    }
    match from.map(|dir| dir.join(SNAPSHOTS)) {
        Some(kept) if kept.is_dir() => fsutil::link_tree(&kept, &live),
        _ => Ok(()),
    }
}

/// Files the stage keeps next to the nets (training log, fit trace).
pub struct Extra<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

pub fn save(work: &Path, snapshot: &Snapshot, extras: &[Extra]) -> Result<(), String> {
    let new = work.join("ckpt.new");
    let _ = fs::remove_dir_all(&new);
    fs::create_dir_all(&new).map_err(|e| format!("{}: {e}", new.display()))?;
    let err =
        |what: &str, e: &dyn std::fmt::Display| format!("saving {what} to {}: {e}", new.display());
    snapshot
        .t
        .clone()
        .save(new.join("t.bpk"))
        .map_err(|e| err("T", &e))?;
    snapshot
        .f
        .clone()
        .save(new.join("f.bpk"))
        .map_err(|e| err("f", &e))?;
    snapshot
        .t_opt
        .save(new.join("t_opt.bpk"))
        .map_err(|e| err("T's optimiser", &e))?;
    snapshot
        .f_opt
        .save(new.join("f_opt.bpk"))
        .map_err(|e| err("f's optimiser", &e))?;
    for extra in extras {
        fs::write(new.join(extra.name), extra.text).map_err(|e| err(extra.name, &e))?;
    }
    let live = snapshots(work);
    if live.is_dir() {
        fsutil::link_tree(&live, &new.join(SNAPSHOTS)).map_err(|e| err("T's snapshots", &e))?;
    }
    let state = State {
        step: snapshot.step,
        lr_scale: snapshot.lr_scale,
        retries: snapshot.retries,
    };
    fs::write(
        new.join(STATE),
        serde_json::to_vec(&state).expect("state serialises"),
    )
    .map_err(|e| err(STATE, &e))?;
    swap_in(work).map_err(|e| err("the swap", &e))
}

/// Makes the complete checkpoint in `work/ckpt.new` the current one: the
/// old one moves aside first, so a crash between the renames leaves one
/// that `latest` finds.
fn swap_in(work: &Path) -> std::io::Result<()> {
    let (new, current, old) = (
        work.join("ckpt.new"),
        work.join("ckpt"),
        work.join("ckpt.old"),
    );
    let _ = fs::remove_dir_all(&old);
    if current.exists() {
        fs::rename(&current, &old)?;
    }
    fs::rename(&new, &current)?;
    let _ = fs::remove_dir_all(&old);
    Ok(())
}

/// Installs a complete checkpoint folder from elsewhere (`nrun import`) as
/// the current one of `work`; `dir` must be on the same filesystem.
pub fn install(work: &Path, dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(work)?;
    let new = work.join("ckpt.new");
    let _ = fs::remove_dir_all(&new);
    fs::rename(dir, &new)?;
    swap_in(work)
}

/// The outer step a checkpoint folder resumes at, if it is complete.
pub fn step(dir: &Path) -> Option<u64> {
    let state: State = serde_json::from_slice(&fs::read(dir.join(STATE)).ok()?).ok()?;
    Some(state.step)
}

/// The newest complete checkpoint folder, if any.
pub fn latest(work: &Path) -> Option<PathBuf> {
    ["ckpt", "ckpt.new", "ckpt.old"]
        .iter()
        .map(|name| work.join(name))
        .find(|dir| dir.join(STATE).is_file())
}

/// The outer step the newest complete checkpoint in `work` resumes at.
pub fn latest_step(work: &Path) -> Option<u64> {
    latest(work).and_then(|dir| step(&dir))
}

/// Loads a checkpoint into `trainer`; returns the step it resumes at.
pub fn load(dir: &Path, trainer: &mut Trainer) -> Result<u64, String> {
    let err = |what: &str, e: &dyn std::fmt::Display| {
        format!("checkpoint {}: {what}: {e}", dir.display())
    };
    let state: State =
        serde_json::from_slice(&fs::read(dir.join(STATE)).map_err(|e| err(STATE, &e))?)
            .map_err(|e| err(STATE, &e))?;
    let (t_opt, f_opt) = trainer.optimizers();
    let snapshot = Snapshot {
        step: state.step,
        lr_scale: state.lr_scale,
        retries: state.retries,
        t: ModuleRecord::load(dir.join("t.bpk")).map_err(|e| err("T", &e))?,
        f: ModuleRecord::load(dir.join("f.bpk")).map_err(|e| err("f", &e))?,
        t_opt: t_opt
            .load(dir.join("t_opt.bpk"))
            .map_err(|e| err("T's optimiser", &e))?,
        f_opt: f_opt
            .load(dir.join("f_opt.bpk"))
            .map_err(|e| err("f's optimiser", &e))?,
    };
    trainer.restore(&snapshot).map_err(|e| err("restore", &e))?;
    Ok(state.step)
}

/// A file saved with a checkpoint ("" if absent).
pub fn extra(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name)).unwrap_or_default()
}
