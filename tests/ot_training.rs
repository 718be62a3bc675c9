//! Correctness of the NOT trainer on problems with known answers (CPU, small).

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use nalgebra::{DMatrix, DVector};
use nrun::metrics::frechet::gaussian_ot_map;
use nrun::ot::cost::{Cost, CostKind, Scaling};
use nrun::ot::nets::{Activation, NetSpec};
use nrun::ot::precision::Precision;
use nrun::ot::schedule::{LrDecay, Schedule};
use nrun::ot::trainer::{
    AdamKernel, AdamSpec, GuardSpec, Observer, Snapshot, StepStats, TrainConfig, TrainError,
    Trainer, ZSpec,
};
use nrun::ot::variants::{NoiseSpec, inverse_map};
use nrun::rng::{self, Purpose};
use nrun::samples::Samples;

/// Records what the trainer reports.
#[derive(Default)]
struct Log {
    steps: Vec<StepStats>,
    events: Vec<String>,
    checkpoints: Vec<Snapshot>,
    restores: Vec<u64>,
    stop_after: Option<usize>,
}

impl Observer for Log {
    fn on_step(&mut self, stats: &StepStats, _t: &nrun::ot::nets::Model) {
        self.steps.push(stats.clone());
    }
    fn on_checkpoint(&mut self, snapshot: &Snapshot) -> Result<(), String> {
        self.checkpoints.push(snapshot.clone());
        Ok(())
    }
    fn on_restore(&mut self, step: u64) {
        self.restores.push(step);
    }
    fn on_event(&mut self, message: &str) {
        self.events.push(message.to_string());
    }
    fn stop_requested(&self) -> bool {
        self.stop_after.is_some_and(|n| self.steps.len() >= n)
    }
}

/// Samples of N(mean, cov) in 2-D.
fn gaussian(n: usize, mean: [f64; 2], cov: [[f64; 2]; 2], seed: u64) -> Samples {
    let l = DMatrix::from_row_slice(2, 2, &[cov[0][0], cov[0][1], cov[1][0], cov[1][1]])
        .cholesky()
        .expect("positive definite")
        .l();
    let mut r = rng::stream(seed, Purpose::Sample, 0);
    let e = rng::normal(&mut r, 2 * n, 1.0);
    let mut data = Vec::with_capacity(2 * n);
    for i in 0..n {
        let v = &l * DVector::from_vec(vec![e[2 * i] as f64, e[2 * i + 1] as f64]);
        data.push((mean[0] + v[0]) as f32);
        data.push((mean[1] + v[1]) as f32);
    }
    Samples::new(vec![2], data)
}

fn config(kind: CostKind, gamma: f64, z: ZSpec, iterations: u64, seed: u64) -> TrainConfig {
    TrainConfig {
        cost: Cost {
            kind,
            scaling: Scaling::Paper,
        },
        gamma: Schedule::constant(gamma),
        iterations,
        t_steps: 10,
        batch: 64,
        z,
        t_net: NetSpec::Mlp {
            hidden: vec![64, 64],
            activation: Activation::Relu,
        },
        f_net: NetSpec::Mlp {
            hidden: vec![64, 64, 64],
            activation: Activation::Relu,
        },
        t_opt: AdamSpec {
            lr: 1e-3,
            ..AdamSpec::default()
        },
        f_opt: AdamSpec {
            lr: 1e-3,
            ..AdamSpec::default()
        },
        seed,
        guard: GuardSpec::default(),
        checkpoint_every: 10,
        lr_decay: LrDecay::Constant,
        noise: None,
        convexity: 0.0,
        precision: Precision::F32,
        adam: AdamKernel::default(),
        cuda_graphs: false,
    }
}

fn apply(trainer: &Trainer, x: &[f32], z_dim: usize, z_count: usize) -> Vec<f32> {
    let device = Device::flex();
    let n = x.len() / 2;
    let mut r = rng::stream(99, Purpose::Sample, 1);
    let mut rows = Vec::new();
    for i in 0..n {
        for _ in 0..z_count {
            rows.extend_from_slice(&x[2 * i..2 * i + 2]);
            rows.extend(rng::normal(&mut r, z_dim, 1.0));
        }
    }
    let input = Tensor::<2>::from_data(TensorData::new(rows, [n * z_count, 2 + z_dim]), &device);
    let t = trainer.transport_net().valid();
    t.forward(input).into_data().try_to_vec::<f32>().unwrap()
}

