//! Seeded randomness that does not depend on the order things run in.
//!
//! burn's own generator is one per process, so two trainings on two threads
//! would steal each other's numbers. Every random draw of a training comes
//! instead from a ChaCha stream keyed by (seed, purpose, step): a run resumed
//! at step k draws exactly what the uninterrupted run drew at step k.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub type Rng = ChaCha8Rng;

/// What a stream is for; streams with different purposes never overlap.
#[derive(Clone, Copy, Debug)]
pub enum Purpose {
    InitT,
    InitF,
    Step,
    Sample,
}

pub fn stream(seed: u64, purpose: Purpose, index: u64) -> Rng {
    let mut key = blake3::Hasher::new();
    key.update(b"nrun-rng");
    key.update(&seed.to_le_bytes());
    key.update(&(purpose as u64).to_le_bytes());
    key.update(&index.to_le_bytes());
    ChaCha8Rng::from_seed(*key.finalize().as_bytes())
}

/// `count` draws from N(0, std^2).
pub fn normal(rng: &mut Rng, count: usize, std: f32) -> Vec<f32> {
    use rand::RngExt;
    (0..count)
        .map(|_| rng.sample::<f32, _>(rand_distr::StandardNormal) * std)
        .collect()
}

/// `count` draws from U(-bound, bound).
pub fn uniform(rng: &mut Rng, count: usize, bound: f32) -> Vec<f32> {
    use rand::RngExt;
    if bound <= 0.0 {
        return vec![0.0; count];
    }
    (0..count)
        .map(|_| rng.random_range(-bound..bound))
        .collect()
}
