//! The NOT training loop (docs/method.md, section 3): per outer step, K_T updates of T with f
//! frozen, then one update of f with T frozen; Adam for both.
//!
//! The trainer owns no files: the caller persists [`Snapshot`]s through the
//! [`Observer`] and hands them back to resume. A step whose losses are not
//! finite, or exceed the configured bound, restores the last snapshot and
//! retries with a lower learning rate, a bounded number of times.

use std::time::Instant;

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::store::ModuleRecord;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::adam::{Adam, empty_state};
pub use super::adam::{AdamKernel, AdamSpec};
use super::cost::{Cost, CostKind};
use super::draws::{Ahead, DrawSpec, NoiseDraw, StepDraws};
use super::layers::Init;
use super::nets::{Model, NetSpec, Role};
use super::precision::{self, Precision};
use super::reduce;
use super::schedule::{LrDecay, Schedule};
use super::step_graph::{Action, Key, Plan};
#[cfg(feature = "tch")]
use super::step_graph::{Draw, Recorded};
#[cfg(feature = "tch")]
use super::torch_shim::CudaGraph;
use super::variants::{NoiseSpec, convexity_penalty, weighted_mean};
use crate::rng::{self, Purpose};
use crate::samples::Sampler;

/// The noise z fed to T beside x.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZSpec {
    /// Samples of z per x (Z).
    #[serde(default = "default_z_count")]
    pub count: usize,
    /// Extra input channels for images, extra coordinates for points.
    #[serde(default = "default_z_channels")]
    pub channels: usize,
    #[serde(default = "default_z_std")]
    pub std: f64,
}

fn default_z_count() -> usize {
    4
}
fn default_z_channels() -> usize {
    1
}
fn default_z_std() -> f64 {
    0.1
}

impl Default for ZSpec {
    fn default() -> Self {
        ZSpec {
            count: default_z_count(),
            channels: default_z_channels(),
            std: default_z_std(),
        }
    }
}

/// When a step counts as diverged, and what to do about it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardSpec {
    /// A loss whose magnitude exceeds this is treated like NaN.
    #[serde(default = "default_max_abs_loss")]
    pub max_abs_loss: f64,
    /// Restores allowed before the training fails.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Learning-rate multiplier applied at each restore.
    #[serde(default = "default_lr_factor")]
    pub lr_factor: f64,
}

fn default_max_abs_loss() -> f64 {
    1e8
}
fn default_retries() -> u32 {
    3
}
fn default_lr_factor() -> f64 {
    0.5
}

impl Default for GuardSpec {
    fn default() -> Self {
        GuardSpec {
            max_abs_loss: default_max_abs_loss(),
            retries: default_retries(),
            lr_factor: default_lr_factor(),
        }
    }
}

/// Everything that defines a training run.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    pub cost: Cost,
    pub gamma: Schedule,
    pub iterations: u64,
    /// K_T: T updates per outer step.
    pub t_steps: usize,
    pub batch: usize,
    pub z: ZSpec,
    pub t_net: NetSpec,
    pub f_net: NetSpec,
    pub t_opt: AdamSpec,
    pub f_opt: AdamSpec,
    pub seed: u64,
    pub guard: GuardSpec,
    pub checkpoint_every: u64,
    pub lr_decay: LrDecay,
    /// Noise-conditioned potential (noised strong NOT, Sudakov).
    pub noise: Option<NoiseSpec>,
    /// Weight of the convexity penalty on psi (Reg-NOT, Gbagbe & Bintang); 0 turns it off.
    pub convexity: f64,
    /// Precision of the networks' convolutions and products while training.
    pub precision: Precision,
    /// Which Adam runs on libtorch devices.
    pub adam: AdamKernel,
    /// Replay outer steps from a CUDA graph where the run allows it
    /// ([`super::step_graph`]).
    pub cuda_graphs: bool,
}

impl TrainConfig {
    /// Whether the nets and the cost can take source items of shape `xs`
    /// and target items of shape `ys`: before a training starts, or before
    /// anything runs where the data's shapes are known from the pipeline.
    pub fn check_data(&self, xs: &[usize], ys: &[usize]) -> Result<(), String> {
        let x_dim: usize = xs.iter().product();
        let y_dim: usize = ys.iter().product();
        if x_dim != y_dim {
            return Err(format!(
                "the cost compares x and T(x, z): source items {xs:?} and target items {ys:?} must have the same size"
            ));
        }
        if xs.len() == 3 && (ys.len() != 3 || xs[1..] != ys[1..]) {
            return Err(format!(
                "source {xs:?} and target {ys:?} images differ in size"
            ));
        }
        self.t_net.check(Role::Transport, xs)?;
        self.f_net.check(Role::Potential, ys)
    }
}