fn matrix(m: [[f64; 2]; 2]) -> DMatrix<f64> {
    DMatrix::from_row_slice(2, 2, &[m[0][0], m[0][1], m[1][0], m[1][1]])
}

/// Strong quadratic NOT recovers the closed-form map between Gaussians:
/// x -> m + A x, A = S1^(-1/2) (S1^(1/2) S2 S1^(1/2))^(1/2) S1^(-1/2).
///
/// The error is the mean over test points of ||T(x) - T*(x)|| / ||T*(x)||.
/// f is an MLP with SiLU: a ReLU potential's gradient is piecewise constant
/// and left a ~5% floor in this test; a linearly decaying learning rate
/// damps the min-max oscillation (~4% without it).
#[test]
fn strong_quadratic_recovers_the_gaussian_ot_map() {
    let (source, target) = gaussian_pair();
    let (trainer, rel) = gaussian_map_error(&source, &target, Precision::F32);
    eprintln!("closed-form Gaussian map: mean relative error {rel:.6}");
    assert!(rel < 0.05, "mean relative error {rel:.4}");
    inverse_map_recovers_the_inverse(&trainer);
}

/// bfloat16 products change a training's course, slightly.
#[test]
fn bf16_training_rounds_but_stays_close_to_f32() {
    let (source, target) = gaussian_pair();
    let test = gaussian(500, [0.0, 0.0], S1, 4);
    let outputs = |precision| {
        let z = ZSpec {
            count: 1,
            channels: 0,
            std: 0.0,
        };
        let mut cfg = config(CostKind::StrongQuadratic, 0.0, z, 20, 3);
        cfg.precision = precision;
        let mut trainer = Trainer::new(cfg, &source, &target, &Device::flex()).unwrap();
        trainer.run(&mut Log::default()).unwrap();
        apply(&trainer, &test.data, 0, 1)
    };
    let (full, half) = (outputs(Precision::F32), outputs(Precision::Bf16));
    let moved = full
        .iter()
        .zip(&test.data)
        .map(|(t, x)| (t - x).abs())
        .sum::<f32>();
    let apart = full
        .iter()
        .zip(&half)
        .map(|(a, b)| (a - b).abs())
        .sum::<f32>();
    eprintln!("bf16 vs f32 after 20 steps: outputs apart {apart:.4}, moved {moved:.4}");
    assert!(apart > 0.0, "bf16 must change something");
    assert!(apart < 0.1 * moved, "apart {apart} vs moved {moved}");
}

/// Training with bfloat16 products (autocast) still learns the map.
#[test]
fn bf16_training_recovers_the_gaussian_ot_map_too() {
    let (source, target) = gaussian_pair();
    let (_, rel) = gaussian_map_error(&source, &target, Precision::Bf16);
    eprintln!("closed-form Gaussian map, bf16: mean relative error {rel:.6}");
    assert!(rel < 0.05, "mean relative error {rel:.4}");
}

const S1: [[f64; 2]; 2] = [[1.0, 0.4], [0.4, 0.7]];
const S2: [[f64; 2]; 2] = [[0.6, -0.3], [-0.3, 1.4]];
const M: [f64; 2] = [1.5, -0.5];

/// Training sets of N(0, S1) and N(M, S2).
fn gaussian_pair() -> (Samples, Samples) {
    (
        gaussian(20_000, [0.0, 0.0], S1, 1),
        gaussian(20_000, M, S2, 2),
    )
}

