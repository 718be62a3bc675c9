//! The local executor: builds one stage instance in this process, under the
//! entry's lock, into a staging folder that becomes the cache entry.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::Sender;
use std::time::Instant;

use serde_json::Value as Json;

use super::events::{Event, Status};
use super::slots::GpuSlot;
use crate::cache::Store;
use crate::grid::Cell;
use crate::run_info::RunInfo;
use crate::stages::{Context, Input, Kind, StageError};

/// Everything a worker thread needs, owned.
pub struct Job {
    pub id: usize,
    pub kind: &'static dyn Kind,
    pub stage: String,
    pub cell: Cell,
    pub params: Json,
    pub record: Json,
    pub key: String,
    pub inputs: BTreeMap<String, Input>,
    pub gpu: Option<GpuSlot>,
    pub cpus: usize,
    pub store: Store,
    pub run: Arc<RunInfo>,
    pub events: Sender<Event>,
    pub cancel: Arc<AtomicBool>,
}

/// Builds the instance and reports `Finished`.
pub fn execute(job: Job) {
    let start = Instant::now();
    let events = job.events.clone();
    let id = job.id;
    let status = build(job);
    let _ = events.send(Event::Finished {
        id,
        status,
        seconds: start.elapsed().as_secs_f64(),
    });
}

fn build(job: Job) -> Status {
    let work = job.store.work(&job.key);
    let log_path = work.join("log.txt");
    let failed = |message: String| Status::Failed {
        message,
        log: log_path.clone(),
        bad_input: false,
    };
    let lock = match job.store.try_lock(&job.key) {
        Ok(Some(lock)) => lock,
        Ok(None) => {
            let _ = job.events.send(Event::Waiting {
                id: job.id,
                reason: "another nrun is building this entry".to_string(),
            });
            match job.store.lock(&job.key) {
                Ok(lock) => lock,
                Err(e) => return failed(e.to_string()),
            }
        }
        Err(e) => return failed(e.to_string()),
    };
    if job.store.contains(&job.key) {
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
        job.run.version,
        job.stage,
        job.cell,
        job.key,
        std::process::id()
    );
    let staging = match job.store.stage(&lock) {
        Ok(s) => s,
        Err(e) => return failed(e.to_string()),
    };
    let mut ctx = Context {
        stage: job.stage.clone(),
        cell: job.cell.clone(),
        key: job.key.clone(),
        inputs: job.inputs,
        out: staging.out(),
        work: work.clone(),
        gpu: job.gpu,
        cpus: job.cpus,
        run: job.run,
        log,
        log_path: log_path.clone(),
        id: job.id,
        events: job.events,
        cancel: job.cancel,
        last_progress: None,
    };
    // A panicking stage fails its instance, not the whole run.
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| job.kind.run(&job.params, &mut ctx)))
        .unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(StageError::Failed(anyhow::anyhow!(
                "stage panicked: {what}"
            )))
        });
    match result {
        Ok(()) => {
            ctx.log("== done");
            drop(ctx);
            match job.store.commit(staging, &job.record, &log_path) {
                Ok(()) => Status::Ran,
                Err(e) => failed(format!("storing the output: {e}")),
            }
        }
        Err(e) => {
            ctx.log(format!("== failed: {e}"));
            drop(ctx);
            job.store.abandon(staging);
            let bad_input = matches!(e, StageError::BadInput { .. });
            match e {
                StageError::Cancelled => Status::Skipped {
                    reason: "interrupted".to_string(),
                },
                e => Status::Failed {
                    message: e.to_string(),
                    log: log_path,
                    bad_input,
                },
            }
        }
    }
}

/// Where the log of a failed build stays.
pub fn log_path(store: &Store, key: &str) -> PathBuf {
    store.work(key).join("log.txt")
}