/// One outer step's numbers (the training log's columns).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepStats {
    pub step: u64,
    pub gamma: f64,
    pub f_loss: f64,
    /// Mean over the K_T inner steps.
    pub t_loss: f64,
    /// Mean cost estimate over the K_T inner steps.
    pub cost: f64,
    /// Seconds since the run (or resume) started.
    pub seconds: f64,
    /// Seconds this step took to issue its work, up to its one read back.
    /// On a GPU, near the step's whole time when the host (kernel launches,
    /// autodiff bookkeeping) is what limits it, far under it when the GPU
    /// is; on a CPU every operation runs as it is issued.
    pub issue_seconds: f64,
}

/// The state to resume from: weights, optimiser moments and position.
#[derive(Clone)]
pub struct Snapshot {
    /// Outer steps completed.
    pub step: u64,
    pub lr_scale: f64,
    pub retries: u32,
    pub t: ModuleRecord,
    pub f: ModuleRecord,
    pub t_opt: ModuleOptimizer,
    pub f_opt: ModuleOptimizer,
}

/// What the caller does with the trainer's progress.
pub trait Observer {
    /// After each healthy outer step, with T as it now is.
    fn on_step(&mut self, stats: &StepStats, t: &Model);
    /// A snapshot to persist; an error stops the training.
    fn on_checkpoint(&mut self, snapshot: &Snapshot) -> Result<(), String>;
    /// The trainer went back to `step` (the log after it is void).
    fn on_restore(&mut self, step: u64);
    fn on_event(&mut self, message: &str);
    /// Asked before each outer step: whether to stop here. The trainer
    /// then checkpoints this step (unless it just did) and returns
    /// [`TrainError::Stopped`]; a resumed run goes on exactly from there.
    fn stop_requested(&self) -> bool;
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{0}")]
    Config(String),
    /// The guard gave up; the trainer holds the last good weights.
    #[error(
        "training diverged at step {step}: {reason}; gave up after {retries} restores with lower learning rates"
    )]
    Diverged {
        step: u64,
        reason: String,
        retries: u32,
    },
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// Stopped on request after `step` outer steps, checkpointed there.
    #[error("stopped after step {step}")]
    Stopped { step: u64 },
}

#[derive(Debug)]
pub struct Summary {
    pub steps: u64,
    pub retries: u32,
    pub lr_scale: f64,
    pub last: Option<StepStats>,
}

/// The host scalars of one outer step.
#[derive(Clone, Copy)]
struct Scalars {
    gamma: f64,
    /// Of both nets' learning rates: the decay's and the guard's.
    lr_factor: f64,
}

impl Scalars {
    /// What a recorded step bakes in (the fused Adam reads the learning
    /// rate on the device).
    fn key(&self) -> Key {
        Key { gamma: self.gamma }
    }
}

/// The device tensors an outer step reads, uploaded from its draws.
struct StepInputs {
    t_x: Tensor<2>,
    t_z: Option<Tensor<2>>,
    f_x: Tensor<2>,
    f_z: Option<Tensor<2>>,
    f_y: Tensor<2>,
}

impl StepInputs {
    /// Every input, with the draw a replay copies into it.
    #[cfg(feature = "tch")]
    fn recorded(self) -> Vec<(Tensor<2>, Draw)> {
        let mut all: Vec<(Tensor<2>, Draw)> = vec![(self.t_x, |d| &d.t_x)];
        all.extend(self.t_z.map(|t_z| (t_z, (|d| &d.t_z) as Draw)));
        all.push((self.f_x, |d| &d.f_x));
        all.extend(self.f_z.map(|f_z| (f_z, (|d| &d.f_z) as Draw)));
        all.push((self.f_y, |d| &d.f_y));
        all
    }
}

/// The draws an outer step takes on the host, as it builds its work: the
/// variants' (a noise-conditioned potential's, the convexity penalty's).
struct HostDraws {
    t_noise: Vec<NoiseDraw>,
    f_noise: Option<NoiseDraw>,
    f_mix: Option<Vec<f32>>,
}

