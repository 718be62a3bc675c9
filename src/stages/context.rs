//! What a running stage sees: its inputs, its output folder, its work area,
//! a log, progress reporting and cancellation.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::device::GpuSlot;
use crate::grid::Cell;
use crate::run_info::RunInfo;
use crate::stop::Stop;

use super::StageError;

/// An input as the stage receives it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub enum Input {
    /// Outputs of upstream instances: one, or all cells of an aggregate.
    Stage(Vec<Upstream>),
    Path(PathBuf),
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Upstream {
    pub stage: String,
    pub cell: Cell,
    pub key: String,
    /// The upstream entry's output folder (read-only).
    pub dir: PathBuf,
}

/// Where a running stage's progress reports go: units done, the total if
/// known, what it is doing. The executor turns them into its events; a
/// stage knows nothing of executors.
pub type ProgressSink = Box<dyn FnMut(u64, Option<u64>, String) + Send>;

pub struct Context {
    pub stage: String,
    pub cell: Cell,
    pub key: String,
    pub inputs: BTreeMap<String, Input>,
    /// Where outputs go; it becomes the cache entry if the stage succeeds.
    pub out: PathBuf,
    /// Survives failures and interruptions (checkpoints); tied to the key.
    pub work: PathBuf,
    /// The GPU slot granted to this instance, if it asked for one.
    pub gpu: Option<GpuSlot>,
    /// CPU tokens granted (threads the stage may use).
    pub cpus: usize,
    pub run: Arc<RunInfo>,
    pub(crate) log: File,
    pub(crate) log_path: PathBuf,
    /// Where progress reports go (the executor's events).
    pub(crate) progress: ProgressSink,
    pub(crate) stop: Stop,
    pub(crate) last_progress: Option<Instant>,
}

impl Context {
    /// The single upstream output bound to input `name`.
    pub fn input_dir(&self, name: &str) -> Result<&Path, StageError> {
        match self.inputs.get(name) {
            Some(Input::Stage(ups)) if ups.len() == 1 => Ok(&ups[0].dir),
            Some(Input::Stage(_)) => Err(unbound(
                name,
                "receives several cells; this stage reads exactly one",
            )),
            Some(Input::Path(p)) => Ok(p),
            None => Err(unbound(name, "is not bound")),
        }
    }

    /// Every upstream output bound to input `name` (aggregates give many).
    pub fn upstreams(&self, name: &str) -> Result<&[Upstream], StageError> {
        match self.inputs.get(name) {
            Some(Input::Stage(ups)) => Ok(ups),
            Some(Input::Path(_)) => Err(unbound(name, "is a path, not a stage")),
            None => Err(unbound(name, "is not bound")),
        }
    }

    /// The `metrics.csv` of every upstream output bound to input `name`,
    /// each checked to exist: a command that wrote none is named, with what
    /// the file must hold, rather than a cache path that does not exist.
    pub fn metric_files(&self, name: &str) -> Result<Vec<PathBuf>, StageError> {
        let mut files = Vec::new();
        for up in self.upstreams(name)? {
            let file = up.dir.join("metrics.csv");
            if !file.is_file() {
                let cell = match up.cell.0.is_empty() {
                    true => String::new(),
                    false => format!("[{}]", up.cell),
                };
                return Err(StageError::Misfit(format!(
                    "input `{name}`: stage `{}`{cell} wrote no metrics.csv; metric rows are a `metric` stage's, or a metrics.csv a command writes: its cell's params as columns, then metric,value,std,n",
                    up.stage
                )));
            }
            files.push(file);
        }
        Ok(files)
    }

    pub fn input_path(&self, name: &str) -> Result<&Path, StageError> {
        self.input_dir(name)
    }

    /// Appends a line to the stage's log.
    pub fn log(&mut self, line: impl AsRef<str>) {
        let _ = writeln!(self.log, "{}", line.as_ref());
    }

    /// The log file, for handing to child processes.
    pub fn log_file(&self) -> std::io::Result<File> {
        self.log.try_clone()
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Reports progress; cheap to call every step (rate-limited here).
    pub fn progress(&mut self, done: u64, total: Option<u64>, message: impl Into<String>) {
        let now = Instant::now();
        let finished = total.is_some_and(|t| done >= t);
        if !finished
            && self
                .last_progress
                .is_some_and(|t| now.duration_since(t).as_millis() < 100)
        {
            return;
        }
        self.last_progress = Some(now);
        (self.progress)(done, total, message.into());
    }

    /// Why work taking `needed` should not start: the run is stopping, or
    /// the work would end past the time limit.
    pub fn refuses(&self, needed: Duration) -> Option<crate::stop::Why> {
        self.stop.refuses(needed)
    }

    /// `Err(Stopped)` once the run is stopping.
    pub fn check_cancel(&self) -> Result<(), StageError> {
        match self.stop.requested() {
            Some(why) => Err(StageError::Stopped {
                why,
                message: why.describe().to_string(),
            }),
            None => Ok(()),
        }
    }
}

fn unbound(name: &str, problem: &'static str) -> StageError {
    StageError::Unbound {
        name: name.to_string(),
        problem,
    }
}
