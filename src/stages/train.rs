//! `train`: Neural Optimal Transport between a source and a target dataset.
//!
//! Outputs: `T.safetensors` / `f.safetensors` (the weights, what `sample`
//! loads and numpy/PyTorch read: `weights`),
//! `transport.json` (how to rebuild T), `log.csv` (one row per outer step),
//! optional `trace.csv` (push-forward fit over training) and `snapshots/`,
//! and `summary.json`. Checkpoints live in the work area and a rerun with
//! the same key resumes from the last one.

use std::cell::Cell;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use burn::tensor::Device;
use serde::Deserialize;
use serde_json::json;

use super::checkpoint::{self, Extra};
use super::divergence::{self, Diverged};
use super::{
    Context, InputSpec, Output, ParamError, StageError, StageKind, Wiring, files, weights,
};
use crate::data::on_load::LoadSampler;
use crate::fsutil;
use crate::metrics::distribution::energy_distance;
use crate::ot::apply::{PotentialSpec, TransportSpec, frozen, push_forward};
use crate::ot::backend;
use crate::ot::cost::Cost;
use crate::ot::gpu_levers::GpuLevers;
use crate::ot::nets::{Model, NetSpec};
use crate::ot::precision::Precision;
use crate::ot::schedule::{LrDecay, Schedule};
use crate::ot::trainer::{
    AdamSpec, GuardSpec, Observer, Snapshot, StepStats, TrainConfig, TrainError, Trainer, ZSpec,
};
use crate::ot::variants::NoiseSpec;
use crate::rng::{self, Purpose};
use crate::samples::{Sampler, Samples};
use crate::stop::Why;
use crate::tensor_file::Dataset;

pub struct Train;

/// A constant gamma, or a schedule `{g0, g1, steps}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "expected a number, or a schedule {g0, g1, steps}"
)]
pub enum Gamma {
    Constant(f64),
    Schedule(Schedule),
}

/// What a training that the divergence guard gave up on becomes.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OnDivergence {
    /// The stage fails (its dependents are skipped).
    #[default]
    Fail,
    /// The stage succeeds with the last good weights, marked as diverged
    /// at its step (`diverged.json`): downstream tables and figures show
    /// the cell as diverged. For sweeps where some cells are expected to
    /// diverge (the weak quadratic cost for gamma > 1, say).
    Record,
}

/// Measuring the push-forward fit during training (Weinreich & Heurtel-Depeiges, Fig. 8/9).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trace {
    /// Every this many outer steps.
    pub every: u64,
    /// Source points pushed forward, and target points compared against.
    #[serde(default = "default_trace_points")]
    pub points: usize,
}

fn default_trace_points() -> usize {
    512
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    cost: Cost,
    gamma: Gamma,
    iterations: u64,
    /// K_T: T updates per outer step.
    #[serde(default = "default_t_steps")]
    t_steps: usize,
    batch: usize,
    #[serde(default)]
    z: ZSpec,
    t_net: NetSpec,
    f_net: NetSpec,
    #[serde(default)]
    t_opt: AdamSpec,
    #[serde(default)]
    f_opt: AdamSpec,
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    guard: GuardSpec,
    #[serde(default)]
    on_divergence: OnDivergence,
    #[serde(default = "default_checkpoint_every")]
    checkpoint_every: u64,
    #[serde(default)]
    lr_decay: LrDecay,
    /// Keep T's weights at these outer steps (`snapshots/T_<step>.safetensors`).
    #[serde(default)]
    snapshots: Vec<u64>,
    trace: Option<Trace>,
    /// Noised strong NOT (Sudakov; docs/method.md): a noise-conditioned potential.
    noise: Option<NoiseSpec>,
    /// Reg-NOT (Gbagbe & Bintang; docs/method.md): weight of the convexity penalty on psi.
    #[serde(default)]
    convexity: f64,
    /// `bf16`: convolutions and matrix products in bfloat16 (autocast).
    #[serde(default)]
    precision: Precision,
}