pub struct Trainer<'a> {
    cfg: TrainConfig,
    device: Device,
    source: &'a dyn Sampler,
    target: &'a dyn Sampler,
    t: Model,
    f: Model,
    t_opt: Adam,
    f_opt: Adam,
    step: u64,
    lr_scale: f64,
    retries: u32,
    x_dim: usize,
    y_dim: usize,
    z_dim: usize,
    /// Pixels per image (1 for points), for the sigma embedding.
    pixels: usize,
    graph_plan: Plan,
    /// Why CUDA graphs were asked for and are off, said when the run starts.
    graphs_refused: Option<String>,
    #[cfg(feature = "tch")]
    recorded: Option<Recorded>,
}

/// Why `cfg` cannot replay its steps from a CUDA graph on `device`, if it
/// cannot: a recorded step must find everything that changes between steps
/// in memory updated in place (see [`super::step_graph`]).
fn graphs_refusal(cfg: &TrainConfig, device: &Device) -> Option<String> {
    if cfg.noise.is_some() {
        return Some("a noise-conditioned potential draws its noise as the step is built".into());
    }
    if cfg.convexity > 0.0 {
        return Some("the convexity penalty draws its mixing weights as the step is built".into());
    }
    if cfg.t_net.keeps_running_statistics() || cfg.f_net.keeps_running_statistics() {
        return Some("BatchNorm stores its running statistics anew at each step".into());
    }
    if cfg.adam == AdamKernel::Burn {
        return Some("burn's Adam (NRUN_ADAM=burn) puts new weights elsewhere at each step".into());
    }
    if !super::backend::is_cuda(device) {
        return Some(format!(
            "they need a GPU, and this training runs on {}",
            super::backend::describe(device)
        ));
    }
    None
}

impl<'a> Trainer<'a> {
    /// Builds both nets from the seed; `device` gets autodiff here.
    pub fn new(
        cfg: TrainConfig,
        source: &'a dyn Sampler,
        target: &'a dyn Sampler,
        device: &Device,
    ) -> Result<Self, TrainError> {
        let (xs, ys) = (source.item_shape().to_vec(), target.item_shape().to_vec());
        cfg.check_data(&xs, &ys).map_err(TrainError::Config)?;
        let x_dim: usize = xs.iter().product();
        let y_dim: usize = ys.iter().product();
        let max_gamma = cfg.gamma.g0.abs().max(cfg.gamma.g1.abs());
        cfg.cost
            .check(max_gamma, cfg.z.count)
            .map_err(TrainError::Config)?;
        if cfg.batch == 0 || cfg.t_steps == 0 || cfg.z.count == 0 {
            return Err(TrainError::Config(
                "batch, t_steps and z.count must be positive".into(),
            ));
        }
        if let Some(noise) = &cfg.noise {
            noise.check().map_err(TrainError::Config)?;
            if cfg.convexity != 0.0 {
                return Err(TrainError::Config(
                    "the convexity penalty needs a plain potential, not a noise-conditioned one"
                        .into(),
                ));
            }
        }
        if cfg.convexity < 0.0
            || (cfg.convexity > 0.0
                && !matches!(
                    cfg.cost.kind,
                    CostKind::StrongQuadratic | CostKind::WeakQuadratic
                ))
        {
            return Err(TrainError::Config(
                "the convexity penalty is a non-negative weight, for quadratic costs".into(),
            ));
        }
        if cfg.convexity > 0.0 && cfg.batch < 2 {
            return Err(TrainError::Config(
                "the convexity penalty pairs target samples: batch must be at least 2".into(),
            ));
        }
        // A noise-conditioned f also reads sigma's embedding.
        let f_item: Vec<usize> = match (&cfg.noise, ys.as_slice()) {
            (Some(n), [c, h, w]) => vec![c + n.embedding, *h, *w],
            (Some(n), _) => vec![y_dim + n.embedding],
            (None, _) => ys.clone(),
        };
        let graphs_refused = cfg
            .cuda_graphs
            .then(|| graphs_refusal(&cfg, device))
            .flatten();
        let graph_plan = Plan::new(cfg.cuda_graphs && graphs_refused.is_none());
        let device = device.clone().autodiff();
        let pixels: usize = if xs.len() == 3 { xs[1] * xs[2] } else { 1 };
        let out_channels = if ys.len() == 3 { ys[0] } else { y_dim };
        let t = {
            let mut init = Init {
                rng: rng::stream(cfg.seed, Purpose::InitT, 0),
                device: &device,
            };
            cfg.t_net.build(
                &mut init,
                Role::Transport,
                &xs,
                cfg.z.channels,
                out_channels,
            )
        };
        let f = {
            let mut init = Init {
                rng: rng::stream(cfg.seed, Purpose::InitF, 0),
                device: &device,
            };
            cfg.f_net.build(&mut init, Role::Potential, &f_item, 0, 1)
        };
        Ok(Trainer {
            t_opt: Adam::new(&cfg.t_opt, cfg.adam, &device),
            f_opt: Adam::new(&cfg.f_opt, cfg.adam, &device),
            z_dim: cfg.z.channels * pixels,
            pixels,
            cfg,
            device,
            source,
            target,
            t,
            f,
            step: 0,
            lr_scale: 1.0,
            retries: 0,
            x_dim,
            y_dim,
            graph_plan,
            graphs_refused,
            #[cfg(feature = "tch")]
            recorded: None,
        })
    }

