//! A dataset in memory: `n` items of one shape, row-major `f32`.
//!
//! Images are `[c, h, w]` in [-1, 1]; 2-D toy points are `[2]`. Stages read
//! and write these through [`crate::tensor_file`]; the trainer draws batches.

use rand::RngExt;

use crate::rng::Rng;

#[derive(Clone, Debug, PartialEq)]
pub struct Samples {
    pub n: usize,
    /// Shape of one item.
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl Samples {
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Samples {
        let size: usize = shape.iter().product();
        let n = data.len().checked_div(size).unwrap_or(0);
        Samples { n, shape, data }
    }

    /// Values per item.
    pub fn item_size(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn item(&self, i: usize) -> &[f32] {
        let s = self.item_size();
        &self.data[i * s..(i + 1) * s]
    }

    /// The items at `indices`, concatenated.
    pub fn gather(&self, indices: &[usize]) -> Vec<f32> {
        let mut out = Vec::with_capacity(indices.len() * self.item_size());
        for &i in indices {
            out.extend_from_slice(self.item(i));
        }
        out
    }

    /// The first `count` items (all of them if fewer).
    pub fn head(&self, count: usize) -> Samples {
        let k = count.min(self.n);
        Samples::new(
            self.shape.clone(),
            self.data[..k * self.item_size()].to_vec(),
        )
    }
}

/// Something the trainer can draw batches from.
pub trait Sampler: Sync {
    fn item_shape(&self) -> &[usize];
    /// `batch` items drawn with `rng`, concatenated.
    fn draw(&self, rng: &mut Rng, batch: usize) -> Vec<f32>;
}

/// Uniform draws with replacement: every batch is independent of the last,
/// which keeps a resumed run on the same random stream as an unbroken one.
impl Sampler for Samples {
    fn item_shape(&self) -> &[usize] {
        &self.shape
    }

    fn draw(&self, rng: &mut Rng, batch: usize) -> Vec<f32> {
        let indices: Vec<usize> = (0..batch).map(|_| rng.random_range(0..self.n)).collect();
        self.gather(&indices)
    }
}
