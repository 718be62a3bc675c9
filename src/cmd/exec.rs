//! `nrun exec --cache DIR KEY` (hidden): what a cluster job runs. Builds
//! the instance described by `work/<KEY>/job.json` exactly as the local
//! executor would, printing progress as plain lines (the job's log), and
//! exits 0 when the entry exists, 2 for bad input data, 75 or 130 when
//! stopped (a training checkpointed: resumable), 1 otherwise.

use std::path::Path;

use crate::cache::Store;
use crate::device::GpuSlot;
use crate::error::{Error, Result, exit};
use crate::exec::events::{Event, Status};
use crate::exec::job::{self, JobSpec, Runtime};
use crate::stop::Stop;

pub fn run(cache: &Path, key: &str) -> Result<u8> {
    let store = Store::open(cache)?;
    let path = store.work(key).join("job.json");
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let spec: JobSpec = serde_json::from_slice(&bytes)
        .map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
    // Slurm stops a job with SIGTERM (or SIGUSR1 with --signal): the stage
    // finishes its step, a training checkpoints, and the job ends.
    let stop = Stop::from_signals()
        .map_err(|e| Error::Other(format!("installing signal handlers: {e}")))?;
    // The GPU Slurm granted is the only one this job sees.
    let gpu = (spec.gpus > 0).then(|| GpuSlot {
        ordinal: 0,
        id: std::env::var("CUDA_VISIBLE_DEVICES").unwrap_or_else(|_| "0".into()),
        slot: 0,
    });
    let (tx, rx) = std::sync::mpsc::channel();
    let printer = std::thread::spawn(move || {
        for event in rx {
            if let Event::Progress {
                done,
                total,
                message,
                ..
            } = event
            {
                let of = total.map_or_else(String::new, |t| format!("/{t}"));
                super::say(format!("{done}{of} {message}"));
            }
        }
    });
    super::say(format!(
        "nrun exec: {} [{}] key {key}",
        spec.stage, spec.cell
    ));
    let work = store.work(key);
    let status = job::build(
        &spec,
        Runtime {
            store,
            gpu,
            events: tx,
            stop,
        },
    );
    let _ = printer.join();
    super::say(format!("nrun exec: {}", status.name()));
    // What failed, for the submitting nrun to report (beside the exit code).
    if let Status::Failed { message, .. } = &status {
        let _ = std::fs::write(work.join("failure.txt"), message);
    }
    Ok(match status {
        Status::Ran | Status::Cached => exit::OK,
        Status::Failed {
            bad_input: true,
            message,
            ..
        } => {
            super::warn(message);
            exit::INVALID
        }
        Status::Failed { message, .. } | Status::Skipped { reason: message } => {
            super::warn(message);
            exit::FAILED
        }
        Status::Stopped { why, reason } => {
            super::warn(reason);
            why.exit_code()
        }
        Status::JobEnded { reason } => {
            super::warn(reason);
            exit::STOPPED
        }
    })
}