    pub fn step(&self) -> u64 {
        self.step
    }

    /// Where the training stands (after a `Diverged` error: at the last
    /// good checkpoint, whose weights it holds).
    pub fn summary(&self) -> Summary {
        Summary {
            steps: self.step,
            retries: self.retries,
            lr_scale: self.lr_scale,
            last: None,
        }
    }

    pub fn transport_net(&self) -> &Model {
        &self.t
    }

    pub fn potential_net(&self) -> &Model {
        &self.f
    }

    fn rows(&self, values: Vec<f32>, dim: usize, device: &Device) -> Tensor<2> {
        let n = values.len() / dim.max(1);
        Tensor::from_data(TensorData::new(values, [n, dim]), device)
    }

    /// T applied to every row of `x` with its Z values of z (rows of `z`,
    /// `[b * Z, z_dim]`, empty when T takes no z): `[b, dx]` -> `[b * Z, dy]`.
    fn push_forward(&self, t: &Model, x: Tensor<2>, z: Option<Tensor<2>>) -> Tensor<2> {
        let [b, dx] = x.dims();
        let count = self.cfg.z.count;
        let xs = x
            .unsqueeze_dim::<3>(1)
            .repeat_dim(1, count)
            .reshape([b * count, dx]);
        let input = match z {
            None => xs,
            Some(z) => Tensor::cat(vec![xs, z], 1),
        };
        t.forward(input)
    }

    /// What `draws` needs to draw this run's steps ahead.
    fn draw_spec(&self) -> DrawSpec {
        DrawSpec {
            seed: self.cfg.seed,
            batch: self.cfg.batch,
            z_count: self.cfg.z.count,
            z_dim: self.z_dim,
            z_std: self.cfg.z.std as f32,
            y_dim: self.y_dim,
            t_steps: self.cfg.t_steps,
            noise: self.cfg.noise.clone(),
            convexity: self.cfg.convexity > 0.0,
        }
    }

    /// One outer step: K_T updates of T, then one of f. Its draws arrive
    /// in one upload, its losses are read back once, at its end: the device
    /// never waits on the host inside a step. Where CUDA graphs are on, the
    /// step is recorded once and then replayed ([`step_graph`]).
    fn outer_step(
        &mut self,
        draws: StepDraws,
        started: Instant,
        obs: &mut dyn Observer,
    ) -> StepStats {
        debug_assert_eq!(draws.step, self.step);
        let step_started = Instant::now();
        let scalars = Scalars {
            gamma: self.cfg.gamma.at(self.step),
            lr_factor: self.lr_scale * self.cfg.lr_decay.factor(self.step, self.cfg.iterations),
        };
        let readings = match self.graph_plan.next(scalars.key()) {
            Action::Eager => self.eager(draws, scalars),
            Action::Record => self.record(draws, scalars, obs),
            Action::Replay => self.replay(draws, scalars, obs),
        };
        let issue_seconds = step_started.elapsed().as_secs_f64();
        // The step's one read back: every loss and cost at once.
        let values = readings
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32 readings");
        let (per_update, f_loss_value) = values.split_at(values.len() - 1);
        let (mut t_loss_sum, mut cost_sum) = (0.0, 0.0);
        for pair in per_update.chunks(2) {
            cost_sum += pair[0] as f64;
            t_loss_sum += pair[1] as f64;
        }
        let k = self.cfg.t_steps as f64;
        StepStats {
            step: self.step,
            gamma: scalars.gamma,
            f_loss: f_loss_value[0] as f64,
            t_loss: t_loss_sum / k,
            cost: cost_sum / k,
            seconds: started.elapsed().as_secs_f64(),
            issue_seconds,
        }
    }

