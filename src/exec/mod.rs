//! The dispatcher: launches ready stage instances on an [`Executor`] within
//! the CPU-token and GPU-slot budgets, propagates failures, and feeds the
//! progress reporter.

pub mod events;
pub mod job;
pub mod local;
pub mod progress;
pub mod slots;
pub mod slurm;

use std::collections::BTreeMap;
use std::time::Duration;

use events::{Event, Status};
use progress::Reporter;
use slots::SlotPool;

use crate::cache::Store;
use crate::plan::{Plan, PlannedSource};
use crate::run_info::RunInfo;
use crate::spec::Pipeline;
use crate::stages::{Input, Output, Upstream, checkpoint};
use crate::stop::{Stop, Why};

/// Where instances are built: threads here, or jobs on a cluster.
pub trait Executor {
    /// Starts building an instance; its end comes back as `Event::Finished`.
    fn launch(&mut self, spec: job::JobSpec, gpu: Option<crate::device::GpuSlot>);
    /// The next event, waiting at most `wait`.
    fn next_event(&mut self, wait: Duration) -> Option<Event>;
    /// Stops what runs (the run is stopping); the `Finished` events still follow.
    fn cancel(&mut self);
    /// Whether instances run on this machine, so that `-j` CPU tokens and
    /// GPU slots apply (a cluster schedules its own).
    fn shares_this_machine(&self) -> bool;
}

pub struct Options {
    /// CPU tokens: how many single-CPU stages may run at once (jobs in
    /// flight, on a cluster).
    pub jobs: usize,
    pub keep_going: bool,
    pub gpus: Vec<slots::Gpu>,
    pub slots_per_gpu: usize,
}

/// The outcome of every selected instance (`None` for unselected ones).
pub struct Outcomes {
    pub results: Vec<Option<(Status, f64)>>,
    /// When each launched instance started and ended, in seconds since the
    /// dispatcher began, with the GPU slot it held (the run's timeline).
    pub spans: Vec<Option<Span>>,
    /// Why the run stopped before its work was done, if it did.
    pub stopped: Option<Why>,
}

/// One launched instance on the run's clock.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    pub start: f64,
    pub end: f64,
    pub cpus: usize,
    /// `gpu:slot`, for instances that held a GPU slot.
    pub gpu: Option<String>,
}

enum State {
    Waiting(usize),
    Running,
    Done,
}

