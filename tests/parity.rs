//! The same tiny training on burn-flex and on libtorch (CPU) agrees within
//! float tolerance: identical initial weights (nrun draws them itself),
//! identical data, and the same step. Built only with `--features tch`.
#![cfg(feature = "tch")]

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};
use nrun::device::DeviceChoice;
use nrun::ot::backend;
use nrun::ot::cost::{Cost, CostKind, Scaling};
use nrun::ot::nets::{Model, NetSpec};
use nrun::ot::precision::Precision;
use nrun::ot::schedule::{LrDecay, Schedule};
use nrun::ot::trainer::{
    AdamKernel, AdamSpec, GuardSpec, Observer, Snapshot, StepStats, TrainConfig, Trainer, ZSpec,
};
use nrun::ot::variants::NoiseSpec;
use nrun::rng;
use nrun::samples::Samples;

/// Losses per step, the checkpoints in order, and the events.
#[derive(Default)]
struct Losses(Vec<(f64, f64)>, Vec<Snapshot>, Vec<String>);

impl Observer for Losses {
    fn on_step(&mut self, s: &StepStats, _: &Model) {
        self.0.push((s.f_loss, s.t_loss));
    }
    fn on_checkpoint(&mut self, snapshot: &Snapshot) -> Result<(), String> {
        self.1.push(snapshot.clone());
        Ok(())
    }
    fn on_restore(&mut self, _: u64) {}
    fn on_event(&mut self, message: &str) {
        self.2.push(message.to_string());
    }
    fn stop_requested(&self) -> bool {
        false
    }
}

#[derive(Default)]
struct Values(Vec<f32>);

impl ModuleVisitor for Values {
    fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
        self.0.extend(
            p.val()
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .unwrap(),
        );
    }
}

fn weights(trainer: &Trainer) -> Vec<f32> {
    let mut values = Values::default();
    trainer.transport_net().visit(&mut values);
    trainer.potential_net().visit(&mut values);
    values.0
}

fn data() -> (Samples, Samples) {
    let mut r = rng::stream(3, rng::Purpose::Sample, 0);
    let source = Samples::new(vec![1, 16, 16], rng::normal(&mut r, 64 * 256, 1.0));
    let target = Samples::new(vec![1, 16, 16], rng::normal(&mut r, 64 * 256, 0.5));
    (source, target)
}

fn config(precision: Precision, adam: AdamKernel) -> TrainConfig {
    TrainConfig {
        cost: Cost {
            kind: CostKind::WeakKernel,
            scaling: Scaling::Paper,
        },
        gamma: Schedule::constant(0.5),
        iterations: 3,
        t_steps: 2,
        batch: 4,
        z: ZSpec {
            count: 3,
            channels: 1,
            std: 1.0,
        },
        t_net: NetSpec::CnnT {
            channels: 8,
            layers: 3,
        },
        f_net: NetSpec::CnnF { channels: 8 },
        t_opt: AdamSpec {
            lr: 1e-3,
            ..AdamSpec::default()
        },
        f_opt: AdamSpec {
            lr: 1e-3,
            // Large enough that a wrong weight decay shows.
            weight_decay: 1e-2,
            ..AdamSpec::default()
        },
        seed: 5,
        guard: GuardSpec::default(),
        checkpoint_every: 100,
        lr_decay: LrDecay::Constant,
        noise: None,
        convexity: 0.0,
        precision,
        adam,
        cuda_graphs: false,
    }
}

/// Losses per step, weights before and after training.
fn train(device: &Device, precision: Precision) -> (Vec<(f64, f64)>, Vec<f32>, Vec<f32>) {
    let (losses, before, after, _) = train_with(device, config(precision, AdamKernel::Fused), None);
    (losses, before, after)
}

/// Losses per step, weights before and after, the checkpoints taken.
type Run = (Vec<(f64, f64)>, Vec<f32>, Vec<f32>, Vec<Snapshot>);

/// Trains `cfg`, from `resume` if given.
fn train_with(device: &Device, cfg: TrainConfig, resume: Option<&Snapshot>) -> Run {
    let (source, target) = data();
    let mut trainer = Trainer::new(cfg, &source, &target, device).unwrap();
    if let Some(snapshot) = resume {
        trainer.restore(snapshot).unwrap();
    }
    let before = weights(&trainer);
    let mut losses = Losses::default();
    trainer.run(&mut losses).unwrap();
    (losses.0, before, weights(&trainer), losses.1)
}

fn mean_diff(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() as f64)
        .sum::<f64>()
        / a.len() as f64
}

/// Two trainings from `init` ended less than `ratio` of the way their
/// training moved the weights apart.
fn assert_trained_alike(init: &[f32], ours: &[f32], theirs: &[f32], ratio: f64, what: &str) {
    let moved = mean_diff(ours, init);
    let apart = mean_diff(ours, theirs);
    eprintln!("{what}: weights moved {moved:.3e}, {apart:.3e} apart");
    assert!(
        apart < ratio * moved,
        "{what} ended {apart:.3e} apart, training moved the weights {moved:.3e}"
    );
}

