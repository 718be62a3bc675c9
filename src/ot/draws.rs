//! The random draws of one outer step, made ahead on another thread.
//!
//! An outer step's draws come from one ChaCha stream keyed by (seed, step)
//! and consumed in a fixed order, so they can be made before the step runs
//! and stay bit-identical to drawing them in place. A producer thread draws
//! step s + 1 while the device computes step s; the trainer uploads each
//! step's x and z in one transfer instead of one per T update.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::Scope;

use super::variants::NoiseSpec;
use crate::rng::{self, Purpose, Rng};
use crate::samples::Sampler;

/// What a step draws besides x: the sizes and variants that decide the
/// order and count of the draws.
#[derive(Clone)]
pub struct DrawSpec {
    pub seed: u64,
    pub batch: usize,
    pub z_count: usize,
    /// Values of z per sample (0: T takes no z).
    pub z_dim: usize,
    pub z_std: f32,
    pub y_dim: usize,
    pub t_steps: usize,
    pub noise: Option<NoiseSpec>,
    /// Reg-NOT: the f update draws one mixing weight per pair of targets.
    pub convexity: bool,
}

/// The noise-conditioned potential's draws: sigma per row, eps per value.
pub struct NoiseDraw {
    pub sigmas: Vec<f64>,
    pub eps: Vec<f32>,
}

/// Everything one outer step draws, in the order it is used.
pub struct StepDraws {
    pub step: u64,
    /// The K_T updates' x, concatenated: `[K_T * b, dx]`.
    pub t_x: Vec<f32>,
    /// The K_T updates' z, concatenated: `[K_T * b * Z, z_dim]`.
    pub t_z: Vec<f32>,
    /// Per T update, with a noise-conditioned potential (else empty).
    pub t_noise: Vec<NoiseDraw>,
    pub f_x: Vec<f32>,
    pub f_z: Vec<f32>,
    pub f_y: Vec<f32>,
    pub f_noise: Option<NoiseDraw>,
    /// Reg-NOT's mixing weights, in [0, 1).
    pub f_mix: Option<Vec<f32>>,
}

/// Draws step `step`'s randomness in the order the trainer consumed it
/// when it drew in place.
pub fn draw_step(
    spec: &DrawSpec,
    source: &dyn Sampler,
    target: &dyn Sampler,
    step: u64,
) -> StepDraws {
    let mut r = rng::stream(spec.seed, Purpose::Step, step);
    let (b, z) = (spec.batch, spec.z_count);
    let mut t_x = Vec::new();
    let mut t_z = Vec::new();
    let mut t_noise = Vec::new();
    for _ in 0..spec.t_steps {
        t_x.extend(source.draw(&mut r, b));
        t_z.extend(noise_z(spec, &mut r));
        if let Some(n) = &spec.noise {
            t_noise.push(NoiseDraw {
                sigmas: n.draw(&mut r, b * z),
                eps: rng::normal(&mut r, b * z * spec.y_dim, 1.0),
            });
        }
    }
    let f_x = source.draw(&mut r, b);
    let f_z = noise_z(spec, &mut r);
    let f_y = target.draw(&mut r, b);
    let f_noise = spec.noise.as_ref().map(|n| NoiseDraw {
        sigmas: n.draw(&mut r, b),
        eps: rng::normal(&mut r, b * spec.y_dim, 1.0),
    });
    let f_mix = spec.convexity.then(|| mixing_weights(&mut r, b / 2));
    StepDraws {
        step,
        t_x,
        t_z,
        t_noise,
        f_x,
        f_z,
        f_y,
        f_noise,
        f_mix,
    }
}

fn noise_z(spec: &DrawSpec, r: &mut Rng) -> Vec<f32> {
    if spec.z_dim == 0 {
        Vec::new()
    } else {
        rng::normal(r, spec.batch * spec.z_count * spec.z_dim, spec.z_std)
    }
}

/// Reg-NOT's weight t per pair of targets, uniform in [0, 1).
pub fn mixing_weights(r: &mut Rng, pairs: usize) -> Vec<f32> {
    rng::uniform(r, pairs, 0.5)
        .into_iter()
        .map(|u| u + 0.5)
        .collect()
}

/// A producer thread one step ahead of the trainer.
pub struct Ahead<'scope, 'env> {
    scope: &'scope Scope<'scope, 'env>,
    spec: DrawSpec,
    source: &'env dyn Sampler,
    target: &'env dyn Sampler,
    next: Option<Receiver<StepDraws>>,
}

