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
use nrun::ot::rng;
use nrun::ot::schedule::{LrDecay, Schedule};
use nrun::ot::trainer::{
    AdamSpec, GuardSpec, Observer, Snapshot, StepStats, TrainConfig, Trainer, ZSpec,
};
use nrun::samples::Samples;

#[derive(Default)]
struct Losses(Vec<(f64, f64)>);

impl Observer for Losses {
    fn on_step(&mut self, s: &StepStats, _: &Model) {
        self.0.push((s.f_loss, s.t_loss));
    }
    fn on_checkpoint(&mut self, _: &Snapshot) -> Result<(), String> {
        Ok(())
    }
    fn on_restore(&mut self, _: u64) {}
    fn on_event(&mut self, _: &str) {}
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

/// Losses per step, weights before and after training.
fn train(device: &Device, precision: Precision) -> (Vec<(f64, f64)>, Vec<f32>, Vec<f32>) {
    let mut r = rng::stream(3, rng::Purpose::Sample, 0);
    let source = Samples::new(vec![1, 16, 16], rng::normal(&mut r, 64 * 256, 1.0));
    let target = Samples::new(vec![1, 16, 16], rng::normal(&mut r, 64 * 256, 0.5));
    let cfg = TrainConfig {
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
            ..AdamSpec::default()
        },
        seed: 5,
        guard: GuardSpec::default(),
        checkpoint_every: 100,
        lr_decay: LrDecay::Constant,
        noise: None,
        convexity: 0.0,
        precision,
    };
    let mut trainer = Trainer::new(cfg, &source, &target, device).unwrap();
    let before = weights(&trainer);
    let mut losses = Losses::default();
    trainer.run(&mut losses).unwrap();
    (losses.0, before, weights(&trainer))
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
    let ((f1, t1), (f2, t2)) = (flex_losses[0], tch_losses[0]);
    assert!(
        (f1 - f2).abs() <= 1e-5 * (1.0 + f1.abs()),
        "f loss {f1} vs {f2}"
    );
    assert!(
        (t1 - t2).abs() <= 1e-5 * (1.0 + t1.abs()),
        "T loss {t1} vs {t2}"
    );
    // Later, Adam turns rounding differences in near-zero gradients into
    // whole steps of size lr, so compare the trajectories as a whole: the
    // two runs must differ far less than either moved.
    let mean = |v: Vec<f32>| v.iter().map(|x| x.abs() as f64).sum::<f64>() / v.len() as f64;
    let moved = mean(flex_weights.iter().zip(&init).map(|(a, b)| a - b).collect());
    let apart = mean(
        flex_weights
            .iter()
            .zip(&tch_weights)
            .map(|(a, b)| a - b)
            .collect(),
    );
    eprintln!(
        "flex vs libtorch: weights moved {moved:.3e} on average, the backends differ by {apart:.3e}"
    );
    assert!(
        apart < 0.05 * moved,
        "backends differ by {apart:.3e}, training moved weights by {moved:.3e}"
    );
    for ((f1, t1), (f2, t2)) in flex_losses.iter().zip(&tch_losses) {
        assert!(
            (f1 - f2).abs() <= 1e-3 * (1.0 + f1.abs()),
            "f loss {f1} vs {f2}"
        );
        assert!(
            (t1 - t2).abs() <= 1e-3 * (1.0 + t1.abs()),
            "T loss {t1} vs {t2}"
        );
    }
}

/// bf16 autocast runs on libtorch too, and both backends round alike.
#[test]
fn bf16_trains_alike_on_flex_and_libtorch() {
    let tch = backend::device(DeviceChoice::Cpu, None).unwrap();
    let (flex_losses, init, flex_weights) = train(&Device::flex(), Precision::Bf16);
    let (tch_losses, _, tch_weights) = train(&tch, Precision::Bf16);
    let (_, _, full_weights) = train(&Device::flex(), Precision::F32);
    // bf16 keeps 8 significant bits: the first losses agree to about 1%.
    let ((f1, t1), (f2, t2)) = (flex_losses[0], tch_losses[0]);
    assert!(
        (f1 - f2).abs() <= 1e-2 * (1.0 + f1.abs()),
        "f loss {f1} vs {f2}"
    );
    assert!(
        (t1 - t2).abs() <= 1e-2 * (1.0 + t1.abs()),
        "T loss {t1} vs {t2}"
    );
    let mean_diff = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs() as f64)
            .sum::<f64>()
            / a.len() as f64
    };
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
