//! Seconds per pass of one 5x5 convolution layer of the NOT nets on every
//! backend this build has: the forward, the input gradient and the weight
//! gradient, each computed the way burn's autodiff computes it (burn 0.22:
//! a transposed convolution for the input, a convolution of the swapped
//! input with the swapped output gradient for the weight). This is where a
//! training step spends its time; `bench/torch_conv.py` times the same
//! passes in PyTorch.
//!
//!     cargo bench --profile dev --bench conv_passes

use std::time::Instant;

use burn::tensor::module::{conv_transpose2d, conv2d};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::{Device, Distribution, Tensor};

/// Median seconds of `reps` calls after one warm-up call.
fn median_seconds(reps: usize, mut pass: impl FnMut() -> f32) -> f64 {
    pass();
    let mut times: Vec<f64> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            pass();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[reps / 2]
}

fn devices() -> Vec<(&'static str, Device)> {
    let mut out = vec![("flex cpu", Device::flex())];
    if cfg!(feature = "tch")
        && let Ok(d) = nrun::ot::backend::device(nrun::device::DeviceChoice::Cpu, None)
    {
        out.push(("tch cpu", d));
    }
    out
}

fn main() {
    nrun::heap::keep_freed_memory();
    let same = ConvOptions::new([1, 1], [2, 2], [1, 1], 1);
    for (name, dev) in devices() {
        // The bench's small nets (32 images of 32 channels) and the seed's
        // CNN layer (64 x 4 images of 128 channels, here 64 images).
        for (n, c) in [(32usize, 32usize), (64, 128)] {
            let x = Tensor::<4>::random([n, c, 32, 32], Distribution::Normal(0.0, 1.0), &dev);
            let dy = Tensor::<4>::random([n, c, 32, 32], Distribution::Normal(0.0, 1.0), &dev);
            let w = Tensor::<4>::random([c, c, 5, 5], Distribution::Normal(0.0, 0.1), &dev);
            let forward = median_seconds(3, || {
                conv2d(x.clone(), w.clone(), None, same.clone())
                    .sum()
                    .into_scalar()
            });
            let input_grad = median_seconds(3, || {
                let options = ConvTransposeOptions::new([1, 1], [2, 2], [0, 0], [1, 1], 1);
                conv_transpose2d(dy.clone(), w.clone(), None, options)
                    .sum()
                    .into_scalar()
            });
            let weight_grad = median_seconds(3, || {
                let (xs, dys) = (x.clone().swap_dims(0, 1), dy.clone().swap_dims(0, 1));
                conv2d(xs, dys, None, same.clone()).sum().into_scalar()
            });
            println!(
                "{{\"impl\": \"nrun\", \"device\": \"{name}\", \"images\": {n}, \"channels\": {c}, \"forward\": {forward:.4}, \"input_grad\": {input_grad:.4}, \"weight_grad\": {weight_grad:.4}}}"
            );
        }
    }
}