    fn eager(&mut self, draws: StepDraws, scalars: Scalars) -> Tensor<1> {
        let (inputs, host) = self.upload(draws);
        self.compute(&inputs, &host, scalars)
    }

    /// Writes this step's learning rates where a recorded step reads them.
    #[cfg(feature = "tch")]
    fn set_lrs(&mut self, lr_factor: f64) {
        self.t_opt.set_lr(self.cfg.t_opt.lr * lr_factor);
        self.f_opt.set_lr(self.cfg.f_opt.lr * lr_factor);
    }

    /// Records the step in a CUDA graph and replays it once (recording
    /// runs nothing); should either fail, runs it eagerly and keeps running
    /// eagerly from then on.
    #[cfg(feature = "tch")]
    fn record(&mut self, draws: StepDraws, scalars: Scalars, obs: &mut dyn Observer) -> Tensor<1> {
        self.recorded = None;
        // Written now, so that recording the step records no write of them.
        self.set_lrs(scalars.lr_factor);
        let (inputs, host) = self.upload(draws);
        let failure = match CudaGraph::record(|| self.compute(&inputs, &host, scalars)) {
            Ok((graph, readings)) => match graph.replay() {
                Ok(()) => {
                    obs.on_event(&format!(
                        "step {}: recorded in a CUDA graph, replayed from here on",
                        self.step
                    ));
                    self.graph_plan.recorded(scalars.key());
                    self.recorded = Some(Recorded {
                        graph,
                        inputs: inputs.recorded(),
                        readings: readings.clone(),
                    });
                    return readings;
                }
                Err(message) => format!("the recorded step failed to replay: {message}"),
            },
            Err(message) => format!("the step could not be recorded: {message}"),
        };
        // Nothing ran: a recording runs nothing, a failed launch neither.
        self.graphs_off(&failure, obs);
        self.compute(&inputs, &host, scalars)
    }

    /// Replays the recorded step on `draws`; should the launch fail
    /// (nothing then ran), runs the step eagerly and every later one too.
    #[cfg(feature = "tch")]
    fn replay(&mut self, draws: StepDraws, scalars: Scalars, obs: &mut dyn Observer) -> Tensor<1> {
        self.set_lrs(scalars.lr_factor);
        let recorded = self
            .recorded
            .as_ref()
            .expect("the plan replays only what was recorded");
        match recorded.replay(&draws) {
            Ok(readings) => readings,
            Err(message) => {
                self.graphs_off(
                    &format!("the recorded step failed to replay: {message}"),
                    obs,
                );
                self.eager(draws, scalars)
            }
        }
    }

    #[cfg(feature = "tch")]
    fn graphs_off(&mut self, reason: &str, obs: &mut dyn Observer) {
        obs.on_event(&format!("step {}: CUDA graphs off, {reason}", self.step));
        self.graph_plan.give_up();
        self.recorded = None;
    }

    #[cfg(not(feature = "tch"))]
    fn record(&mut self, _: StepDraws, _: Scalars, _: &mut dyn Observer) -> Tensor<1> {
        unreachable!("CUDA graphs are never on without libtorch")
    }

    #[cfg(not(feature = "tch"))]
    fn replay(&mut self, _: StepDraws, _: Scalars, _: &mut dyn Observer) -> Tensor<1> {
        unreachable!("CUDA graphs are never on without libtorch")
    }

    /// A step's draws as device tensors, in one upload each, and what
    /// stays on the host.
    fn upload(&self, draws: StepDraws) -> (StepInputs, HostDraws) {
        let plain = self.device.clone().without_autodiff();
        let inputs = StepInputs {
            t_x: self.rows(draws.t_x, self.x_dim, &self.device),
            t_z: (self.z_dim > 0).then(|| self.rows(draws.t_z, self.z_dim, &self.device)),
            f_x: self.rows(draws.f_x, self.x_dim, &plain),
            f_z: (self.z_dim > 0).then(|| self.rows(draws.f_z, self.z_dim, &plain)),
            f_y: self.rows(draws.f_y, self.y_dim, &plain),
        };
        let host = HostDraws {
            t_noise: draws.t_noise,
            f_noise: draws.f_noise,
            f_mix: draws.f_mix,
        };
        (inputs, host)
    }

