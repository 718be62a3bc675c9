//! One stage instance to build, in a form that can be written to disk
//! (Slurm jobs read it back with `nrun exec`), and the build itself: under
//! the entry's lock, into a staging folder that becomes the cache entry.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::mpsc::Sender;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::events::{Event, Status};
use crate::cache::Store;
use crate::device::GpuSlot;
use crate::grid::Cell;
use crate::run_info::RunInfo;
use crate::stages::{self, Blame, Context, Input, StageError};
use crate::stop::Stop;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobSpec {
    /// The instance's index in the plan (for events).
    pub id: usize,
    pub kind: String,
    pub stage: String,
    /// Where the stage is declared, `file:line:col`, for errors the user
    /// must fix in the pipeline.
    pub at: String,
    pub cell: Cell,
    pub params: Json,
    pub record: Json,
    pub key: String,
    pub inputs: BTreeMap<String, Input>,
    pub cpus: usize,
    /// GPUs the stage asked for.
    pub gpus: usize,
    /// Cluster limits (`--mem`, `--time`).
    pub mem: Option<String>,
    pub time: Option<String>,
    pub run: RunInfo,
}

/// What a build needs besides its spec.
pub struct Runtime {
    pub store: Store,
    pub gpu: Option<GpuSlot>,
    pub events: Sender<Event>,
    pub stop: Stop,
}

/// Builds the instance (if no one has) and says how it ended.
pub fn build(spec: &JobSpec, rt: Runtime) -> Status {
    let work = rt.store.work(&spec.key);
    let log_path = work.join("log.txt");
    let failed = |message: String| Status::Failed {
        message,
        log: log_path.clone(),
        bad_input: false,
    };
    let Some(kind) = stages::find(&spec.kind) else {
        return failed(format!("unknown stage kind `{}`", spec.kind));
    };
    let lock = match rt.store.try_lock(&spec.key) {
        Ok(Some(lock)) => lock,
        Ok(None) => {
            let _ = rt.events.send(Event::Waiting {
                id: spec.id,
                reason: "another nrun is building this entry".to_string(),
            });
            match rt.store.lock(&spec.key) {
                Ok(lock) => lock,
                Err(e) => return failed(e.to_string()),
            }
        }
        Err(e) => return failed(e.to_string()),
    };
    if rt.store.contains(&spec.key) {
        return Status::Cached;
    }
    if let Err(e) = fs::create_dir_all(&work) {
        return failed(format!("{}: {e}", work.display()));
    }
    let mut log = match fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
    {
        Ok(f) => f,
        Err(e) => return failed(format!("{}: {e}", log_path.display())),
    };
    let _ = writeln!(
        log,
        "== nrun {} {} [{}] key {} (pid {})",
        spec.run.version,
        spec.stage,
        spec.cell,
        spec.key,
        std::process::id()
    );
    let staging = match rt.store.stage(&lock) {
        Ok(s) => s,
        Err(e) => return failed(e.to_string()),
    };
    let mut ctx = Context {
        stage: spec.stage.clone(),
        cell: spec.cell.clone(),
        key: spec.key.clone(),
        inputs: spec.inputs.clone(),
        out: staging.out(),
        work: work.clone(),
        gpu: rt.gpu,
        cpus: spec.cpus,
        run: Arc::new(spec.run.clone()),
        log,
        log_path: log_path.clone(),
        progress: {
            let (id, events) = (spec.id, rt.events.clone());
            Box::new(move |done, total, message| {
                let _ = events.send(Event::Progress {
                    id,
                    done,
                    total,
                    message,
                });
            })
        },
        stop: rt.stop,
        last_progress: None,
    };
    let started = std::time::Instant::now();
    // A panicking stage fails its instance, not the whole run.
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| kind.run(&spec.params, &mut ctx)))
        .unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(StageError::Panicked(what))
        });
    match result {
        Ok(()) => {
            ctx.log("== done");
            drop(ctx);
            // Worth counts the builds that were stopped and resumed too.
            let seconds = started.elapsed().as_secs_f64() + rt.store.spent(&spec.key);
            match rt.store.commit(staging, &spec.record, &log_path, seconds) {
                Ok(()) => Status::Ran,
                Err(e) => failed(format!("storing the output: {e}")),
            }
        }
        Err(e) => {
            ctx.log(format!("== failed: {e}"));
            drop(ctx);
            rt.store.abandon(staging);
            rt.store
                .add_spent(&spec.key, started.elapsed().as_secs_f64());
            match (e.blame(), e) {
                (Blame::Stopped, StageError::Stopped { why, message }) => Status::Stopped {
                    why,
                    reason: message,
                },
                (Blame::Pipeline, e) => Status::Failed {
                    bad_input: true,
                    message: format!("{}: stages.{}: {e}", spec.at, spec.stage),
                    log: log_path,
                },
                (blame, e) => Status::Failed {
                    bad_input: blame == Blame::Data,
                    message: e.to_string(),
                    log: log_path,
                },
            }
        }
    }
}
