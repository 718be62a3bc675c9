//! Stride-1 2-D convolutions on the CPU as matrix products over a padded,
//! channels-last image, without materialising patches (im2col).
//!
//! The trick: pad each image to `[Hp, Wp, C]` and compute the output on the
//! padded width, `[H', Wp]` pixels (the last `Wp - W'` columns of each row
//! are junk and dropped). Output pixel `r = y * Wp + x` then reads, for
//! kernel row `ky`, the `k * C` floats starting at pixel `r + ky * Wp` of the
//! padded image: the "patch rows" for one `ky` are a matrix with row stride
//! `C` whose rows overlap, which `gemm` reads in place. So a convolution is
//! `k` products of `[H' * Wp, k * C] x [k * C, O]` per image, accumulated.
//!
//! Why: burn-flex multiplies per 512-pixel tile with the output channels as
//! the product's rows, a shape the `gemm` crate runs at 15-60 GFLOP/s on our
//! 2-core machine, and computes the weight gradient as a convolution with
//! image-sized kernels. Gathering patches first (im2col, the previous
//! version here) fixed the shapes but wrote and reread `k * k` copies of
//! the input; in place, the forward pass of the seed net's layer took
//! 0.46 s instead of 0.67 s, the small nets' 0.015 s instead of 0.029 s
//! (measured side by side), at the price of `Wp / W'` more rows (12% on
//! 32x32 images with 5x5 kernels).
//!
//! Layouts: `x` and the output are contiguous NCHW, as burn keeps them; the
//! transposes to and from channels-last happen in the copies that pad the
//! input and drop the junk columns, so no separate layout pass is needed.
//! Weights are a row-major `[k*k*C, O]` matrix whose rows run over
//! (ky, kx, c).

use gemm::{Parallelism, gemm};
use rayon::prelude::*;

/// The weight gradient is summed over this many groups of consecutive
/// images, in parallel, then the groups in order: a fixed split, so that
/// the result does not depend on the number of threads or on scheduling
/// (training must be reproducible bit for bit on one machine).
const WEIGHT_GRAD_GROUPS: usize = 8;

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

    fn padded_width(&self) -> usize {
        self.width + 2 * self.padding
    }

    /// Floats of one padded image, plus `k - 1` pixels of zeros after it:
    /// the junk pixels at the end of the last output row read that far.
    fn padded_image(&self) -> usize {
        let (hp, wp) = (self.height + 2 * self.padding, self.padded_width());
        (hp * wp + self.kernel - 1) * self.channels
    }

    /// Output pixels per image computed on the padded width.
    fn wide_pixels(&self) -> usize {
        self.out_height() * self.padded_width()
    }

    fn image(&self) -> usize {
        self.height * self.width * self.channels
    }

    /// Output pixels of one image.
    fn out_pixels(&self) -> usize {
        self.out_height() * self.out_width()
    }

    /// Copies one `[C, H, W]` image, transposed to channels-last, into the
    /// interior of `padded`, whose border (and tail) stay as they are:
    /// zeros, written once per buffer.
    fn pad_into(&self, image: &[f32], padded: &mut [f32]) {
        let (h, w, c, wp) = (self.height, self.width, self.channels, self.padded_width());
        for y in 0..h {
            let start = ((y + self.padding) * wp + self.padding) * c;
            transpose(&image[y * w..], h * w, c, w, &mut padded[start..], c);
        }
    }
}

/// The products of `tasks` images (or groups of images) that run in
/// parallel themselves run on all threads only when there are too few tasks
/// to keep the threads busy one task each. Either way each element of a
/// product is summed by one thread in one order: the split changes no bits.
fn product_parallelism(tasks: usize) -> Parallelism {
    if tasks < rayon::current_num_threads() {
        Parallelism::Rayon(0)
    } else {
        Parallelism::None
    }
}

/// A matrix that `gemm` reads or writes in place: element `(i, j)` at
/// `ptr + i * rows + j * columns` (the strides, in floats).
struct Strided<P> {
    ptr: P,
    rows: usize,
    columns: usize,
}