    /// The step's work on the device, from its uploaded draws: both nets
    /// updated, and every cost and loss in one tensor (K_T pairs of cost
    /// and T loss, then f's loss), not read back yet.
    fn compute(&mut self, inputs: &StepInputs, host: &HostDraws, scalars: Scalars) -> Tensor<1> {
        let Scalars { gamma, lr_factor } = scalars;
        let (b, z) = (self.cfg.batch, self.cfg.z.count);
        let plain = self.device.clone().without_autodiff();

        let f_frozen = self.f.valid();
        let mut t_noise = host.t_noise.iter();
        // Per update: its cost estimate and its loss, kept on the device.
        let mut readings = Vec::with_capacity(2 * self.cfg.t_steps + 1);
        for k in 0..self.cfg.t_steps {
            let x = inputs
                .t_x
                .clone()
                .slice([k * b..(k + 1) * b, 0..self.x_dim]);
            let zk = inputs.t_z.as_ref().map(|all| {
                all.clone()
                    .slice([k * b * z..(k + 1) * b * z, 0..self.z_dim])
            });
            let t = self.push_forward(&self.t, x.clone(), zk);
            let cost = reduce::mean(self.cfg.cost.estimate(
                x,
                t.clone().reshape([b, z, self.y_dim]),
                gamma,
            ));
            let potential = match &self.cfg.noise {
                None => reduce::mean(f_frozen.forward(t)),
                Some(noise) => {
                    let d = t_noise.next().expect("one noise draw per T update");
                    let input = noise.noisy_input(t, &d.sigmas, &d.eps, self.pixels);
                    weighted_mean(
                        f_frozen.forward(input),
                        noise.weights(&d.sigmas, &self.device),
                    )
                }
            };
            let loss = cost.clone() - potential;
            readings.push(cost.inner());
            readings.push(loss.clone().inner());
            let grads = GradientsParams::from_grads(loss.backward(), &self.t);
            let lr = self.cfg.t_opt.lr * lr_factor;
            self.t = self.t_opt.step(lr, self.t.clone(), grads);
        }

        let t_frozen = self.t.valid();
        let t = self.push_forward(&t_frozen, inputs.f_x.clone(), inputs.f_z.clone());
        let y = inputs.f_y.clone();
        let mut f_loss = match (&self.cfg.noise, &host.f_noise) {
            (Some(noise), Some(d)) => {
                // The same (noise, sigma) for y_i and every T(x_i, z).
                let t_sigmas: Vec<f64> = d
                    .sigmas
                    .iter()
                    .flat_map(|s| std::iter::repeat_n(*s, z))
                    .collect();
                let t_eps: Vec<f32> = d
                    .eps
                    .chunks(self.y_dim)
                    .flat_map(|row| std::iter::repeat_n(row, z).flatten().copied())
                    .collect();
                let ft = self
                    .f
                    .forward(noise.noisy_input(t, &t_sigmas, &t_eps, self.pixels));
                let fy =
                    self.f
                        .forward(noise.noisy_input(y.clone(), &d.sigmas, &d.eps, self.pixels));
                weighted_mean(ft, noise.weights(&t_sigmas, &plain))
                    - weighted_mean(fy, noise.weights(&d.sigmas, &plain))
            }
            _ => reduce::mean(self.f.forward(t)) - reduce::mean(self.f.forward(y.clone())),
        };
        if let Some(mix) = &host.f_mix {
            let scale = self.cfg.cost.scaling.factor(self.y_dim);
            let f = &self.f;
            let penalty = convexity_penalty(&|v| f.forward(v), y, mix.clone(), scale);
            f_loss = f_loss + penalty.mul_scalar(self.cfg.convexity);
        }
        readings.push(f_loss.clone().inner());
        let grads = GradientsParams::from_grads(f_loss.backward(), &self.f);
        let lr = self.cfg.f_opt.lr * lr_factor;
        self.f = self.f_opt.step(lr, self.f.clone(), grads);
        Tensor::cat(readings, 0)
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            step: self.step,
            lr_scale: self.lr_scale,
            retries: self.retries,
            t: self.t.clone().into_record(),
            f: self.f.clone().into_record(),
            t_opt: self.t_opt.state(),
            f_opt: self.f_opt.state(),
        }
    }

    pub fn restore(&mut self, snapshot: &Snapshot) -> Result<(), TrainError> {
        let load = |m: Model, r: &ModuleRecord| {
            m.try_load_record(r.clone())
                .map_err(|e| TrainError::Checkpoint(e.to_string()))
        };
        self.t = load(self.t.clone(), &snapshot.t)?;
        self.f = load(self.f.clone(), &snapshot.f)?;
        let resume = |spec: &AdamSpec, state: &ModuleOptimizer| {
            Adam::resume(spec, self.cfg.adam, &self.device, state).map_err(TrainError::Checkpoint)
        };
        self.t_opt = resume(&self.cfg.t_opt, &snapshot.t_opt)?;
        self.f_opt = resume(&self.cfg.f_opt, &snapshot.f_opt)?;
        self.step = snapshot.step;
        self.lr_scale = snapshot.lr_scale;
        self.retries = snapshot.retries;
        // New weights and moments, elsewhere in memory than a recording reads.
        self.graph_plan.reset();
        #[cfg(feature = "tch")]
        {
            self.recorded = None;
        }
        Ok(())
    }

    /// Fresh optimisers configured like this run's, for loading saved state into.
    pub fn optimizers(&self) -> (ModuleOptimizer, ModuleOptimizer) {
        (empty_state(&self.cfg.t_opt), empty_state(&self.cfg.f_opt))
    }

    fn unhealthy(&self, s: &StepStats) -> Option<String> {
        let bound = self.cfg.guard.max_abs_loss;
        for (name, v) in [("f loss", s.f_loss), ("T loss", s.t_loss)] {
            if !v.is_finite() {
                return Some(format!("{name} is {v}"));
            }
            if v.abs() > bound {
                return Some(format!("|{name}| = {v:.4e} exceeds {bound:.1e}"));
            }
        }
        None
    }

    /// Trains until `iterations` outer steps are done.
    pub fn run(&mut self, obs: &mut dyn Observer) -> Result<Summary, TrainError> {
        let (spec, source, target) = (self.draw_spec(), self.source, self.target);
        std::thread::scope(|scope| {
            let mut ahead = Ahead::new(scope, spec, source, target);
            self.run_with(obs, &mut ahead)
        })
    }

    fn run_with(
        &mut self,
        obs: &mut dyn Observer,
        ahead: &mut Ahead,
    ) -> Result<Summary, TrainError> {
        let _autocast = precision::autocast(self.cfg.precision);
        if let Some(reason) = &self.graphs_refused {
            obs.on_event(&format!("CUDA graphs off: {reason}"));
        }
        let started = Instant::now();
        let mut last_good = self.snapshot();
        let mut last = None;
        while self.step < self.cfg.iterations {
            if obs.stop_requested() {
                if last_good.step != self.step {
                    obs.on_checkpoint(&self.snapshot())
                        .map_err(TrainError::Checkpoint)?;
                }
                return Err(TrainError::Stopped { step: self.step });
            }
            let stats = self.outer_step(ahead.take(self.step), started, obs);
            if let Some(reason) = self.unhealthy(&stats) {
                self.retries += 1;
                if self.retries > self.cfg.guard.retries {
                    let error = TrainError::Diverged {
                        step: stats.step,
                        reason,
                        retries: self.retries - 1,
                    };
                    obs.on_event(&error.to_string());
                    // Left with the last good weights, for a caller that
                    // keeps a diverged run as a result.
                    self.restore(&last_good)?;
                    obs.on_restore(last_good.step);
                    return Err(error);
                }
                let retries = self.retries;
                let lr_scale = self.lr_scale * self.cfg.guard.lr_factor;
                obs.on_event(&format!(
                    "step {}: {reason}; restoring step {} and scaling the learning rates by {lr_scale} (restore {retries} of {})",
                    stats.step, last_good.step, self.cfg.guard.retries
                ));
                self.restore(&last_good)?;
                self.retries = retries;
                self.lr_scale = lr_scale;
                obs.on_restore(last_good.step);
                continue;
            }
            obs.on_step(&stats, &self.t);
            last = Some(stats);
            self.step += 1;
            if self.step.is_multiple_of(self.cfg.checkpoint_every.max(1))
                || self.step == self.cfg.iterations
            {
                last_good = self.snapshot();
                obs.on_checkpoint(&last_good)
                    .map_err(TrainError::Checkpoint)?;
            }
        }
        Ok(Summary {
            steps: self.step,
            retries: self.retries,
            lr_scale: self.lr_scale,
            last,
        })
    }
}