fn default_t_steps() -> usize {
    10
}
fn default_checkpoint_every() -> u64 {
    100
}

impl Params {
    /// What `sample` needs to rebuild T and feed it.
    fn transport_spec(&self, source: &LoadSampler, target: &LoadSampler) -> TransportSpec {
        TransportSpec {
            net: self.t_net.clone(),
            source: source.item_shape().to_vec(),
            target: target.item_shape().to_vec(),
            z_channels: self.z.channels,
            z_std: self.z.std,
        }
    }

    fn config(&self) -> TrainConfig {
        let levers = GpuLevers::from_env();
        TrainConfig {
            cost: self.cost,
            gamma: match &self.gamma {
                Gamma::Constant(g) => Schedule::constant(*g),
                Gamma::Schedule(s) => *s,
            },
            iterations: self.iterations,
            t_steps: self.t_steps,
            batch: self.batch,
            z: self.z.clone(),
            t_net: self.t_net.clone(),
            f_net: self.f_net.clone(),
            t_opt: self.t_opt.clone(),
            f_opt: self.f_opt.clone(),
            seed: self.seed,
            guard: self.guard.clone(),
            checkpoint_every: self.checkpoint_every,
            lr_decay: self.lr_decay,
            noise: self.noise.clone(),
            convexity: self.convexity,
            precision: self.precision,
            adam: levers.adam,
            cuda_graphs: levers.cuda_graphs,
        }
    }
}

impl StageKind for Train {
    type Params = Params;
    const NAME: &'static str = "train";
    const VERSION: u32 = 2;
    const INPUTS: Option<&'static [InputSpec]> = Some(&[
        InputSpec::needs("source", &[Output::Dataset]),
        InputSpec::needs("target", &[Output::Dataset]),
    ]);
    const OUTPUT: Output = Output::Model;

    fn validate(p: &Params) -> Result<(), ParamError> {
        let cfg = p.config();
        if p.iterations == 0 {
            return Err(ParamError::at("iterations", "must be positive"));
        }
        if p.batch == 0 {
            return Err(ParamError::at("batch", "must be positive"));
        }
        if p.z.count == 0 {
            return Err(ParamError::at("z.count", "must be positive"));
        }
        let gamma = cfg
            .gamma
            .g0
            .abs()
            .max(cfg.gamma.g1.abs())
            .copysign(cfg.gamma.g1);
        p.cost
            .check(if gamma == 0.0 { 0.0 } else { gamma }, p.z.count)
            .map_err(|m| ParamError::at("cost", m))?;
        if p.trace
            .as_ref()
            .is_some_and(|t| t.every == 0 || t.points < 2)
        {
            return Err(ParamError::at(
                "trace",
                "every must be positive and points at least 2",
            ));
        }
        Ok(())
    }

    /// Nets that cannot take the data (2-D points into a CNN, images of two
    /// sizes) are caught before anything runs where the pipeline tells the
    /// data's shapes; elsewhere when the training starts, also exit 2.
    fn validate_inputs(p: &Params, inputs: &Wiring) -> Result<(), ParamError> {
        let drawn = |name| inputs.shape(name).and_then(|s| s.drawn().ok());
        // Unknown, or on-load ops that cannot take the items (which the
        // stage that adds them reports).
        let (Some(source), Some(target)) = (drawn("source"), drawn("target")) else {
            return Ok(());
        };
        p.config()
            .check_data(&source, &target)
            .map_err(|message| ParamError {
                path: Vec::new(),
                message,
            })
    }

    fn steps(p: &Params) -> Option<u64> {
        Some(p.iterations)
    }

    fn run(&self, p: Params, ctx: &mut Context) -> Result<(), StageError> {
        let source = Dataset::read(ctx.input_dir("source")?)?;
        let target = Dataset::read(ctx.input_dir("target")?)?;
        let source_sampler = LoadSampler::new(source.x.clone(), source.on_load.clone())
            .map_err(StageError::Misfit)?;
        let target_sampler = LoadSampler::new(target.x.clone(), target.on_load.clone())
            .map_err(StageError::Misfit)?;
        let device = backend::device(ctx.run.device, ctx.gpu.as_ref().map(|g| g.ordinal))
            .map_err(StageError::Device)?;
        let levers = GpuLevers::from_env();
        let mut line = format!("device {}", backend::describe(&device));
        if backend::is_cuda(&device) {
            // The training's own record of how it used the GPU: the report
            // may be built on another machine.
            let _ = write!(line, " ({})", levers.label());
        }
        ctx.log(line);
        let threads = ctx.cpus.max(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()?;
        pool.install(|| {
            let _stream = if levers.own_stream {
                backend::own_stream(&device).map_err(StageError::Device)?
            } else {
                None
            };
            train(&p, ctx, &source_sampler, &target_sampler, &device)
        })
    }
}

