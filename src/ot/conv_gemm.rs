//! Stride-1 2-D convolutions on the CPU as large matrix products: the
//! patches of a chunk of output pixels are gathered channels-last (im2col)
//! into a `[pixels, k*k*C]` matrix, which then meets the weights in one
//! `gemm` call.
//!
//! Why not burn-flex's own convolution: it multiplies per 512-pixel tile
//! with the output channels as the product's rows (32 or 128 of them), a
//! shape the `gemm` crate runs at 15-60 GFLOP/s on our 2-core machine, and
//! it computes the weight gradient as a convolution with image-sized
//! kernels. With the pixels as rows, the same crate reaches 95-120 GFLOP/s
//! (measured side by side), which is what `same_conv` uses for the forward
//! pass, the input gradient (a forward pass with flipped weights) and the
//! weight gradient.
//!
//! The slices here are plain row-major f32: `x` is `[B, H, W, C]`, weights
//! are a `[k*k*C, O]` matrix whose rows run over (ky, kx, c).

use gemm::{Parallelism, gemm};
use rayon::prelude::*;

/// Bytes of patches gathered at a time: bounds the im2col buffer (the seed
/// net's layer would need 0.8 GB at once) while keeping each product large.
const CHUNK_BYTES: usize = 32 << 20;

/// The geometry of a stride-1 convolution with `padding` zeros on every side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub batch: usize,
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    pub kernel: usize,
    pub padding: usize,
}

impl Geometry {
    pub fn out_height(&self) -> usize {
        self.height + 2 * self.padding + 1 - self.kernel
    }

    pub fn out_width(&self) -> usize {
        self.width + 2 * self.padding + 1 - self.kernel
    }

    /// Length of one pixel's patch: a row of the im2col matrix.
    fn patch(&self) -> usize {
        self.kernel * self.kernel * self.channels
    }

    fn out_pixels(&self) -> usize {
        self.batch * self.out_height() * self.out_width()
    }

    /// Output pixels gathered per chunk.
    fn chunk_rows(&self) -> usize {
        (CHUNK_BYTES / 4 / self.patch()).max(1)
    }
}

/// The convolution of channels-last `x` with `weights` (`[k*k*C, outputs]`)
/// plus `bias` (`[outputs]`, if any): `[B, H', W', outputs]`, channels last.
pub fn forward(
    x: &[f32],
    geometry: &Geometry,
    weights: &[f32],
    bias: Option<&[f32]>,
    outputs: usize,
) -> Vec<f32> {
    let patch = geometry.patch();
    assert_eq!(weights.len(), patch * outputs);
    // The bias is the products' starting value, which saves a pass over
    // the output.
    let mut out = match bias {
        Some(bias) => {
            assert_eq!(bias.len(), outputs);
            bias.repeat(geometry.out_pixels())
        }
        None => vec![0.0f32; geometry.out_pixels() * outputs],
    };
    for_each_chunk(x, geometry, |first, m, cols| {
        let out = &mut out[first * outputs..(first + m) * outputs];
        // SAFETY: out is m x outputs, cols m x patch, weights patch x outputs,
        // all row-major and in bounds (lengths checked here and in
        // for_each_chunk).
        unsafe {
            gemm(
                m,
                outputs,
                patch,
                out.as_mut_ptr(),
                1,
                outputs as isize,
                bias.is_some(),
                cols.as_ptr(),
                1,
                patch as isize,
                weights.as_ptr(),
                1,
                outputs as isize,
                1.0,
                1.0,
                false,
                false,
                false,
                Parallelism::Rayon(0),
            );
        }
    });
    out
}

