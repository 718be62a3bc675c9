//! What executors tell the dispatcher, and what the dispatcher tells the
//! reporter.

use std::path::PathBuf;

/// Sent by running stages (through their context) and by executor threads.
#[derive(Debug)]
pub enum Event {
    Progress {
        id: usize,
        done: u64,
        total: Option<u64>,
        message: String,
    },
    /// The instance waits on something outside nrun's control.
    Waiting { id: usize, reason: String },
    /// Cluster jobs waiting in the queue and running.
    Queue { queued: usize, running: usize },
    Finished {
        id: usize,
        status: Status,
        seconds: f64,
    },
}

/// How one stage instance ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    Ran,
    Cached,
    Failed {
        message: String,
        log: PathBuf,
        /// The user's input is at fault (exit 2: the data, or the pipeline's
        /// wiring), not the stage.
        bad_input: bool,
    },
    Skipped {
        reason: String,
    },
    /// Stopped before it finished (time limit, signal, Ctrl-C); a training
    /// resumes from the checkpoint it wrote.
    Stopped {
        why: crate::stop::Why,
        reason: String,
    },
    /// Its cluster job ended before it finished (its time ran out, it was
    /// preempted, or cancelled outside nrun): resumable like `Stopped`, but
    /// not a stop of the run, which goes on with what does not need it.
    JobEnded {
        reason: String,
    },
}

impl Status {
    pub fn name(&self) -> &'static str {
        match self {
            Status::Ran => "ran",
            Status::Cached => "cached",
            Status::Failed { .. } => "failed",
            Status::Skipped { .. } => "skipped",
            Status::Stopped { .. } | Status::JobEnded { .. } => "stopped",
        }
    }

    pub fn ok(&self) -> bool {
        matches!(self, Status::Ran | Status::Cached)
    }
}