/// Each step's f and T losses agree within `tolerance`, relative.
fn assert_losses_close(ours: &[(f64, f64)], theirs: &[(f64, f64)], tolerance: f64) {
    for ((f1, t1), (f2, t2)) in ours.iter().zip(theirs) {
        assert!(
            (f1 - f2).abs() <= tolerance * (1.0 + f1.abs()),
            "f loss {f1} vs {f2}"
        );
        assert!(
            (t1 - t2).abs() <= tolerance * (1.0 + t1.abs()),
            "T loss {t1} vs {t2}"
        );
    }
}

/// Asked for CUDA graphs, a training on a GPU records its third step
/// (after two eager ones) and replays the rest, taking the steps an eager
/// training takes, up to cuDNN's choice of kernels; elsewhere graphs stay
/// off, the training says why, and nothing else changes.
#[test]
fn cuda_graphs_train_like_eager_steps_or_say_why_they_are_off() {
    let cfg = |cuda_graphs| TrainConfig {
        iterations: 6,
        cuda_graphs,
        ..config(Precision::F32, AdamKernel::Fused)
    };
    let run = |device: &Device, cuda_graphs| {
        let _stream = backend::own_stream(device).unwrap();
        let (source, target) = data();
        let mut trainer = Trainer::new(cfg(cuda_graphs), &source, &target, device).unwrap();
        let mut seen = Losses::default();
        trainer.run(&mut seen).unwrap();
        (seen.0, weights(&trainer), seen.2)
    };
    let cpu = backend::device(DeviceChoice::Cpu, None).unwrap();
    let (eager_losses, eager, quiet) = run(&cpu, false);
    let (losses, weights, events) = run(&cpu, true);
    assert!(quiet.is_empty(), "{quiet:?}");
    assert_eq!(
        events,
        [format!(
            "CUDA graphs off: they need a GPU, and this training runs on {}",
            backend::describe(&cpu)
        )]
    );
    assert_eq!((losses, weights), (eager_losses, eager));
    if backend::gpu_count() == 0 {
        eprintln!("no GPU: CUDA graphs checked off on the CPU only");
        return;
    }
    let gpu = backend::device(DeviceChoice::Cuda(0), None).unwrap();
    let (eager_losses, eager, _) = run(&gpu, false);
    let (losses, replayed, events) = run(&gpu, true);
    assert_eq!(
        events,
        ["step 2: recorded in a CUDA graph, replayed from here on"]
    );
    let (_, init, _, _) = train_with(
        &gpu,
        TrainConfig {
            iterations: 0,
            ..cfg(false)
        },
        None,
    );
    assert_trained_alike(&init, &eager, &replayed, 1e-2, "replayed and eager steps");
    assert_losses_close(&eager_losses, &losses, 1e-3);
}

/// Where a recorded step would miss what changes between steps, graphs
/// stay off whatever the device, and the training says why as it starts.
#[test]
fn cuda_graphs_stay_off_where_a_step_changes_more_than_weights_in_place() {
    let cpu = backend::device(DeviceChoice::Cpu, None).unwrap();
    let quadratic = Cost {
        kind: CostKind::WeakQuadratic,
        scaling: Scaling::Paper,
    };
    let base = TrainConfig {
        iterations: 0,
        cuda_graphs: true,
        ..config(Precision::F32, AdamKernel::Fused)
    };
    let noise = NoiseSpec {
        log_mean: 0.0,
        log_std: 1.0,
        sigma_data: 0.5,
        embedding: 2,
    };
    let cases = [
        (
            TrainConfig {
                noise: Some(noise),
                ..base.clone()
            },
            "a noise-conditioned potential draws its noise as the step is built",
        ),
        (
            TrainConfig {
                convexity: 1.0,
                cost: quadratic,
                ..base.clone()
            },
            "the convexity penalty draws its mixing weights as the step is built",
        ),
        (
            TrainConfig {
                t_net: NetSpec::Unet { base: 4 },
                ..base.clone()
            },
            "BatchNorm stores its running statistics anew at each step",
        ),
        (
            TrainConfig {
                adam: AdamKernel::Burn,
                ..base.clone()
            },
            "burn's Adam (NRUN_ADAM=burn) puts new weights elsewhere at each step",
        ),
    ];
    for (cfg, reason) in cases {
        let (source, target) = data();
        let mut trainer = Trainer::new(cfg, &source, &target, &cpu).unwrap();
        let mut seen = Losses::default();
        trainer.run(&mut seen).unwrap();
        assert_eq!(seen.2, [format!("CUDA graphs off: {reason}")]);
    }
}