/// Trains strong quadratic NOT from `source` to `target` (see
/// [`gaussian_pair`]) and returns the trainer and the mean relative error
/// of T against the closed-form map.
fn gaussian_map_error<'a>(
    source: &'a Samples,
    target: &'a Samples,
    precision: Precision,
) -> (Trainer<'a>, f64) {
    let (s1, s2, m) = (S1, S2, M);
    let z = ZSpec {
        count: 1,
        channels: 0,
        std: 0.0,
    };
    let mut cfg = config(CostKind::StrongQuadratic, 0.0, z, 2000, 3);
    cfg.batch = 256;
    cfg.f_net = NetSpec::Mlp {
        hidden: vec![64, 64, 64],
        activation: Activation::Silu,
    };
    cfg.lr_decay = LrDecay::Linear { end: 0.02 };
    cfg.checkpoint_every = 500;
    cfg.precision = precision;
    let mut trainer = Trainer::new(cfg, source, target, &Device::flex()).unwrap();
    trainer.run(&mut Log::default()).unwrap();

    let a = gaussian_ot_map(&matrix(s1), &matrix(s2)).unwrap();
    let test = gaussian(2000, [0.0, 0.0], s1, 4);
    let out = apply(&trainer, &test.data, 0, 1);
    let mut rel = 0.0;
    for i in 0..test.n {
        let x = DVector::from_vec(vec![test.data[2 * i] as f64, test.data[2 * i + 1] as f64]);
        let want = DVector::from_vec(m.to_vec()) + &a * x;
        let got = DVector::from_vec(vec![out[2 * i] as f64, out[2 * i + 1] as f64]);
        rel += (got - &want).norm() / want.norm();
    }
    rel /= test.n as f64;
    (trainer, rel)
}

/// The inverse map from the potential (Gbagbe & Bintang report):
/// x = grad psi(y) = y - grad f(y) should undo T: x = A^-1 (y - m).
fn inverse_map_recovers_the_inverse(trainer: &Trainer) {
    let (s1, s2, m) = (S1, S2, M);
    let a = gaussian_ot_map(&matrix(s1), &matrix(s2)).unwrap();
    let targets = gaussian(2000, m, s2, 5);
    let back = inverse_map(
        trainer.potential_net(),
        &targets.data,
        2,
        1.0,
        &Device::flex(),
        512,
    );
    let a_inv = a.clone().try_inverse().unwrap();
    let mut rel = 0.0;
    for i in 0..targets.n {
        let y = DVector::from_vec(vec![
            targets.data[2 * i] as f64 - m[0],
            targets.data[2 * i + 1] as f64 - m[1],
        ]);
        let want = &a_inv * y;
        let got = DVector::from_vec(vec![back[2 * i] as f64, back[2 * i + 1] as f64]);
        rel += (got - &want).norm() / want.norm().max(0.1);
    }
    rel /= targets.n as f64;
    eprintln!("inverse map from grad psi: mean relative error {rel:.4}");
    assert!(rel < 0.1, "inverse map error {rel:.4}");
}

/// Mean over test x of the variance of T(x, z) across z samples.
fn spread_over_z(trainer: &Trainer, x: &[f32], z_dim: usize) -> f64 {
    let z = 8;
    let out = apply(trainer, x, z_dim, z);
    let n = x.len() / 2;
    let mut total = 0.0;
    for i in 0..n {
        for d in 0..2 {
            let vals: Vec<f64> = (0..z).map(|k| out[(i * z + k) * 2 + d] as f64).collect();
            let mean = vals.iter().sum::<f64>() / z as f64;
            total += vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (z - 1) as f64;
        }
    }
    total / n as f64
}

/// gamma = 0 makes T ignore z (a deterministic map); gamma > 0 keeps it stochastic.
#[test]
fn gamma_zero_collapses_and_positive_gamma_does_not() {
    let source = gaussian(10_000, [0.0, 0.0], [[0.25, 0.0], [0.0, 0.25]], 5);
    let target = gaussian(10_000, [0.0, 0.0], [[1.0, 0.0], [0.0, 1.0]], 6);
    let test = gaussian(500, [0.0, 0.0], [[0.25, 0.0], [0.0, 0.25]], 7);
    let z = ZSpec {
        count: 4,
        channels: 2,
        std: 1.0,
    };
    let mut spreads = Vec::new();
    for gamma in [0.0, 1.0] {
        let mut cfg = config(CostKind::WeakQuadratic, gamma, z.clone(), 600, 8);
        cfg.checkpoint_every = 600;
        let mut trainer = Trainer::new(cfg, &source, &target, &Device::flex()).unwrap();
        trainer.run(&mut Log::default()).unwrap();
        spreads.push(spread_over_z(&trainer, &test.data, 2));
    }
    eprintln!(
        "variance over z: gamma 0 -> {:.5}, gamma 1 -> {:.5}",
        spreads[0], spreads[1]
    );
    assert!(spreads[0] < 0.02, "gamma 0 should collapse: {spreads:?}");
    assert!(
        spreads[1] > 10.0 * spreads[0] && spreads[1] > 0.1,
        "gamma 1 keeps variety: {spreads:?}"
    );
}

