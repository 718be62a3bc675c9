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
use nrun::ot::rng;
use nrun::ot::schedule::{LrDecay, Schedule};
use nrun::ot::trainer::{AdamSpec, GuardSpec, Observer, Snapshot, StepStats, TrainConfig, Trainer, ZSpec};
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
        self.0.extend(p.val().into_data().convert::<f32>().try_into_vec::<f32>().unwrap());
    }
}

fn train(device: &Device) -> (Vec<(f64, f64)>, Vec<f32>) {
    let mut r = rng::stream(3, rng::Purpose::Sample, 0);
    let source = Samples::new(vec![1, 16, 16], rng::normal(&mut r, 64 * 256, 1.0));
    let target = Samples::new(vec![1, 16, 16], rng::normal(&mut r, 64 * 256, 0.5));
    let cfg = TrainConfig {
        cost: Cost { kind: CostKind::WeakKernel, scaling: Scaling::Paper },
        gamma: Schedule::constant(0.5),
        iterations: 3,
        t_steps: 2,
        batch: 4,
        z: ZSpec { count: 3, channels: 1, std: 1.0 },
        t_net: NetSpec::CnnT { channels: 8, layers: 3 },
        f_net: NetSpec::CnnF { channels: 8 },
        t_opt: AdamSpec { lr: 1e-3, ..AdamSpec::default() },
        f_opt: AdamSpec { lr: 1e-3, ..AdamSpec::default() },
        seed: 5,
        guard: GuardSpec::default(),
        checkpoint_every: 100,
        lr_decay: LrDecay::Constant,
        noise: None,
        convexity: 0.0,
    };
    let mut trainer = Trainer::new(cfg, &source, &target, device).unwrap();
    let mut losses = Losses::default();
    trainer.run(&mut losses).unwrap();
    let mut values = Values::default();
    trainer.transport_net().visit(&mut values);
    trainer.potential_net().visit(&mut values);
    (losses.0, values.0)
}

#[test]
fn flex_and_libtorch_train_alike() {
    let tch = backend::device(DeviceChoice::Cpu, None).unwrap();
    let (flex_losses, flex_weights) = train(&Device::flex());
    let (tch_losses, tch_weights) = train(&tch);
    for ((f1, t1), (f2, t2)) in flex_losses.iter().zip(&tch_losses) {
        assert!((f1 - f2).abs() <= 1e-4 * (1.0 + f1.abs()), "f loss {f1} vs {f2}");
        assert!((t1 - t2).abs() <= 1e-4 * (1.0 + t1.abs()), "T loss {t1} vs {t2}");
    }
    assert_eq!(flex_weights.len(), tch_weights.len());
    let worst = flex_weights.iter().zip(&tch_weights).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-4, "largest weight difference {worst}");
    eprintln!("flex vs libtorch: largest weight difference {worst:.2e} after 3 outer steps");
}