fn train(
    p: &Params,
    ctx: &mut Context,
    source: &LoadSampler,
    target: &LoadSampler,
    device: &Device,
) -> Result<(), StageError> {
    let cfg = p.config();
    let mut trainer = Trainer::new(cfg.clone(), source, target, device)?;
    let mut observer = Recorder::new(p, ctx, source, target, device);
    let latest = checkpoint::latest(&observer.ctx.work);
    let snapshots = checkpoint::snapshots(&observer.ctx.work);
    checkpoint::restore_snapshots(&observer.ctx.work, latest.as_deref())
        .map_err(StageError::write(&snapshots))?;
    if let Some(dir) = latest {
        let step = checkpoint::load(&dir, &mut trainer).map_err(StageError::Checkpoint)?;
        observer.resume(
            step,
            &checkpoint::extra(&dir, "log.csv"),
            &checkpoint::extra(&dir, "trace.csv"),
        );
        observer.event(format!("resumed from the checkpoint at step {step}"));
    }
    let started = Instant::now();
    let mut diverged = None;
    let summary = match trainer.run(&mut observer) {
        Ok(s) => s,
        Err(TrainError::Diverged { step, reason, .. })
            if p.on_divergence == OnDivergence::Record =>
        {
            let weights_step = trainer.step();
            observer.event(format!(
                "recorded as diverged at step {step} (on_divergence: record); the weights are step {weights_step}'s"
            ));
            diverged = Some(Diverged {
                step,
                reason,
                weights_step,
            });
            trainer.summary()
        }
        Err(TrainError::Stopped { step }) => {
            let why = observer.stopped.get().unwrap_or(Why::Interrupt);
            let message = format!(
                "{} after step {step} of {}; checkpointed, the same command resumes there",
                why.describe(),
                p.iterations
            );
            observer.event(message.clone());
            return Err(StageError::Stopped { why, message });
        }
        Err(e) => return Err(e.into()),
    };
    let seconds = started.elapsed().as_secs_f64();
    let out = observer.ctx.out.clone();
    let t = trainer.transport_net();
    let f = trainer.potential_net();
    weights::save(t, &out.join("T"))?;
    weights::save(f, &out.join("f"))?;
    if snapshots.is_dir() {
        let kept = out.join("snapshots");
        fsutil::link_tree(&snapshots, &kept).map_err(StageError::write(&kept))?;
    }
    let spec = p.transport_spec(source, target);
    let potential = PotentialSpec {
        net: p.f_net.clone(),
        item: target.item_shape().to_vec(),
        scale: p.cost.scaling.factor(target.item_shape().iter().product()),
        noise: p.noise.clone(),
    };
    files::write_json(&out.join("potential.json"), &potential)?;
    files::write_json(&out.join("transport.json"), &spec)?;
    files::write(&out.join("log.csv"), &observer.log)?;
    if p.trace.is_some() {
        files::write(&out.join("trace.csv"), &observer.trace)?;
    }
    let steps_run = summary.steps - observer.resumed_at;
    let summary_json = json!({
        "steps": summary.steps,
        "resumed_at": observer.resumed_at,
        "seconds": seconds,
        "steps_per_second": if seconds > 0.0 { steps_run as f64 / seconds } else { 0.0 },
        "device": backend::describe(device),
        "threads": observer.ctx.cpus,
        "restores": summary.retries,
        "lr_scale": summary.lr_scale,
        "events": observer.events,
        "last": summary.last,
        "parameters": {"T": t.parameter_count(), "f": f.parameter_count()},
        "nrun_version": observer.ctx.run.version,
        "diverged": diverged,
    });
    if let Some(d) = &diverged {
        divergence::write(&out, d)?;
    }
    files::write_json(&out.join("summary.json"), &summary_json)
}