/// Every float of both nets, in visiting order.
#[derive(Default)]
struct Values(Vec<f32>);

impl burn::module::ModuleVisitor for Values {
    fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
        self.0
            .extend(param.val().into_data().try_to_vec::<f32>().unwrap());
    }
}

fn weights(trainer: &Trainer) -> Vec<f32> {
    let mut values = Values::default();
    trainer.transport_net().visit(&mut values);
    trainer.potential_net().visit(&mut values);
    values.0
}

/// Stopping between checkpoints writes one where it stopped; resuming from
/// it ends with the same weights as one uninterrupted run.
#[test]
fn resume_equals_an_uninterrupted_run() {
    let source = gaussian(2000, [0.0, 0.0], [[1.0, 0.0], [0.0, 1.0]], 9);
    let target = gaussian(2000, [2.0, 1.0], [[0.5, 0.0], [0.0, 0.5]], 10);
    let z = ZSpec {
        count: 4,
        channels: 2,
        std: 1.0,
    };
    let cfg = config(CostKind::WeakKernel, 0.5, z, 40, 11);
    let device = Device::flex();

    let mut straight = Trainer::new(cfg.clone(), &source, &target, &device).unwrap();
    straight.run(&mut Log::default()).unwrap();

    let mut first = Trainer::new(cfg.clone(), &source, &target, &device).unwrap();
    let mut log = Log {
        stop_after: Some(25),
        ..Log::default()
    };
    assert!(matches!(
        first.run(&mut log),
        Err(TrainError::Stopped { step: 25 })
    ));
    let steps: Vec<u64> = log.checkpoints.iter().map(|c| c.step).collect();
    assert_eq!(steps, [10, 20, 25], "the config checkpoints every 10 steps");
    let last = log.checkpoints.last().unwrap().clone();
    let mut resumed = Trainer::new(cfg, &source, &target, &device).unwrap();
    resumed.restore(&last).unwrap();
    let mut log = Log::default();
    resumed.run(&mut log).unwrap();
    assert_eq!(log.steps.first().unwrap().step, 25);
    let (a, b) = (weights(&resumed), weights(&straight));
    assert_eq!(a.len(), b.len());
    let differing = a.iter().zip(&b).filter(|(x, y)| x != y).count();
    assert_eq!(differing, 0, "{differing} of {} weights differ", a.len());
}

/// Noised strong NOT (Sudakov) and Reg-NOT (Gbagbe & Bintang) train without
/// diverging, and the noised potential reads sigma's embedding.
#[test]
fn noised_and_regularised_variants_train() {
    let source = gaussian(2000, [0.0, 0.0], [[1.0, 0.0], [0.0, 1.0]], 20);
    let target = gaussian(2000, [2.0, 1.0], [[0.5, 0.0], [0.0, 0.5]], 21);
    let z = ZSpec {
        count: 1,
        channels: 0,
        std: 0.0,
    };
    let mut cfg = config(CostKind::StrongQuadratic, 0.0, z, 60, 22);
    cfg.noise = Some(NoiseSpec {
        log_mean: 0.0,
        log_std: 1.0,
        sigma_data: 0.5,
        embedding: 16,
    });
    let mut noised = Trainer::new(cfg.clone(), &source, &target, &Device::flex()).unwrap();
    let plain_f = Trainer::new(
        TrainConfig {
            noise: None,
            ..cfg.clone()
        },
        &source,
        &target,
        &Device::flex(),
    )
    .unwrap();
    assert_eq!(
        noised.potential_net().parameter_count() - plain_f.potential_net().parameter_count(),
        16 * 64,
        "the first layer of f reads 16 more inputs"
    );
    let mut log = Log::default();
    noised.run(&mut log).unwrap();
    assert!(
        log.steps
            .iter()
            .all(|s| s.f_loss.is_finite() && s.t_loss.is_finite())
    );

    cfg.noise = None;
    cfg.convexity = 0.01;
    let mut reg = Trainer::new(cfg.clone(), &source, &target, &Device::flex()).unwrap();
    let mut log = Log::default();
    reg.run(&mut log).unwrap();
    assert_eq!(log.steps.len(), 60);
    cfg.cost.kind = CostKind::WeakKernel;
    assert!(
        Trainer::new(cfg, &source, &target, &Device::flex()).is_err(),
        "the penalty is for quadratic costs"
    );
}