#[allow(clippy::too_many_arguments)]
pub fn execute(
    p: &Pipeline,
    plan: &Plan,
    selected: &[usize],
    store: &Store,
    opts: &Options,
    run: &RunInfo,
    executor: &mut dyn Executor,
    reporter: &mut dyn Reporter,
    stop: &Stop,
) -> Outcomes {
    let n = plan.instances.len();
    let clock = std::time::Instant::now();
    let mut results: Vec<Option<(Status, f64)>> = vec![None; n];
    let mut spans: Vec<Option<Span>> = vec![None; n];
    let mut state: BTreeMap<usize, State> = BTreeMap::new();
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); n];
    let labels: Vec<String> = (0..n).map(|i| plan.label(p, i)).collect();
    let depth = depths(plan);

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

    // A training's outer steps still to run (all of them, less what its
    // checkpoint has done), so the nearest to done starts first.
    let to_go: BTreeMap<usize, u64> = state
        .iter()
        .filter(|(_, s)| !matches!(s, State::Done))
        .filter_map(|(&i, _)| {
            let inst = &plan.instances[i];
            let steps = p.stages[inst.stage].kind.steps(&inst.params)?;
            let done = checkpoint::latest_step(&store.work(&inst.key)).unwrap_or(0);
            Some((i, steps.saturating_sub(done)))
        })
        .collect();

    let jobs = opts.jobs.max(1);
    let mut free_cpus = jobs;
    let local = executor.shares_this_machine();
    let gpus = if local { opts.gpus.clone() } else { Vec::new() };
    let mut pool = SlotPool::new(&gpus, opts.slots_per_gpu.max(1));
    let mut stopped = None;
    // A training that stopped itself before the deadline (its next step
    // would not fit) stops the run as the deadline would.
    let mut stopped_itself = None;
    let mut held: BTreeMap<usize, (usize, Option<crate::device::GpuSlot>)> = BTreeMap::new();
    let mut stopping = false;

    loop {
        if stopped.is_none()
            && let Some(why) = stop.requested().or(stopped_itself)
        {
            stopping = true;
            stopped = Some(why);
            reporter.stopping(why);
            executor.cancel();
        }
        if !stopping {
            let mut ready: Vec<usize> = state
                .iter()
                .filter(|(_, s)| matches!(s, State::Waiting(0)))
                .map(|(&i, _)| i)
                .collect();
            // Trainings last, then deepest first: the cheap work around a
            // finished training (its test data, samples and scores) takes a
            // free slot before the next training, which runs for minutes or
            // hours, does; so a run stopped by its time limit has the
            // results of every training it finished, and results show up
            // while the next trainings run. Among trainings, the fewest
            // steps to go first (before depth): a resumed one finishes, and frees its
            // results and its slot, before fresh ones, and a run stopped by
            // its time limit leaves the fewest trainings half done (each
            // one's checkpoint, not its small finished entry, is what an
            // export must carry).
            ready.sort_by_key(|&i| {
                let trains = p.stages[plan.instances[i].stage].kind.output() == Output::Model;
                let to_go = trains.then(|| to_go.get(&i)).flatten();
                (trains, to_go, std::cmp::Reverse(depth[i]), i)
            });
            for i in ready {
                let inst = &plan.instances[i];
                let stage = &p.stages[inst.stage];
                // On a cluster every job takes one token: -j bounds jobs in flight.
                let cpus = if local {
                    stage.resources.cpus.min(jobs)
                } else {
                    1
                };
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
                spans[i] = Some(Span {
                    start: clock.elapsed().as_secs_f64(),
                    end: f64::NAN,
                    cpus,
                    gpu: gpu.as_ref().map(|g| g.label()),
                });
                held.insert(i, (cpus, gpu.clone()));
                state.insert(i, State::Running);
                reporter.started(i, &labels[i]);
                let spec = job::JobSpec {
                    id: i,
                    kind: stage.kind.name().to_string(),
                    stage: stage.name.clone(),
                    at: format!("{}:{}", p.file.display(), stage.loc),
                    cell: inst.cell.clone(),
                    params: inst.params.clone(),
                    record: inst.record.clone(),
                    key: inst.key.clone(),
                    inputs: bind_inputs(p, plan, i, store),
                    cpus: stage.resources.cpus,
                    gpus: stage.resources.gpus,
                    mem: stage.resources.mem.clone(),
                    time: stage.resources.time.clone(),
                    run: run.clone(),
                };
                executor.launch(spec, gpu);
            }
        }
        if held.is_empty() {
            break;
        }
        let Some(event) = executor.next_event(Duration::from_millis(100)) else {
            continue;
        };
        match event {
            Event::Progress {
                id,
                done,
                total,
                message,
            } => reporter.progress(id, done, total, &message),
            Event::Waiting { id, reason } => reporter.waiting(id, &reason),
            Event::Queue { queued, running } => reporter.queue(queued, running),
            Event::Finished {
                id,
                status,
                seconds,
            } => {
                if let Some(span) = &mut spans[id] {
                    span.end = clock.elapsed().as_secs_f64();
                }
                if let Some((cpus, gpu)) = held.remove(&id) {
                    free_cpus += cpus;
                    if let Some(slot) = gpu {
                        pool.give_back(slot);
                    }
                }
                state.insert(id, State::Done);
                reporter.finished_running(id, &labels[id], &status, seconds);
                if let Status::Stopped { why, .. } = &status {
                    stopped_itself.get_or_insert(*why);
                }
                if status.ok() {
                    for &r in &readers[id] {
                        if let Some(State::Waiting(k)) = state.get_mut(&r) {
                            *k -= 1;
                        }
                    }
                } else {
                    // A failure stops new work unless --keep-going; an
                    // instance stopped by its cluster job's end is not a
                    // failure: independent work goes on.
                    if !opts.keep_going && !matches!(status, Status::JobEnded { .. }) {
                        stopping = true;
                    }
                    skip_dependents(
                        id,
                        &status,
                        &readers,
                        &mut state,
                        &mut results,
                        &labels,
                        reporter,
                    );
                }
                results[id] = Some((status, seconds));
            }
        }
    }

    for (&i, s) in &state {
        if !matches!(s, State::Done) {
            let reason = match stopped {
                Some(why) => format!("not started: {}", why.describe()),
                None => "not started after an earlier failure (use --keep-going to continue)"
                    .to_string(),
            };
            let status = Status::Skipped { reason };
            reporter.finished(&labels[i], &status, 0.0);
            results[i] = Some((status, 0.0));
        }
    }
    reporter.done();
    Outcomes {
        results,
        spans,
        stopped,
    }
}

/// Each instance's distance from the pipeline's sources (instances are
/// planned after the ones they read).
fn depths(plan: &Plan) -> Vec<usize> {
    let mut depth = vec![0; plan.instances.len()];
    for (i, inst) in plan.instances.iter().enumerate() {
        depth[i] = inst.deps.iter().map(|&d| depth[d] + 1).max().unwrap_or(0);
    }
    depth
}

/// Marks everything downstream of a failed instance as skipped.
fn skip_dependents(
    failed: usize,
    status: &Status,
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
            reason: match status {
                Status::Stopped { .. } | Status::JobEnded { .. } => {
                    format!("input {} stopped (resumable)", labels[failed])
                }
                _ => format!("input {} failed", labels[failed]),
            },
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
