//! The Slurm executor: every ready instance becomes an sbatch job that runs
//! `nrun exec` on it against the shared cache; dependents are submitted as
//! their inputs land (the dispatcher only launches ready instances), so no
//! job ever waits on a `--dependency` that could fail.
//!
//! Job ids are recorded in the instance's work area (`slurm.json`): a rerun
//! after a crash adopts a job that is still pending or running instead of
//! submitting it again. The queue is polled with one `squeue` call for all
//! jobs, at an interval that backs off while nothing changes. A job's
//! outcome is the cache entry's presence plus the exit code the job script
//! writes beside it (`exit_code`), which survives Slurm purging the job.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::Executor;
use super::events::{Event, Status};
use super::job::JobSpec;
use crate::cache::Store;
use crate::device::GpuSlot;
use crate::error::exit;
use crate::spec::SlurmConfig;
use crate::stop::Why;

/// What `slurm.json` in a work area remembers.
#[derive(Serialize, Deserialize)]
struct Submitted {
    job: String,
}

struct Tracked {
    id: usize,
    key: String,
    started: Instant,
    running: bool,
}

pub struct Slurm {
    store: Store,
    config: SlurmConfig,
    nrun: PathBuf,
    cwd: PathBuf,
    jobs: BTreeMap<String, Tracked>,
    events: VecDeque<Event>,
    next_poll: Instant,
    interval: f64,
    cancelled: bool,
    counts: (usize, usize),
}

/// Whether a job that left no entry ended by being stopped, so that a
/// training in it checkpointed and a rerun resumes it: its time ran out
/// (`TIMEOUT`), it was preempted or cancelled outside nrun (Slurm signals a
/// job first), or `nrun exec` stopped itself (75, or 130 on SIGINT). Its
/// instance stops (its dependents cannot run) but the run goes on with
/// everything that does not need it, and exits 75: only the run's own
/// stop, its `--time-limit` or a signal to it, stops the run.
fn resumable(state: &str, rc: Option<i32>) -> bool {
    ["TIMEOUT", "PREEMPTED", "CANCELLED"]
        .iter()
        .any(|s| state.starts_with(s))
        || [exit::STOPPED, exit::INTERRUPTED]
            .iter()
            .any(|&code| rc == Some(i32::from(code)))
}