/// A NaN loss restores the last checkpoint with a lower learning rate;
/// once the retries are spent the training fails with a clear error.
#[test]
fn divergence_guard_restores_then_gives_up() {
    let source = gaussian(2000, [0.0, 0.0], [[1.0, 0.0], [0.0, 1.0]], 12);
    let target = gaussian(2000, [2.0, 1.0], [[0.5, 0.0], [0.0, 0.5]], 13);
    let z = ZSpec {
        count: 4,
        channels: 2,
        std: 1.0,
    };

    // A huge learning rate blows up; a millionth of it trains fine.
    let mut cfg = config(CostKind::WeakQuadratic, 0.5, z.clone(), 30, 14);
    cfg.t_opt.lr = 1e9;
    cfg.f_opt.lr = 1e9;
    cfg.guard = GuardSpec {
        max_abs_loss: 1e4,
        retries: 3,
        lr_factor: 1e-12,
    };
    let mut trainer = Trainer::new(cfg.clone(), &source, &target, &Device::flex()).unwrap();
    let mut log = Log::default();
    let summary = trainer.run(&mut log).unwrap();
    assert_eq!(summary.steps, 30);
    assert_eq!(summary.retries, 1, "{:?}", log.events);
    assert_eq!(log.restores, vec![0]);
    assert!(
        log.events[0].contains("restoring step 0"),
        "{:?}",
        log.events
    );

    // Without an effective decrease it keeps diverging and gives up.
    cfg.guard.lr_factor = 0.5;
    let mut trainer = Trainer::new(cfg, &source, &target, &Device::flex()).unwrap();
    let mut log = Log::default();
    let err = trainer.run(&mut log).unwrap_err();
    assert!(
        matches!(err, TrainError::Diverged { retries: 3, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("training diverged at step"),
        "{err}"
    );
    assert_eq!(
        log.restores.len(),
        4,
        "three retries, then back to the last good step"
    );
    assert_eq!(
        log.events.len(),
        4,
        "three restores and the final failure: {:?}",
        log.events
    );
    assert_eq!(Some(&trainer.summary().steps), log.restores.last());
}

/// The weak kernel cost with small MLPs (one hidden layer of 8) used to die
/// at step 0 with a NaN loss: dead ReLUs make samples of one x coincide, and
/// the norm's gradient at 0 was NaN. With its subgradient 0 there, each of
/// these trains without a single restore.
#[test]
fn the_kernel_cost_trains_where_samples_coincide() {
    let source = gaussian(2000, [0.0, 0.0], [[1.0, 0.0], [0.0, 1.0]], 15);
    let target = gaussian(2000, [2.0, 1.0], [[0.5, 0.0], [0.0, 0.5]], 16);
    let z = ZSpec {
        count: 4,
        channels: 2,
        std: 1.0,
    };
    for gamma in [0.5, -1.0, -0.5] {
        let mut cfg = config(CostKind::WeakKernel, gamma, z.clone(), 30, 17);
        let small = NetSpec::Mlp {
            hidden: vec![8],
            activation: Activation::Relu,
        };
        cfg.t_net = small.clone();
        cfg.f_net = small;
        let mut trainer = Trainer::new(cfg, &source, &target, &Device::flex()).unwrap();
        let mut log = Log::default();
        let summary = trainer.run(&mut log).unwrap();
        assert_eq!(summary.steps, 30);
        assert_eq!(summary.retries, 0, "gamma {gamma}: {:?}", log.events);
        assert!(
            log.steps
                .iter()
                .all(|s| s.t_loss.is_finite() && s.f_loss.is_finite()),
            "gamma {gamma}"
        );
    }
}
