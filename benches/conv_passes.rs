//! Seconds per pass of one 5x5 convolution layer of the NOT nets on every
//! backend this build has, through the convolution the nets use
//! (`ot::same_conv`: nrun's gemm kernels on flex, libtorch's own
//! under tch) and burn's autodiff: the forward pass, the input gradient and
//! the weight gradient. The gradients are timed as a forward and backward
//! pass with only x (only the weights) tracked, less the forward pass. This
//! is where a training step spends its time; `bench/torch_conv.py` times
//! the same passes in PyTorch.
//!
//!     cargo bench --profile dev --bench conv_passes

use std::time::Instant;

use burn::tensor::{Distribution, Tensor};
use nrun::ot::same_conv::conv2d;

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

fn main() {
    nrun::heap::keep_freed_memory();
    for (name, dev) in nrun::ot::backend::devices(true) {
        let tracked = dev.clone().autodiff();
        // The bench's small nets (32 images of 32 channels) and the report's
        // CNN layer (64 x 4 images of 128 channels, here 64 images).
        for (n, c) in [(32usize, 32usize), (64, 128)] {
            let x = Tensor::<4>::random([n, c, 32, 32], Distribution::Normal(0.0, 1.0), &tracked);
            let w = Tensor::<4>::random([c, c, 5, 5], Distribution::Normal(0.0, 0.1), &tracked);
            let b = Tensor::<1>::zeros([c], &tracked);
            let forward = median_seconds(3, || {
                conv2d(x.clone(), w.clone(), Some(b.clone()), 2)
                    .sum()
                    .into_scalar()
            });
            let with_backward = |x: Tensor<4>, w: Tensor<4>| {
                median_seconds(3, || {
                    let grads = conv2d(x.clone(), w.clone(), Some(b.clone()), 2)
                        .sum()
                        .backward();
                    x.grad(&grads)
                        .or(w.grad(&grads))
                        .expect("one input tracked")
                        .sum()
                        .into_scalar()
                })
            };
            let input_grad = with_backward(x.clone().require_grad(), w.clone()) - forward;
            let weight_grad = with_backward(x.clone(), w.clone().require_grad()) - forward;
            println!(
                "{{\"impl\": \"nrun\", \"device\": \"{name}\", \"images\": {n}, \"channels\": {c}, \"forward\": {forward:.4}, \"input_grad\": {input_grad:.4}, \"weight_grad\": {weight_grad:.4}}}"
            );
        }
    }
}
