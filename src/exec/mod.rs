//! The dispatcher: launches ready stage instances on executor threads within
//! the CPU-token and GPU-slot budgets, propagates failures, and feeds the
//! progress reporter.

pub mod events;
pub mod local;
pub mod progress;
pub mod slots;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use events::{Event, Status};
use progress::Reporter;
use slots::SlotPool;

use crate::cache::Store;
use crate::plan::{Plan, PlannedSource};
use crate::run_info::RunInfo;
use crate::spec::Pipeline;
use crate::stages::{Input, Upstream};

pub struct Options {
    /// CPU tokens: how many single-CPU stages may run at once.
    pub jobs: usize,
    pub keep_going: bool,
    pub gpus: Vec<String>,
    pub slots_per_gpu: usize,
}

/// The outcome of every selected instance (`None` for unselected ones).
pub struct Outcomes {
    pub results: Vec<Option<(Status, f64)>>,
    pub interrupted: bool,
}

enum State {
    Waiting(usize),
    Running,
    Done,
}

pub fn execute(
    p: &Pipeline,
    plan: &Plan,
    selected: &[usize],
    store: &Store,
    opts: &Options,
    run: Arc<RunInfo>,
    reporter: &mut dyn Reporter,
    cancel: Arc<AtomicBool>,
) -> Outcomes {
    let n = plan.instances.len();
    let mut results: Vec<Option<(Status, f64)>> = vec![None; n];
    let mut state: BTreeMap<usize, State> = BTreeMap::new();
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); n];
    let labels: Vec<String> = (0..n).map(|i| plan.label(p, i)).collect();

    let mut cached = 0;
    for &i in selected {
        if store.contains(&plan.instances[i].key) {
            results[i] = Some((Status::Cached, 0.0));
            state.insert(i, State::Done);
            cached += 1;
        }
    }
    for &i in selected {
        if state.contains_key(&i) {
            continue;
        }
        let pending = plan.instances[i]
            .deps
            .iter()
            .filter(|d| !matches!(state.get(d), Some(State::Done)))
            .count();
        for &d in &plan.instances[i].deps {
            readers[d].push(i);
        }
        state.insert(i, State::Waiting(pending));
    }
    reporter.plan(selected.len(), cached);
    for &i in selected {
        if matches!(results[i], Some((Status::Cached, _))) {
            reporter.finished(&labels[i], &Status::Cached, 0.0);
        }
    }

    let (tx, rx) = mpsc::channel::<Event>();
    let jobs = opts.jobs.max(1);
    let mut free_cpus = jobs;
    let mut pool = SlotPool::new(&opts.gpus, opts.slots_per_gpu.max(1));
    let mut held: BTreeMap<usize, (usize, Option<slots::GpuSlot>)> = BTreeMap::new();
    let mut stopping = false;

    loop {
        if cancel.load(Ordering::Relaxed) {
            stopping = true;
        }
        if !stopping {
            let ready: Vec<usize> = state
                .iter()
                .filter(|(_, s)| matches!(s, State::Waiting(0)))
                .map(|(&i, _)| i)
                .collect();
            for i in ready {
                let inst = &plan.instances[i];
                let stage = &p.stages[inst.stage];
                let cpus = stage.resources.cpus.min(jobs);
                if cpus > free_cpus {
                    continue;
                }
                let gpu = if stage.resources.gpus > 0 && !pool.is_empty() {
                    match pool.take() {
                        Some(slot) => Some(slot),
                        None => continue,
                    }
                } else {
                    None
                };
                free_cpus -= cpus;
                held.insert(i, (cpus, gpu.clone()));
                state.insert(i, State::Running);
                reporter.started(i, &labels[i]);
                let job = local::Job {
                    id: i,
                    kind: stage.kind,
                    stage: stage.name.clone(),
                    cell: inst.cell.clone(),
                    params: inst.params.clone(),
                    record: inst.record.clone(),
                    key: inst.key.clone(),
                    inputs: bind_inputs(p, plan, i, store),
                    gpu,
                    cpus,
                    store: store.clone(),
                    run: run.clone(),
                    events: tx.clone(),
                    cancel: cancel.clone(),
                };
                std::thread::Builder::new()
                    .name(format!("stage-{i}"))
                    .spawn(move || local::execute(job))
                    .expect("spawning a stage thread");
            }
        }
        if held.is_empty() {
            break;
        }
        let event = match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(e) => e,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        match event {
            Event::Progress {
                id,
                done,
                total,
                message,
            } => reporter.progress(id, done, total, &message),
            Event::Waiting { id, reason } => reporter.waiting(id, &reason),
            Event::Finished {
                id,
                status,
                seconds,
            } => {
                if let Some((cpus, gpu)) = held.remove(&id) {
                    free_cpus += cpus;
                    if let Some(slot) = gpu {
                        pool.give_back(slot);
                    }
                }
                state.insert(id, State::Done);
                reporter.finished_running(id, &labels[id], &status, seconds);
                if status.ok() {
                    for &r in &readers[id] {
                        if let Some(State::Waiting(k)) = state.get_mut(&r) {
                            *k -= 1;
                        }
                    }
                } else {
                    if !opts.keep_going {
                        stopping = true;
                    }
                    skip_dependents(id, &readers, &mut state, &mut results, &labels, reporter);
                }
                results[id] = Some((status, seconds));
            }
        }
    }

    let interrupted = cancel.load(Ordering::Relaxed);
    for (&i, s) in &state {
        if !matches!(s, State::Done) {
            let reason = if interrupted {
                "interrupted before it started"
            } else {
                "not started after an earlier failure (use --keep-going to continue)"
            };
            let status = Status::Skipped {
                reason: reason.to_string(),
            };
            reporter.finished(&labels[i], &status, 0.0);
            results[i] = Some((status, 0.0));
        }
    }
    reporter.done();
    Outcomes {
        results,
        interrupted,
    }
}

/// Marks everything downstream of a failed instance as skipped.
fn skip_dependents(
    failed: usize,
    readers: &[Vec<usize>],
    state: &mut BTreeMap<usize, State>,
    results: &mut [Option<(Status, f64)>],
    labels: &[String],
    reporter: &mut dyn Reporter,
) {
    let mut stack = readers[failed].clone();
    while let Some(r) = stack.pop() {
        if matches!(state.get(&r), Some(State::Done)) {
            continue;
        }
        state.insert(r, State::Done);
        let status = Status::Skipped {
            reason: format!("input {} failed", labels[failed]),
        };
        reporter.finished(&labels[r], &status, 0.0);
        results[r] = Some((status, 0.0));
        stack.extend(readers[r].iter().copied());
    }
}

/// The stage's view of its inputs: upstream output folders or paths.
pub fn bind_inputs(p: &Pipeline, plan: &Plan, i: usize, store: &Store) -> BTreeMap<String, Input> {
    plan.instances[i]
        .inputs
        .iter()
        .map(|input| {
            let bound = match &input.source {
                PlannedSource::Path(path) => Input::Path(path.clone()),
                PlannedSource::Stages(ids) => Input::Stage(
                    ids.iter()
                        .map(|&u| {
                            let up = &plan.instances[u];
                            Upstream {
                                stage: p.stages[up.stage].name.clone(),
                                cell: up.cell.clone(),
                                key: up.key.clone(),
                                dir: store.output(&up.key),
                            }
                        })
                        .collect(),
                ),
            };
            (input.name.clone(), bound)
        })
        .collect()
}
