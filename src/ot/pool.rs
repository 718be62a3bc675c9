//! The critic CNN's 2x2 average pooling (stride 2) as a burn backend
//! extension, for its backward step on burn-flex: burn-flex runs every 2-D
//! pooling gradient through its general 3-D kernel (4.6% of a flex training
//! step), while the 2x2 case only spreads each output gradient, times 1/4,
//! over its four inputs. libtorch keeps its own kernels.

// burn 0.22 marks burn-tch deprecated; see same_conv.rs.
#![cfg_attr(feature = "tch", allow(deprecated))]

use burn::backend::TensorMetadata;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::flex::FlexTensor;
use burn::backend::ops::ModuleOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, backend_extension};
use burn::tensor::{DType, Tensor, TensorData};
use rayon::prelude::*;

use super::unary::{self, Keep};

/// The mean of each 2x2 block of `x` `[B, C, H, W]`: `[B, C, H/2, W/2]`
/// (a last odd row or column is dropped).
pub fn avg_pool_2x2(x: Tensor<4>) -> Tensor<4> {
    Tensor::from_dispatch(Dispatch::avg_pool_2x2(x.into_dispatch()))
}

/// Kernel 2, stride 2, no padding, floor mode.
const WINDOW: ([usize; 2], [usize; 2], [usize; 2], bool, bool) =
    ([2, 2], [2, 2], [0, 0], true, false);

#[backend_extension(Flex, Autodiff, LibTorch: cfg(feature = "tch"))]
pub trait AvgPool2x2: Backend {
    /// The forward pass: the backend's own pooling.
    fn avg_pool_2x2(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let (kernel, stride, padding, count_pad, ceil) = WINDOW;
        Self::avg_pool2d(x, kernel, stride, padding, count_pad, ceil)
    }
}

/// The pooling's input gradient on a backend without autodiff; by default
/// the backend's own.
pub trait AvgPool2x2Grad: Backend {
    fn avg_pool_2x2_grad(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        let (kernel, stride, padding, count_pad, ceil) = WINDOW;
        Self::avg_pool2d_backward(x, grad, kernel, stride, padding, count_pad, ceil)
    }
}

impl AvgPool2x2 for Flex {}

impl AvgPool2x2Grad for Flex {
    fn avg_pool_2x2_grad(x: FlexTensor, grad: FlexTensor) -> FlexTensor {
        if grad.dtype() != DType::F32 {
            let (kernel, stride, padding, count_pad, ceil) = WINDOW;
            return Flex::avg_pool2d_backward(x, grad, kernel, stride, padding, count_pad, ceil);
        }
        let shape = x.shape();
        let [b, c, h, w] = [shape[0], shape[1], shape[2], shape[3]];
        let (h_out, w_out) = (h / 2, w / 2);
        let grad = grad.to_contiguous();
        let grad: &[f32] = grad.storage();
        let mut dx = vec![0.0f32; b * c * h * w];
        dx.par_chunks_mut(h * w)
            .zip(grad.par_chunks(h_out * w_out))
            .for_each(|(plane, g)| {
                for (y, row) in plane.chunks_mut(w).take(2 * h_out).enumerate() {
                    let g_row = &g[(y / 2) * w_out..][..w_out];
                    for (pair, &v) in row.chunks_exact_mut(2).zip(g_row) {
                        pair.fill(0.25 * v);
                    }
                }
            });
        FlexTensor::from_data(TensorData::new(dx, [b, c, h, w]))
    }
}

#[cfg(feature = "tch")]
impl AvgPool2x2 for burn::backend::LibTorch {}
#[cfg(feature = "tch")]
impl AvgPool2x2Grad for burn::backend::LibTorch {}

impl<B: AvgPool2x2 + AvgPool2x2Grad, C: CheckpointStrategy> AvgPool2x2 for Autodiff<B, C> {
    fn avg_pool_2x2(x: FloatTensor<Self>) -> FloatTensor<Self> {
        // burn's backward kernels take the input (for its shape).
        unary::record::<B, C>(x, B::avg_pool_2x2, Keep::Input, B::avg_pool_2x2_grad)
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::module::avg_pool2d;
    use burn::tensor::ops::AvgPoolOptions;

    use super::*;
    use crate::rng::{self, Purpose};

    /// Values and input gradients equal burn's own pooling's, on every CPU
    /// backend this build has, for even and odd sizes.
    #[test]
    fn matches_burns_average_pooling() {
        for (_, device) in crate::ot::backend::devices(false) {
            let device = device.autodiff();
            for (h, w) in [(4, 6), (5, 7)] {
                let data = |index, shape: [usize; 4]| {
                    let mut rng = rng::stream(3, Purpose::Step, index);
                    let values = rng::normal(&mut rng, shape.iter().product(), 1.0);
                    Tensor::<4>::from_data(TensorData::new(values, shape), &device)
                };
                let x = data(1, [2, 3, h, w]).require_grad();
                let r = data(2, [2, 3, h / 2, w / 2]);
                let run = |pool: &dyn Fn(Tensor<4>) -> Tensor<4>| {
                    let out = pool(x.clone());
                    let grads = (out.clone() * r.clone()).sum().backward();
                    let dx = x.grad(&grads).unwrap();
                    [out, dx].map(|t| t.into_data().try_to_vec::<f32>().unwrap())
                };
                let ours = run(&avg_pool_2x2);
                let burns = run(&|x| avg_pool2d(x, AvgPoolOptions::new([2, 2])));
                assert_eq!(ours, burns, "{h}x{w}");
            }
        }
    }
}