/// `dst = lhs x rhs`, or `dst += lhs x rhs` when `accumulate`; `dst` is
/// `m x n`, `lhs` `m x depth`, `rhs` `depth x n`.
///
/// # Safety
/// Every element the three matrices address lies within its allocation,
/// and `dst` overlaps neither `lhs` nor `rhs`.
unsafe fn multiply(
    (m, n, depth): (usize, usize, usize),
    dst: Strided<*mut f32>,
    accumulate: bool,
    lhs: Strided<*const f32>,
    rhs: Strided<*const f32>,
    parallelism: Parallelism,
) {
    // SAFETY: the caller's promise; gemm takes column strides first.
    unsafe {
        gemm(
            m,
            n,
            depth,
            dst.ptr,
            dst.columns as isize,
            dst.rows as isize,
            accumulate,
            lhs.ptr,
            lhs.columns as isize,
            lhs.rows as isize,
            rhs.ptr,
            rhs.columns as isize,
            rhs.rows as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

fn row_major<P>(ptr: P, row_stride: usize) -> Strided<P> {
    Strided {
        ptr,
        rows: row_stride,
        columns: 1,
    }
}

fn column_major<P>(ptr: P, column_stride: usize) -> Strided<P> {
    Strided {
        ptr,
        rows: 1,
        columns: column_stride,
    }
}

/// `dst[j * dst_stride + i] = src[i * src_stride + j]` for `i < rows`,
/// `j < cols`, in 8x8 tiles, so that the lines a tile touches stay in the
/// cache even when a stride is 4 KiB (as for 32x32 planes, whose lines all
/// map to one cache set). Measured on [32|128, 1024] <-> [1024, 32|128]:
/// 6.6-10.8 GB/s, against 3.6-14 with 16x8 tiles and 5.5-17 for the
/// `transpose` crate, which also needs contiguous matrices (an extra copy
/// into the padded image).
fn transpose(
    src: &[f32],
    src_stride: usize,
    rows: usize,
    cols: usize,
    dst: &mut [f32],
    dst_stride: usize,
) {
    const TILE: usize = 8;
    for i0 in (0..rows).step_by(TILE) {
        let i1 = (i0 + TILE).min(rows);
        for j0 in (0..cols).step_by(TILE) {
            let j1 = (j0 + TILE).min(cols);
            for j in j0..j1 {
                let dst = &mut dst[j * dst_stride + i0..j * dst_stride + i1];
                for (d, i) in dst.iter_mut().zip(i0..i1) {
                    *d = src[i * src_stride + j];
                }
            }
        }
    }
}

/// The convolution of `x` (`[B, C, H, W]`) with `weights` (`[k*k*C,
/// outputs]`) plus `bias` (`[outputs]`, if any): `[B, outputs, H', W']`.
pub fn forward(
    x: &[f32],
    geometry: &Geometry,
    weights: &[f32],
    bias: Option<&[f32]>,
    outputs: usize,
) -> Vec<f32> {
    let g = geometry;
    let (k, c, wp, ow) = (g.kernel, g.channels, g.padded_width(), g.out_width());
    assert_eq!(x.len(), g.batch * g.image());
    assert_eq!(weights.len(), k * k * c * outputs);
    if let Some(bias) = bias {
        assert_eq!(bias.len(), outputs);
    }
    let wide_pixels = g.wide_pixels();
    let parallelism = product_parallelism(g.batch);
    let mut out = vec![0.0f32; g.batch * outputs * g.out_pixels()];
    out.par_chunks_mut(outputs * g.out_pixels())
        .zip(x.par_chunks(g.image()))
        .for_each_init(
            || {
                (
                    vec![0.0f32; g.padded_image()],
                    vec![0.0f32; outputs * wide_pixels],
                )
            },
            |(padded, wide), (out, image)| {
                g.pad_into(image, padded);
                // The bias is the products' starting value.
                if let Some(bias) = bias {
                    for pixel in wide.chunks_exact_mut(outputs) {
                        pixel.copy_from_slice(bias);
                    }
                }
                for ky in 0..k {
                    // wide[pixel, o] += patch rows (stride c, k*c long, from
                    // pixel ky*wp on) x the weights' ky-th k*c x outputs
                    // block. The product writes channels-last: channel-major
                    // output ran 1.3-1.5x slower in gemm (measured).
                    // SAFETY: the patch rows end within padded (see
                    // padded_image); the other two are whole row-major
                    // blocks of wide and weights; wide is its own buffer.
                    unsafe {
                        multiply(
                            (wide_pixels, outputs, k * c),
                            row_major(wide.as_mut_ptr(), outputs),
                            bias.is_some() || ky > 0,
                            row_major(padded.as_ptr().add(ky * wp * c), c),
                            row_major(weights.as_ptr().add(ky * k * c * outputs), outputs),
                            parallelism,
                        );
                    }
                }
                // [H', Wp, O] -> [O, H', W'], junk columns dropped.
                let out_pixels = g.out_pixels();
                for y in 0..g.out_height() {
                    let wide = &wide[y * wp * outputs..];
                    transpose(wide, outputs, ow, outputs, &mut out[y * ow..], out_pixels);
                }
            },
        );
    out
}

/// The gradient of the weights (`[k*k*C, outputs]`) given `x` (`[B, C, H,
/// W]`) and the output's gradient `grad` (`[B, outputs, H', W']`).
pub fn weight_grad(x: &[f32], geometry: &Geometry, grad: &[f32], outputs: usize) -> Vec<f32> {
    let g = geometry;
    let (k, c, wp, ow) = (g.kernel, g.channels, g.padded_width(), g.out_width());
    assert_eq!(x.len(), g.batch * g.image());
    assert_eq!(grad.len(), g.batch * outputs * g.out_pixels());
    let wide_pixels = g.wide_pixels();
    let group = g.batch.div_ceil(WEIGHT_GRAD_GROUPS).max(1);
    let parallelism = product_parallelism(g.batch.div_ceil(group));
    let partials: Vec<Vec<f32>> = x
        .par_chunks(group * g.image())
        .zip(grad.par_chunks(group * outputs * g.out_pixels()))
        .map(|(images, grads)| {
            let mut dw = vec![0.0f32; k * k * c * outputs];
            let mut padded = vec![0.0f32; g.padded_image()];
            // The gradient on the padded width: zeros in the junk columns,
            // so the junk pixels' patches add nothing.
            let mut wide = vec![0.0f32; outputs * wide_pixels];
            for (i, (image, grad)) in images
                .chunks_exact(g.image())
                .zip(grads.chunks_exact(outputs * g.out_pixels()))
                .enumerate()
            {
                g.pad_into(image, &mut padded);
                for (wide, grad) in wide.chunks_exact_mut(wp).zip(grad.chunks_exact(ow)) {
                    wide[..ow].copy_from_slice(grad);
                }
                for ky in 0..k {
                    // dw[ky] += patch_rows(ky)^T wide, the transpose read in
                    // place (row stride 1, column stride c).
                    // SAFETY: as in forward, with the patch rows and wide
                    // (channel-major) read transposed.
                    unsafe {
                        multiply(
                            (k * c, outputs, wide_pixels),
                            row_major(dw.as_mut_ptr().add(ky * k * c * outputs), outputs),
                            i > 0,
                            column_major(padded.as_ptr().add(ky * wp * c), c),
                            column_major(wide.as_ptr(), wide_pixels),
                            parallelism,
                        );
                    }
                }
            }
            dw
        })
        .collect();
    let mut dw = vec![0.0f32; k * k * c * outputs];
    for partial in &partials {
        dw.iter_mut().zip(partial).for_each(|(a, b)| *a += b);
    }
    dw
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook definition, NCHW.
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
                                let v = x[((b * c + ci) * g.height + yy as usize) * g.width
                                    + xx as usize];
                                for o in 0..outputs {
                                    out[((b * outputs + o) * oh + y) * ow + x0] +=
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
    fn forward_matches_the_definition_for_any_kernel_and_padding() {
        for (kernel, padding) in (1..=5).flat_map(|k| (0..=3).map(move |p| (k, p))) {
            let g = Geometry {
                batch: 2,
                height: 6,
                width: 5,
                channels: 3,
                kernel,
                padding,
            };
            let x = values(2 * 6 * 5 * 3, 1);
            let w = values(kernel * kernel * 3 * 4, 2);
            let what = format!("kernel {kernel}, padding {padding}");
            assert_eq!(forward(&x, &g, &w, None, 4), naive(&x, &g, &w, 4), "{what}");
        }
    }

    #[test]
    fn weight_grad_is_the_adjoint_of_forward_in_the_weights() {
        // <grad, forward(x, w)> is linear in w, so its gradient in w[j] is
        // forward(x, e_j) dotted with grad.
        for (kernel, padding) in [(1, 0), (2, 0), (3, 1), (3, 0), (5, 3)] {
            let g = Geometry {
                batch: 2,
                height: 5,
                width: 4,
                channels: 2,
                kernel,
                padding,
            };
            let (outputs, patch) = (3, kernel * kernel * 2);
            let x = values(2 * 5 * 4 * 2, 3);
            let grad = values(g.batch * g.out_pixels() * outputs, 4);
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
            assert_eq!(dw, expected, "kernel {kernel}, padding {padding}");
        }
    }

    #[test]
    fn batches_add_up_image_by_image_with_bias_and_uneven_groups() {
        // 11 images fall into groups of 2 (the last one alone), and more
        // images than threads run one image per thread.
        let g = Geometry {
            batch: 11,
            height: 7,
            width: 6,
            channels: 4,
            kernel: 5,
            padding: 2,
        };
        let image = 7 * 6 * 4;
        let x = values(11 * image, 5);
        let w = values(25 * 4 * 3, 6);
        let bias = [5.0, -2.0, 1.0];
        let with_bias: Vec<f32> = naive(&x, &g, &w, 3)
            .iter()
            .enumerate()
            .map(|(i, v)| v + bias[i / g.out_pixels() % 3])
            .collect();
        assert_same(&forward(&x, &g, &w, Some(&bias), 3), &with_bias);
        let grad = values(11 * g.out_pixels() * 3, 7);
        let single = Geometry { batch: 1, ..g };
        let mut summed = vec![0.0f32; 25 * 4 * 3];
        for (x, grad) in x.chunks(image).zip(grad.chunks(g.out_pixels() * 3)) {
            let dw = weight_grad(x, &single, grad, 3);
            summed.iter_mut().zip(&dw).for_each(|(a, b)| *a += b);
        }
        assert_same(&weight_grad(&x, &g, &grad, 3), &summed);
    }

    #[test]
    fn results_do_not_depend_on_the_number_of_threads() {
        // On 1 and 3 threads every product runs on one thread; on 8, the 5
        // images are too few to go one per thread, so each product is split
        // across the threads instead. Non-integer data: any change in the
        // order of summation (say, per-thread partial weight gradients)
        // would show in the bits.
        let g = Geometry {
            batch: 5,
            height: 9,
            width: 8,
            channels: 6,
            kernel: 5,
            padding: 2,
        };
        let noisy = |n: usize, seed: u32| -> Vec<f32> {
            let ints = values(n, seed);
            ints.iter()
                .enumerate()
                .map(|(i, v)| v * 0.37 + (i % 11) as f32 * 0.013)
                .collect()
        };
        let (x, w) = (noisy(5 * 9 * 8 * 6, 8), noisy(25 * 6 * 7, 9));
        let grad = noisy(5 * g.out_pixels() * 7, 10);
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| (forward(&x, &g, &w, None, 7), weight_grad(&x, &g, &grad, 7)))
        };
        let (out_1, dw_1) = on(1);
        for threads in [3, 8] {
            let (out, dw) = on(threads);
            assert_same(&out, &out_1);
            assert_same(&dw, &dw_1);
        }
    }
}
