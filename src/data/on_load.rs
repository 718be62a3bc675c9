//! Drawing training batches through a dataset's `on_load` transforms, so
//! that noise is fresh at every draw, as in the MNIST super-resolution
//! protocol (docs/experiments.md, section 5).

use rand::RngExt;
use rand_distr::StandardNormal;

use super::images::Images;
use super::resize::{Interp, Resize};
use crate::rng::Rng;
use crate::samples::{Sampler, Samples};
use crate::tensor_file::OnLoad;

/// The shape of the items drawn from stored items of shape `stored`
/// through `ops`, or why the ops cannot take them.
pub fn drawn_shape(stored: &[usize], ops: &[OnLoad]) -> Result<Vec<usize>, String> {
    let mut shape = stored.to_vec();
    for op in ops {
        if let OnLoad::Nearest { size } = op {
            match shape.as_slice() {
                [c, _, _] => shape = vec![*c, size[0], size[1]],
                other => {
                    return Err(format!(
                        "on_load nearest needs images, the data has items {other:?}"
                    ));
                }
            }
        }
    }
    Ok(shape)
}

pub struct LoadSampler {
    samples: Samples,
    ops: Vec<OnLoad>,
    shape: Vec<usize>,
}

impl LoadSampler {
    pub fn new(samples: Samples, ops: Vec<OnLoad>) -> Result<LoadSampler, String> {
        let shape = drawn_shape(&samples.shape, &ops)?;
        Ok(LoadSampler {
            samples,
            ops,
            shape,
        })
    }

    /// Applies the ops to a batch of `count` items.
    pub fn transform(&self, mut data: Vec<f32>, count: usize, rng: &mut Rng) -> Vec<f32> {
        let mut shape = self.samples.shape.clone();
        for op in &self.ops {
            match op {
                OnLoad::Noise { std } => {
                    for v in &mut data {
                        *v += rng.sample::<f32, _>(StandardNormal) * *std as f32;
                    }
                }
                OnLoad::Nearest { size } => {
                    let images = Images {
                        n: count,
                        c: shape[0],
                        h: shape[1],
                        w: shape[2],
                        data,
                    };
                    let r = Resize {
                        h: size[0],
                        w: size[1],
                        interp: Interp::Nearest,
                        antialias: false,
                    };
                    data = r.apply(&images).expect("shapes checked in new").data;
                    shape = vec![shape[0], size[0], size[1]];
                }
            }
        }
        data
    }
}

impl Sampler for LoadSampler {
    fn item_shape(&self) -> &[usize] {
        &self.shape
    }

    fn draw(&self, rng: &mut Rng, batch: usize) -> Vec<f32> {
        let indices: Vec<usize> = (0..batch)
            .map(|_| rng.random_range(0..self.samples.n))
            .collect();
        self.transform(self.samples.gather(&indices), batch, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    #[test]
    fn noise_is_fresh_and_nearest_upsamples() {
        let s = Samples::new(vec![1, 2, 2], vec![0.0; 8]);
        let sampler = LoadSampler::new(
            s,
            vec![OnLoad::Noise { std: 1.0 }, OnLoad::Nearest { size: [4, 4] }],
        )
        .unwrap();
        assert_eq!(sampler.item_shape(), &[1, 4, 4]);
        let mut rng = stream(0, Purpose::Sample, 0);
        let a = sampler.draw(&mut rng, 1);
        let b = sampler.draw(&mut rng, 1);
        assert_eq!(a.len(), 16);
        assert_ne!(a, b, "each draw has fresh noise");
        // Nearest: each noisy pixel fills a 2x2 block.
        assert_eq!(a[0], a[1]);
        assert_eq!(a[0], a[4]);
    }
}