/// The stage's side of training: log rows, progress, checkpoints, trace.
struct Recorder<'a> {
    ctx: &'a mut Context,
    log: String,
    trace: String,
    events: Vec<String>,
    iterations: u64,
    checkpoint_every: u64,
    snapshots: Vec<u64>,
    resumed_at: u64,
    trace_spec: Option<(Trace, Samples, Samples, TransportSpec)>,
    device: Device,
    /// When the last outer step ended, and how long it and the last
    /// checkpoint took: what the next step and a final checkpoint need.
    step_ended: Option<Instant>,
    step_time: Duration,
    checkpoint_time: Duration,
    /// Why the training was asked to stop, once it was.
    stopped: Cell<Option<Why>>,
}

const LOG_HEADER: &str = "step,gamma,f_loss,t_loss,cost,seconds\n";
/// A training writes every ⌈steps / LOGGED_STEPS⌉-th outer step, and the
/// last, to its stage log (`nrun logs`); `log.csv` in its entry has every
/// one.
const LOGGED_STEPS: u64 = 100;
const TRACE_HEADER: &str = "step,energy_distance\n";

impl<'a> Recorder<'a> {
    fn new(
        p: &Params,
        ctx: &'a mut Context,
        source: &LoadSampler,
        target: &LoadSampler,
        device: &Device,
    ) -> Self {
        let trace_spec = p.trace.clone().map(|t| {
            let mut r = rng::stream(p.seed, Purpose::Sample, 7);
            let xs = Samples::new(source.item_shape().to_vec(), source.draw(&mut r, t.points));
            let ys = Samples::new(target.item_shape().to_vec(), target.draw(&mut r, t.points));
            let spec = p.transport_spec(source, target);
            (t, xs, ys, spec)
        });
        Recorder {
            ctx,
            log: LOG_HEADER.to_string(),
            trace: TRACE_HEADER.to_string(),
            events: Vec::new(),
            iterations: p.iterations,
            checkpoint_every: p.checkpoint_every,
            snapshots: p.snapshots.clone(),
            resumed_at: 0,
            trace_spec,
            device: device.clone().without_autodiff(),
            step_ended: None,
            step_time: Duration::ZERO,
            checkpoint_time: Duration::ZERO,
            stopped: Cell::new(None),
        }
    }

    fn event(&mut self, message: String) {
        self.ctx.log(&message);
        self.events.push(message);
    }

    /// Keeps the log rows of steps before `step` from a checkpoint.
    fn resume(&mut self, step: u64, log: &str, trace: &str) {
        self.resumed_at = step;
        self.log = truncate(log, LOG_HEADER, step);
        // The first step after a resume has no step before it to time: the
        // time limit judges it by the last step before the checkpoint.
        if let Some(seconds) = last_step_seconds(&self.log) {
            self.step_time = Duration::from_secs_f64(seconds);
        }
        // Trace rows are numbered by steps completed: step `k` itself stays.
        self.trace = truncate(trace, TRACE_HEADER, step + 1);
    }
}

/// How long the last step of a log took (its `seconds` column counts from
/// the start of the run that wrote it, so two rows of one run are needed).
fn last_step_seconds(log: &str) -> Option<f64> {
    let seconds: Vec<f64> = log
        .lines()
        .skip(1)
        .filter_map(|l| l.rsplit(',').next()?.parse().ok())
        .collect();
    match seconds[..] {
        [.., before, last] if last > before => Some(last - before),
        _ => None,
    }
}