impl<'scope, 'env> Ahead<'scope, 'env> {
    pub fn new(
        scope: &'scope Scope<'scope, 'env>,
        spec: DrawSpec,
        source: &'env dyn Sampler,
        target: &'env dyn Sampler,
    ) -> Self {
        Ahead {
            scope,
            spec,
            source,
            target,
            next: None,
        }
    }

    /// Step `step`'s draws; restarts the producer there when the trainer
    /// went back (a restore after divergence) or this is the first call.
    pub fn take(&mut self, step: u64) -> StepDraws {
        if let Some(rx) = &self.next
            && let Ok(draws) = rx.recv()
            && draws.step == step
        {
            return draws;
        }
        self.restart(step);
        let rx = self.next.as_ref().expect("just started");
        rx.recv()
            .expect("the producer draws until its receiver is dropped")
    }

    fn restart(&mut self, step: u64) {
        // Dropping the receiver ends the old producer at its next send.
        self.next = None;
        let (tx, rx) = sync_channel(1);
        let (spec, source, target) = (self.spec.clone(), self.source, self.target);
        self.scope
            .spawn(move || produce(&spec, source, target, step, &tx));
        self.next = Some(rx);
    }
}

fn produce(
    spec: &DrawSpec,
    source: &dyn Sampler,
    target: &dyn Sampler,
    from: u64,
    tx: &SyncSender<StepDraws>,
) {
    for step in from.. {
        if tx.send(draw_step(spec, source, target, step)).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples::Samples;

    fn spec(noise: bool) -> DrawSpec {
        DrawSpec {
            seed: 3,
            batch: 4,
            z_count: 2,
            z_dim: 3,
            z_std: 0.5,
            y_dim: 2,
            t_steps: 5,
            noise: noise.then(|| {
                serde_json::from_str(r#"{"log_mean": 0.0, "log_std": 1.0, "embedding": 4}"#)
                    .expect("a noise spec")
            }),
            convexity: !noise,
        }
    }

    fn flat(d: &StepDraws) -> Vec<f64> {
        let noise = d.t_noise.iter().chain(&d.f_noise).flat_map(|n| {
            n.sigmas
                .iter()
                .copied()
                .chain(n.eps.iter().map(|e| *e as f64))
        });
        [&d.t_x, &d.t_z, &d.f_x, &d.f_z, &d.f_y]
            .into_iter()
            .flatten()
            .chain(d.f_mix.iter().flatten())
            .map(|v| *v as f64)
            .chain(noise)
            .collect()
    }

    #[test]
    fn a_step_draws_its_sizes_in_a_stream_of_its_own() {
        let pool = Samples::new(vec![2], (0..200).map(|v| v as f32).collect());
        for noise in [false, true] {
            let s = spec(noise);
            let d = draw_step(&s, &pool, &pool, 7);
            assert_eq!(d.t_x.len(), 5 * 4 * 2);
            assert_eq!(d.t_z.len(), 5 * 4 * 2 * 3);
            assert_eq!((d.f_x.len(), d.f_z.len(), d.f_y.len()), (8, 24, 8));
            assert_eq!(d.t_noise.len(), if noise { 5 } else { 0 });
            assert_eq!(d.f_mix.as_ref().map(Vec::len), (!noise).then_some(2));
            assert_eq!(flat(&d), flat(&draw_step(&s, &pool, &pool, 7)));
            assert_ne!(flat(&d), flat(&draw_step(&s, &pool, &pool, 8)));
        }
    }

    /// Drawing ahead gives what drawing in place gives, also when the
    /// trainer goes back to an earlier step (a restore after divergence).
    #[test]
    fn the_producer_follows_the_trainer_back_and_forth() {
        let pool = Samples::new(vec![2], (0..200).map(|v| v as f32).collect());
        let s = spec(false);
        std::thread::scope(|scope| {
            let mut ahead = Ahead::new(scope, s.clone(), &pool, &pool);
            for step in [0, 1, 2, 3, 1, 2, 10, 11] {
                let got = ahead.take(step);
                assert_eq!(got.step, step);
                assert_eq!(flat(&got), flat(&draw_step(&s, &pool, &pool, step)));
            }
        });
    }
}