/// libtorch's fused Adam (the default on libtorch) and burn's Adam make
/// the same steps, up to float rounding, at a constant learning rate and
/// at one that decays every step (which the fused Adam keeps on the
/// device and rewrites when it changes).
#[test]
fn fused_adam_steps_like_burns() {
    let tch = backend::device(DeviceChoice::Cpu, None).unwrap();
    for lr_decay in [LrDecay::Constant, LrDecay::Linear { end: 0.1 }] {
        let run = |adam| {
            let cfg = TrainConfig {
                lr_decay,
                ..config(Precision::F32, adam)
            };
            train_with(&tch, cfg, None)
        };
        let (fused_losses, init, fused, _) = run(AdamKernel::Fused);
        let (burn_losses, _, burn, _) = run(AdamKernel::Burn);
        assert!(
            mean_diff(&burn, &init) > 1e-5,
            "training barely moved the weights"
        );
        assert!(burn != fused, "the two runs took the same Adam");
        assert_trained_alike(&init, &burn, &fused, 1e-3, "the two Adams");
        assert_losses_close(&burn_losses, &fused_losses, 1e-5);
    }
}

/// A snapshot of fused Adam holds burn's state layout: resumed by the
/// fused Adam it continues exactly, resumed by burn's it continues alike
/// (so checkpoints move between the two, and between backends).
#[test]
fn fused_adam_state_resumes_exactly_and_under_burns_adam() {
    let tch = backend::device(DeviceChoice::Cpu, None).unwrap();
    let every_step = |adam| TrainConfig {
        checkpoint_every: 1,
        ..config(Precision::F32, adam)
    };
    let (_, _, straight, snapshots) = train_with(&tch, every_step(AdamKernel::Fused), None);
    let at_two = snapshots
        .iter()
        .find(|s| s.step == 2)
        .expect("a checkpoint at step 2");
    let (_, _, resumed, _) = train_with(&tch, every_step(AdamKernel::Fused), Some(at_two));
    assert_eq!(straight, resumed, "fused Adam resumed from its snapshot");
    let (_, at_two_weights, by_burn, _) =
        train_with(&tch, every_step(AdamKernel::Burn), Some(at_two));
    let moved = mean_diff(&straight, &at_two_weights);
    let apart = mean_diff(&straight, &by_burn);
    assert!(
        apart < 1e-3 * moved,
        "burn's Adam resumed fused state {apart:.3e} apart, the last step moved {moved:.3e}"
    );
    // And the other way: burn's state, resumed by the fused Adam.
    let (_, _, burn_straight, burn_snapshots) =
        train_with(&tch, every_step(AdamKernel::Burn), None);
    let burn_at_two = burn_snapshots.iter().find(|s| s.step == 2).unwrap();
    let (_, _, by_fused, _) = train_with(&tch, every_step(AdamKernel::Fused), Some(burn_at_two));
    let apart = mean_diff(&burn_straight, &by_fused);
    assert!(
        apart < 1e-3 * moved,
        "fused Adam resumed burn's state {apart:.3e} apart, the last step moved {moved:.3e}"
    );
}

#[test]
fn flex_and_libtorch_train_alike() {
    let tch = backend::device(DeviceChoice::Cpu, None).unwrap();
    let (flex_losses, init, flex_weights) = train(&Device::flex(), Precision::F32);
    let (tch_losses, tch_init, tch_weights) = train(&tch, Precision::F32);
    assert_eq!(
        init, tch_init,
        "nrun draws the initial weights itself, identically"
    );
    // The first step starts from identical weights and data: same numbers
    // up to float rounding.
    assert_losses_close(&flex_losses[..1], &tch_losses[..1], 1e-5);
    // Later, Adam turns rounding differences in near-zero gradients into
    // whole steps of size lr, so compare the trajectories as a whole: the
    // two runs must differ far less than either moved.
    let moved = mean_diff(&flex_weights, &init);
    let apart = mean_diff(&flex_weights, &tch_weights);
    eprintln!(
        "flex vs libtorch: weights moved {moved:.3e} on average, the backends differ by {apart:.3e}"
    );
    assert!(
        apart < 0.05 * moved,
        "backends differ by {apart:.3e}, training moved weights by {moved:.3e}"
    );
    assert_losses_close(&flex_losses, &tch_losses, 1e-3);
}

/// bf16 autocast runs on libtorch too, and both backends round alike.
#[test]
fn bf16_trains_alike_on_flex_and_libtorch() {
    let tch = backend::device(DeviceChoice::Cpu, None).unwrap();
    let (flex_losses, init, flex_weights) = train(&Device::flex(), Precision::Bf16);
    let (tch_losses, _, tch_weights) = train(&tch, Precision::Bf16);
    let (_, _, full_weights) = train(&Device::flex(), Precision::F32);
    // bf16 keeps 8 significant bits: the first losses agree to about 1%.
    assert_losses_close(&flex_losses[..1], &tch_losses[..1], 1e-2);
    let moved = mean_diff(&flex_weights, &init);
    let apart = mean_diff(&flex_weights, &tch_weights);
    let rounding = mean_diff(&flex_weights, &full_weights);
    eprintln!(
        "bf16: weights moved {moved:.3e}; flex vs libtorch {apart:.3e}; bf16 vs f32 on flex {rounding:.3e}"
    );
    assert!(rounding > 0.0, "bf16 must change the trajectory");
    assert!(
        apart < 0.2 * moved,
        "backends differ by {apart:.3e}, moved {moved:.3e}"
    );
}