/// The rows of a CSV log (first column = step) with step < `step`.
fn truncate(text: &str, header: &str, step: u64) -> String {
    let mut out = header.to_string();
    for line in text.lines().skip(1) {
        let row_step = line.split(',').next().and_then(|s| s.parse::<u64>().ok());
        if row_step.is_some_and(|s| s < step) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

impl Observer for Recorder<'_> {
    fn on_step(&mut self, s: &StepStats, t: &Model) {
        let now = Instant::now();
        if let Some(previous) = self.step_ended {
            self.step_time = now - previous;
        }
        self.step_ended = Some(now);
        let _ = writeln!(
            self.log,
            "{},{},{},{},{},{:.3}",
            s.step, s.gamma, s.f_loss, s.t_loss, s.cost, s.seconds
        );
        let done = s.step + 1;
        let message = format!("γ {:.3} f {:.4} T {:.4}", s.gamma, s.f_loss, s.t_loss);
        let every = self.iterations.div_ceil(LOGGED_STEPS).max(1);
        if done.is_multiple_of(every) || done == self.iterations {
            self.ctx.log(format!(
                "step {done} of {}: {message} cost {:.4}",
                self.iterations, s.cost
            ));
        }
        self.ctx.progress(done, Some(self.iterations), message);
        if self.snapshots.contains(&done) {
            let dir = checkpoint::snapshots(&self.ctx.work);
            let _ = std::fs::create_dir_all(&dir);
            if let Err(e) = weights::save(t, &dir.join(format!("T_{done}"))) {
                self.event(format!("snapshot at step {done} not saved: {e}"));
            }
        }
        if let Some((trace, xs, ys, spec)) = &self.trace_spec
            && (done.is_multiple_of(trace.every) || done == self.iterations)
        {
            let mut r = rng::stream(0, Purpose::Sample, 8);
            let pushed = push_forward(&frozen(t), spec, &xs.data, 1, &mut r, &self.device, 4096);
            let d = ys.item_size();
            if let Ok(e) = energy_distance(&pushed, &ys.data, d) {
                let _ = writeln!(self.trace, "{done},{e}");
            }
        }
    }

    fn on_checkpoint(&mut self, snapshot: &Snapshot) -> Result<(), String> {
        let extras = [
            Extra {
                name: "log.csv",
                text: &self.log,
            },
            Extra {
                name: "trace.csv",
                text: &self.trace,
            },
        ];
        let started = Instant::now();
        checkpoint::save(&self.ctx.work, snapshot, &extras)?;
        self.checkpoint_time = started.elapsed();
        self.ctx.log(format!(
            "checkpoint at step {} (every {})",
            snapshot.step, self.checkpoint_every
        ));
        Ok(())
    }

    fn on_restore(&mut self, step: u64) {
        let (log, trace) = (self.log.clone(), self.trace.clone());
        self.resume(step, &log, &trace);
    }

    fn on_event(&mut self, message: &str) {
        self.event(message.to_string());
    }

    /// Stops when the run is stopping, or when the next step and the
    /// checkpoint after it might not end before the time limit (twice the
    /// last ones' times, so a slower step still fits).
    fn stop_requested(&self) -> bool {
        let needed = 2 * (self.step_time + self.checkpoint_time);
        match self.ctx.refuses(needed) {
            Some(why) => {
                self.stopped.set(Some(why));
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resumed_training_knows_how_long_its_last_step_took() {
        let log = format!("{LOG_HEADER}0,0,1,1,1,0.500\n1,0,1,1,1,0.750\n2,0,1,1,1,1.000\n");
        assert_eq!(last_step_seconds(&log), Some(0.25));
        // A row whose clock restarted (the step after an earlier resume).
        let restarted = format!("{LOG_HEADER}0,0,1,1,1,9.5\n1,0,1,1,1,0.2\n");
        assert_eq!(last_step_seconds(&restarted), None);
        assert_eq!(last_step_seconds(LOG_HEADER), None);
    }
}