/// The gradient of the weights (`[k*k*C, outputs]`) given channels-last `x`
/// and the output's gradient `grad` (`[B, H', W', outputs]`).
pub fn weight_grad(x: &[f32], geometry: &Geometry, grad: &[f32], outputs: usize) -> Vec<f32> {
    let patch = geometry.patch();
    assert_eq!(grad.len(), geometry.out_pixels() * outputs);
    let mut dw = vec![0.0f32; patch * outputs];
    for_each_chunk(x, geometry, |first, m, cols| {
        let grad = &grad[first * outputs..(first + m) * outputs];
        // dw += cols^T grad; cols^T is read in place (column stride `patch`).
        // SAFETY: dw is patch x outputs, cols m x patch, grad m x outputs,
        // row-major and in bounds.
        unsafe {
            gemm(
                patch,
                outputs,
                m,
                dw.as_mut_ptr(),
                1,
                outputs as isize,
                first > 0,
                cols.as_ptr(),
                patch as isize,
                1,
                grad.as_ptr(),
                1,
                outputs as isize,
                1.0,
                1.0,
                false,
                false,
                false,
                Parallelism::Rayon(0),
            );
        }
    });
    dw
}

/// Calls `each(first, m, cols)` for consecutive chunks of output pixels,
/// `cols` holding the patches of pixels `first..first + m` as its rows
/// (`m x patch`, one buffer reused for every chunk).
fn for_each_chunk(x: &[f32], geometry: &Geometry, mut each: impl FnMut(usize, usize, &[f32])) {
    assert_eq!(
        x.len(),
        geometry.batch * geometry.height * geometry.width * geometry.channels
    );
    let (pixels, patch, rows) = (
        geometry.out_pixels(),
        geometry.patch(),
        geometry.chunk_rows(),
    );
    let mut cols = vec![0.0f32; rows.min(pixels) * patch];
    for first in (0..pixels).step_by(rows) {
        let m = rows.min(pixels - first);
        let cols = &mut cols[..m * patch];
        im2col(x, geometry, first, cols);
        each(first, m, cols);
    }
}