/// Job states after which a job will not run again.
fn is_final(state: &str) -> bool {
    !matches!(
        state,
        "PENDING"
            | "RUNNING"
            | "CONFIGURING"
            | "COMPLETING"
            | "SUSPENDED"
            | "REQUEUED"
            | "RESIZING"
            | "SIGNALING"
            | "STAGE_OUT"
    )
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl Slurm {
    pub fn new(store: Store, config: SlurmConfig) -> Result<Slurm, String> {
        let nrun =
            std::env::current_exe().map_err(|e| format!("cannot find the nrun binary: {e}"))?;
        let cwd = std::env::current_dir().map_err(|e| format!("current folder: {e}"))?;
        Command::new("sbatch")
            .arg("--version")
            .output()
            .map_err(|e| format!("--executor slurm needs sbatch on PATH: {e}"))?;
        // Before anything is submitted: a cluster whose controller does not
        // answer would fail every stage, one at a time.
        let probe = Command::new("sinfo")
            .args(["--noheader", "--summarize"])
            .output()
            .map_err(|e| format!("--executor slurm needs sinfo on PATH: {e}"))?;
        if !probe.status.success() {
            let said = String::from_utf8_lossy(&probe.stderr);
            return Err(format!(
                "--executor slurm: the cluster does not answer (sinfo: {})",
                said.lines().next().unwrap_or("no message").trim()
            ));
        }
        Ok(Slurm {
            store,
            interval: config.poll_min,
            config,
            nrun,
            cwd,
            jobs: BTreeMap::new(),
            events: VecDeque::new(),
            next_poll: Instant::now(),
            cancelled: false,
            counts: (0, 0),
        })
    }

    fn script(&self, spec: &JobSpec, work: &Path) -> String {
        let mut s = String::from("#!/bin/sh\n");
        let mut directive = |d: String| {
            s.push_str("#SBATCH ");
            s.push_str(&d);
            s.push('\n');
        };
        directive(format!("--job-name=nrun:{}", spec.stage));
        directive(format!("--output={}/slurm-%j.out", work.display()));
        directive(format!("--chdir={}", self.cwd.display()));
        directive(format!("--cpus-per-task={}", spec.cpus.max(1)));
        if spec.gpus > 0 {
            directive(format!("--gres=gpu:{}", spec.gpus));
        }
        if let Some(mem) = &spec.mem {
            directive(format!("--mem={mem}"));
        }
        if let Some(time) = &spec.time {
            directive(format!("--time={time}"));
        }
        for (flag, value) in [
            ("partition", &self.config.partition),
            ("account", &self.config.account),
            ("qos", &self.config.qos),
        ] {
            if let Some(v) = value {
                directive(format!("--{flag}={v}"));
            }
        }
        s.push_str(&format!(
            "{} exec --cache {} {}\nrc=$?\necho $rc > {}\nexit $rc\n",
            quote(&self.nrun.to_string_lossy()),
            quote(&self.store.root().to_string_lossy()),
            spec.key,
            quote(&work.join("exit_code").to_string_lossy())
        ));
        s
    }

    /// A job recorded for `key` that is still queued or running.
    fn live_job(&self, work: &Path) -> Option<String> {
        let recorded: Submitted =
            serde_json::from_slice(&std::fs::read(work.join("slurm.json")).ok()?).ok()?;
        let out = Command::new("squeue")
            .args(["-h", "-t", "all", "-j", &recorded.job, "-o", "%T"])
            .output()
            .ok()?;
        let state = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (!state.is_empty() && !is_final(&state)).then_some(recorded.job)
    }

    fn submit(&mut self, spec: &JobSpec) -> Result<String, String> {
        let work = self.store.work(&spec.key);
        std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
        if let Some(job) = self.live_job(&work) {
            return Ok(job);
        }
        let _ = std::fs::remove_file(work.join("exit_code"));
        let _ = std::fs::remove_file(work.join("failure.txt"));
        let spec_path = work.join("job.json");
        std::fs::write(
            &spec_path,
            serde_json::to_vec_pretty(spec).map_err(|e| e.to_string())?,
        )
        .map_err(|e| format!("{}: {e}", spec_path.display()))?;
        let script = work.join("job.sh");
        std::fs::write(&script, self.script(spec, &work))
            .map_err(|e| format!("{}: {e}", script.display()))?;
        let out = Command::new("sbatch")
            .arg("--parsable")
            .args(&self.config.sbatch)
            .arg(&script)
            .output()
            .map_err(|e| format!("sbatch: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "sbatch refused the job: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let job = stdout
            .trim()
            .split(';')
            .next()
            .unwrap_or_default()
            .to_string();
        if job.is_empty() {
            return Err("sbatch printed no job id".into());
        }
        let record =
            serde_json::to_vec(&Submitted { job: job.clone() }).map_err(|e| e.to_string())?;
        std::fs::write(work.join("slurm.json"), record).map_err(|e| e.to_string())?;
        Ok(job)
    }

    /// The state of every tracked job; jobs Slurm no longer knows are missing.
    fn states(&self) -> BTreeMap<String, String> {
        let ids: Vec<&str> = self.jobs.keys().map(String::as_str).collect();
        let query = |ids: &str| -> Option<BTreeMap<String, String>> {
            let out = Command::new("squeue")
                .args(["-h", "-t", "all", "-j", ids, "-o", "%i %T"])
                .output()
                .ok()?;
            if !out.status.success() {
                return None;
            }
            Some(
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .filter_map(|l| {
                        l.split_once(' ')
                            .map(|(i, s)| (i.to_string(), s.trim().to_string()))
                    })
                    .collect(),
            )
        };
        // One call for all; squeue fails the whole call if one id is gone,
        // then ask one by one.
        query(&ids.join(","))
            .unwrap_or_else(|| ids.iter().filter_map(|id| query(id)).flatten().collect())
    }

    fn exit_code(&self, job: &str, key: &str) -> Option<i32> {
        let file = self.store.work(key).join("exit_code");
        if let Some(rc) = std::fs::read_to_string(file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return Some(rc);
        }
        let out = Command::new("scontrol")
            .args(["show", "job", "-o", job])
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let field = text
            .split_whitespace()
            .find_map(|f| f.strip_prefix("ExitCode="))?;
        field.split(':').next()?.parse().ok()
    }

    fn poll(&mut self) {
        let states = self.states();
        let mut changed = false;
        let mut done = Vec::new();
        for (job, t) in &mut self.jobs {
            match states.get(job) {
                Some(state) if !is_final(state) => {
                    let running = state != "PENDING";
                    changed |= running != t.running;
                    t.running = running;
                }
                state => done.push((job.clone(), state.cloned().unwrap_or_else(|| "GONE".into()))),
            }
        }
        for (job, state) in done {
            changed = true;
            let t = self.jobs.remove(&job).expect("tracked");
            let status = if self.store.contains(&t.key) {
                Status::Ran
            } else if self.cancelled {
                Status::Stopped {
                    why: Why::Signal,
                    reason: "job cancelled (a training resumes from its checkpoint)".into(),
                }
            } else {
                let rc = self.exit_code(&job, &t.key);
                let how = rc.map_or_else(
                    || "no exit code".to_string(),
                    |rc| format!("exit code {rc}"),
                );
                let log = self.store.work(&t.key).join(format!("slurm-{job}.out"));
                if resumable(&state, rc) {
                    Status::JobEnded {
                        reason: format!(
                            "slurm job {job} ended {state} ({how}); a rerun resumes a training from its checkpoint (log: {})",
                            log.display()
                        ),
                    }
                } else {
                    let why = std::fs::read_to_string(self.store.work(&t.key).join("failure.txt"))
                        .map(|m| format!(": {}", m.trim()))
                        .unwrap_or_default();
                    Status::Failed {
                        message: format!("slurm job {job} ended {state} ({how}){why}"),
                        log,
                        bad_input: rc == Some(i32::from(exit::INVALID)),
                    }
                }
            };
            self.events.push_back(Event::Finished {
                id: t.id,
                status,
                seconds: t.started.elapsed().as_secs_f64(),
            });
        }
        let running = self.jobs.values().filter(|t| t.running).count();
        let counts = (self.jobs.len() - running, running);
        if counts != self.counts {
            self.counts = counts;
            self.events.push_back(Event::Queue {
                queued: counts.0,
                running: counts.1,
            });
        }
        self.interval = if changed {
            self.config.poll_min
        } else {
            (self.interval * 1.5).min(self.config.poll_max)
        };
        self.next_poll = Instant::now() + Duration::from_secs_f64(self.interval);
    }
}

impl Executor for Slurm {
    fn launch(&mut self, spec: JobSpec, _gpu: Option<GpuSlot>) {
        match self.submit(&spec) {
            Ok(job) => {
                self.jobs.insert(
                    job,
                    Tracked {
                        id: spec.id,
                        key: spec.key.clone(),
                        started: Instant::now(),
                        running: false,
                    },
                );
                // Look soon: the new job changes the counts.
                self.next_poll = Instant::now();
                self.interval = self.config.poll_min;
            }
            Err(message) => self.events.push_back(Event::Finished {
                id: spec.id,
                status: Status::Failed {
                    message,
                    log: self.store.work(&spec.key).join("job.sh"),
                    bad_input: false,
                },
                seconds: 0.0,
            }),
        }
    }

    fn next_event(&mut self, wait: Duration) -> Option<Event> {
        if let Some(e) = self.events.pop_front() {
            return Some(e);
        }
        let now = Instant::now();
        if now < self.next_poll {
            std::thread::sleep(wait.min(self.next_poll - now));
            return None;
        }
        if !self.jobs.is_empty() {
            self.poll();
        }
        self.events.pop_front()
    }

    fn cancel(&mut self) {
        self.cancelled = true;
        if !self.jobs.is_empty() {
            let _ = Command::new("scancel").args(self.jobs.keys()).status();
        }
    }

    fn shares_this_machine(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_out_of_time_or_cancelled_is_resumable() {
        assert!(resumable("TIMEOUT", None));
        assert!(resumable("PREEMPTED", Some(0)));
        assert!(resumable("CANCELLED by 1000", None));
        assert!(resumable("FAILED", Some(75)));
        assert!(resumable("FAILED", Some(130)));
        assert!(!resumable("FAILED", Some(1)));
        assert!(!resumable("OUT_OF_MEMORY", None));
    }
}