/// Gathers the patches of output pixels `first..` into the rows of `cols`,
/// zeros where a patch hangs over the border. Each kernel row of a patch is
/// one contiguous run of the channels-last input, so this is all copies.
fn im2col(x: &[f32], g: &Geometry, first: usize, cols: &mut [f32]) {
    let (k, c) = (g.kernel, g.channels);
    let (oh, ow) = (g.out_height(), g.out_width());
    let (h, w) = (g.height as isize, g.width as isize);
    let run = k * c;
    cols.par_chunks_mut(g.patch())
        .enumerate()
        .for_each(|(i, patch)| {
            let pixel = first + i;
            let (b, y, x0) = (pixel / (oh * ow), (pixel / ow) % oh, pixel % ow);
            for (ky, dst) in patch.chunks_mut(run).enumerate() {
                let row = (y + ky) as isize - g.padding as isize;
                let left = x0 as isize - g.padding as isize;
                // Kernel columns lo..hi fall inside the image.
                let lo = (-left).clamp(0, k as isize) as usize;
                let hi = (w - left).clamp(0, k as isize) as usize;
                if row < 0 || row >= h || hi <= lo {
                    dst.fill(0.0);
                    continue;
                }
                let src = ((b * g.height + row as usize) * g.width) * c
                    + (left + lo as isize) as usize * c;
                dst[..lo * c].fill(0.0);
                dst[lo * c..hi * c].copy_from_slice(&x[src..src + (hi - lo) * c]);
                dst[hi * c..].fill(0.0);
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook definition, channels last.
    fn naive(x: &[f32], g: &Geometry, weights: &[f32], outputs: usize) -> Vec<f32> {
        let (oh, ow, k, c) = (g.out_height(), g.out_width(), g.kernel, g.channels);
        let mut out = vec![0.0; g.batch * oh * ow * outputs];
        for b in 0..g.batch {
            for y in 0..oh {
                for x0 in 0..ow {
                    for ky in 0..k {
                        for kx in 0..k {
                            let (yy, xx) = (
                                (y + ky) as isize - g.padding as isize,
                                (x0 + kx) as isize - g.padding as isize,
                            );
                            if yy < 0 || xx < 0 || yy >= g.height as isize || xx >= g.width as isize
                            {
                                continue;
                            }
                            for ci in 0..c {
                                let v = x[((b * g.height + yy as usize) * g.width + xx as usize)
                                    * c
                                    + ci];
                                for o in 0..outputs {
                                    out[((b * oh + y) * ow + x0) * outputs + o] +=
                                        v * weights[((ky * k + kx) * c + ci) * outputs + o];
                                }
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// Small integers, so that every sum here is exact in f32 whatever the
    /// order of summation (the products block and split it differently).
    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| {
                (((i as u32).wrapping_mul(2654435761).wrapping_add(seed) >> 8) % 7) as f32 - 3.0
            })
            .collect()
    }

    fn assert_same(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        for (i, (p, q)) in a.iter().zip(b).enumerate() {
            assert_eq!(p, q, "element {i}");
        }
    }

    #[test]
    fn forward_matches_the_definition_with_and_without_padding() {
        for padding in [0, 1, 2, 3] {
            let g = Geometry {
                batch: 2,
                height: 6,
                width: 5,
                channels: 3,
                kernel: 3,
                padding,
            };
            let x = values(2 * 6 * 5 * 3, 1);
            let w = values(9 * 3 * 4, 2);
            assert_same(&forward(&x, &g, &w, None, 4), &naive(&x, &g, &w, 4));
        }
    }

    #[test]
    fn weight_grad_is_the_adjoint_of_forward_in_the_weights() {
        // <grad, forward(x, w)> is linear in w, so its gradient in w[j] is
        // forward(x, e_j) dotted with grad.
        let g = Geometry {
            batch: 2,
            height: 5,
            width: 4,
            channels: 2,
            kernel: 3,
            padding: 1,
        };
        let (outputs, patch) = (3, 9 * 2);
        let x = values(2 * 5 * 4 * 2, 3);
        let grad = values(g.out_pixels() * outputs, 4);
        let dw = weight_grad(&x, &g, &grad, outputs);
        let expected: Vec<f32> = (0..patch * outputs)
            .map(|j| {
                let mut e = vec![0.0; patch * outputs];
                e[j] = 1.0;
                naive(&x, &g, &e, outputs)
                    .iter()
                    .zip(&grad)
                    .map(|(a, b)| a * b)
                    .sum()
            })
            .collect();
        assert_same(&dw, &expected);
    }

    #[test]
    fn chunks_split_the_pixels_without_changing_the_result() {
        // Patches of 5*5*2000 floats: 167 pixels per 32 MiB chunk, so the
        // 288 output pixels take two chunks, the second one partial.
        let g = Geometry {
            batch: 2,
            height: 12,
            width: 12,
            channels: 2000,
            kernel: 5,
            padding: 2,
        };
        assert_eq!((g.chunk_rows(), g.out_pixels()), (167, 288));
        let image = 12 * 12 * 2000;
        let x = values(2 * image, 5);
        let w = values(g.patch() * 2, 6);
        let bias = [5.0, -2.0];
        let with_bias: Vec<f32> = naive(&x, &g, &w, 2)
            .iter()
            .enumerate()
            .map(|(i, v)| v + bias[i % 2])
            .collect();
        assert_same(&forward(&x, &g, &w, Some(&bias), 2), &with_bias);
        // The weight gradient over the batch (accumulated over the chunks)
        // is the sum of each image's (one chunk each).
        let grad = values(g.out_pixels() * 2, 7);
        let single = Geometry { batch: 1, ..g };
        let per_image: Vec<Vec<f32>> = x
            .chunks(image)
            .zip(grad.chunks(grad.len() / 2))
            .map(|(x, grad)| weight_grad(x, &single, grad, 2))
            .collect();
        let summed: Vec<f32> = per_image[0]
            .iter()
            .zip(&per_image[1])
            .map(|(a, b)| a + b)
            .collect();
        assert_same(&weight_grad(&x, &g, &grad, 2), &summed);
    }
}
