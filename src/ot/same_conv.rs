//! The nets' convolution (stride 1, zero padding, bias) as a burn backend
//! extension, so that burn-flex runs it through [`conv_gemm`] forwards and
//! backwards; libtorch keeps its own kernels (oneDNN, cuDNN).
//!
//! burn dispatches on the device at run time: [`conv2d`] hands the tensors
//! to the `Dispatch` implementation that `#[backend_extension]` generates,
//! which calls the trait on the concrete backend. Training tensors sit on
//! `Autodiff<B>`, whose implementation below records a backward step that
//! asks `B` for the two gradients ([`SameConvGrads`]).

// burn 0.22 marks burn-tch deprecated; it is the libtorch backend nrun is
// asked to support (see backend.rs), and the generated dispatch names it.
#![cfg_attr(feature = "tch", allow(deprecated))]

use burn::backend::TensorMetadata;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::{FloatTensorOps, ModuleOps};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, backend_extension};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{DType, Shape, Tensor, TensorData};

use super::conv_gemm::{self, Geometry};

/// `x` `[B, C, H, W]` convolved with `weight` `[O, C, k, k]`, stride 1,
/// `padding` zeros on every side, plus `bias` `[O]`.
pub fn conv2d(x: Tensor<4>, weight: Tensor<4>, bias: Tensor<1>, padding: usize) -> Tensor<4> {
    let [_, _, kh, kw] = weight.dims();
    assert_eq!(kh, kw, "same_conv::conv2d takes square kernels");
    Tensor::from_dispatch(Dispatch::same_conv2d(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        padding,
    ))
}

/// Stride 1, `padding` zeros on every side, no dilation, one group.
pub(super) fn options(padding: usize) -> ConvOptions<2> {
    ConvOptions::new([1, 1], [padding, padding], [1, 1], 1)
}

#[backend_extension(Flex, Autodiff, LibTorch: cfg(feature = "tch"))]
pub trait SameConv: Backend {
    /// The forward pass; by default the backend's own convolution.
    fn same_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        padding: usize,
    ) -> FloatTensor<Self> {
        Self::conv2d(x, weight, Some(bias), options(padding))
    }
}

/// The gradients of [`SameConv::same_conv2d`] on a backend without autodiff;
/// by default the backend's own.
pub trait SameConvGrads: Backend {
    fn same_conv2d_x_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        padding: usize,
    ) -> FloatTensor<Self> {
        Self::conv2d_x_backward(x, weight, grad, options(padding))
    }

    fn same_conv2d_weight_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        padding: usize,
    ) -> FloatTensor<Self> {
        Self::conv2d_weight_backward(x, weight, grad, options(padding))
    }
}

#[cfg(feature = "tch")]
impl SameConv for burn::backend::LibTorch {}
#[cfg(feature = "tch")]
impl SameConvGrads for burn::backend::LibTorch {}

impl SameConv for Flex {
    fn same_conv2d(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        padding: usize,
    ) -> FlexTensor {
        if x.dtype() != DType::F32 {
            return Flex::conv2d(x, weight, Some(bias), options(padding));
        }
        let [o, _, k, _] = dims(&weight);
        let geometry = geometry(&x, k, padding);
        let x = x.to_contiguous();
        // [O, C, ky, kx] -> rows (ky, kx, c), columns o.
        let weights = Flex::float_permute(weight, &[2, 3, 1, 0]).to_contiguous();
        let bias = bias.to_contiguous();
        let out = conv_gemm::forward(
            x.storage(),
            &geometry,
            weights.storage(),
            Some(bias.storage()),
            o,
        );
        let shape = [
            geometry.batch,
            o,
            geometry.out_height(),
            geometry.out_width(),
        ];
        FlexTensor::from_data(TensorData::new(out, shape))
    }
}

impl SameConvGrads for Flex {
    fn same_conv2d_x_grad(
        x: FlexTensor,
        weight: FlexTensor,
        grad: FlexTensor,
        padding: usize,
    ) -> FlexTensor {
        let [o, c, k, _] = dims(&weight);
        if grad.dtype() != DType::F32 || padding >= k {
            return Flex::conv2d_x_backward(x, weight, grad, options(padding));
        }
        // The input gradient of a stride-1 convolution is the convolution of
        // the output gradient with the flipped, transposed kernel, padded by
        // k - 1 - padding (which restores the input's size).
        let geometry = geometry(&grad, k, k - 1 - padding);
        let grad = grad.to_contiguous();
        // w'[c, o, ky, kx] = w[o, c, k-1-ky, k-1-kx]; rows (ky, kx, o), columns c.
        let weights =
            Flex::float_permute(Flex::float_flip(weight, &[2, 3]), &[2, 3, 0, 1]).to_contiguous();
        let dx = conv_gemm::forward(grad.storage(), &geometry, weights.storage(), None, c);
        let [b, _, h, w] = dims(&x);
        debug_assert_eq!(
            (geometry.out_height(), geometry.out_width(), o),
            (h, w, geometry.channels)
        );
        FlexTensor::from_data(TensorData::new(dx, [b, c, h, w]))
    }

    fn same_conv2d_weight_grad(
        x: FlexTensor,
        weight: FlexTensor,
        grad: FlexTensor,
        padding: usize,
    ) -> FlexTensor {
        if grad.dtype() != DType::F32 {
            return Flex::conv2d_weight_backward(x, weight, grad, options(padding));
        }
        let [o, c, k, _] = dims(&weight);
        let geometry = geometry(&x, k, padding);
        let (x, grad) = (x.to_contiguous(), grad.to_contiguous());
        let dw = conv_gemm::weight_grad(x.storage(), &geometry, grad.storage(), o);
        // Rows (ky, kx, c), columns o -> [O, C, ky, kx].
        let dw = FlexTensor::from_data(TensorData::new(dw, [k, k, c, o]));
        Flex::float_permute(dw, &[3, 2, 0, 1]).to_contiguous()
    }
}

impl<B: SameConv + SameConvGrads, C: CheckpointStrategy> SameConv for Autodiff<B, C> {
    fn same_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        padding: usize,
    ) -> FloatTensor<Self> {
        let output = || {
            B::same_conv2d(
                x.primitive().clone(),
                weight.primitive().clone(),
                bias.primitive().clone(),
                padding,
            )
        };
        match SameConvBackward
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let state = (prep.checkpoint(&x), prep.checkpoint(&weight), padding);
                prep.finish(state, output())
            }
            OpsKind::UnTracked(prep) => prep.finish(output()),
        }
    }
}

#[derive(Debug)]
struct SameConvBackward;

impl<B: SameConvGrads> Backward<B, 3> for SameConvBackward {
    /// The input, the weights and the padding.
    type State = (NodeId, NodeId, usize);

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x, weight, padding) = ops.state;
        let x = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(x);
        let weight = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(weight);
        if let Some(node) = node_bias {
            let channels = grad.shape()[1];
            let db = B::float_reshape(
                B::float_sum_dims(grad.clone(), &[0, 2, 3]),
                Shape::new([channels]),
            );
            grads.register::<B>(node.id, db);
        }
        if let Some(node) = node_weight {
            let dw = B::same_conv2d_weight_grad(x.clone(), weight.clone(), grad.clone(), padding);
            grads.register::<B>(node.id, dw);
        }
        if let Some(node) = node_x {
            grads.register::<B>(node.id, B::same_conv2d_x_grad(x, weight, grad, padding));
        }
    }
}

fn dims(t: &FlexTensor) -> [usize; 4] {
    let shape = t.layout().shape();
    [shape[0], shape[1], shape[2], shape[3]]
}

/// The geometry of convolving NCHW `x` with a `kernel`-sized kernel.
fn geometry(x: &FlexTensor, kernel: usize, padding: usize) -> Geometry {
    let [batch, channels, height, width] = dims(x);
    Geometry {
        batch,
        height,
        width,
        channels,
        kernel,
        padding,
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::Device;

    use super::*;
    use crate::ot::rng::{self, Purpose};

    fn random<const D: usize>(shape: [usize; D], index: u64, device: &Device) -> Tensor<D> {
        let mut rng = rng::stream(7, Purpose::Step, index);
        let values = rng::normal(&mut rng, shape.iter().product(), 1.0);
        Tensor::from_data(TensorData::new(values, shape), device)
    }

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().convert::<f32>().try_into_vec().unwrap()
    }

    fn assert_close(ours: Vec<f32>, burns: Vec<f32>, what: &str) {
        let scale = burns.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let worst = ours
            .iter()
            .zip(&burns)
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        assert_eq!(ours.len(), burns.len(), "{what}");
        assert!(
            worst <= 1e-5 * scale,
            "{what}: differs by {worst} (values up to {scale})"
        );
    }

    /// Forward values and the gradients of x, weight and bias agree with
    /// burn's own convolution on the same backend, for the kernel sizes and
    /// paddings the nets use and for a "valid" convolution.
    #[test]
    fn matches_burns_convolution_forward_and_backward() {
        let device = Device::flex().autodiff();
        // (3, 3): padding beyond the kernel, where the input gradient is burn's.
        for (kernel, padding) in [(5, 2), (3, 1), (3, 0), (3, 3)] {
            let x = random([2, 3, 7, 6], 1, &device).require_grad();
            let w = random([4, 3, kernel, kernel], 2, &device).require_grad();
            let b = random([4], 3, &device).require_grad();
            let ours = conv2d(x.clone(), w.clone(), b.clone(), padding);
            let burns = burn::tensor::module::conv2d(
                x.clone(),
                w.clone(),
                Some(b.clone()),
                options(padding),
            );
            // A loss that weighs every output differently.
            let r = random(ours.dims(), 4, &device);
            let g_ours = (ours.clone() * r.clone()).sum().backward();
            let g_burns = (burns.clone() * r).sum().backward();
            assert_close(values(ours), values(burns), "forward");
            for (name, a, b) in [
                ("x", x.grad(&g_ours), x.grad(&g_burns)),
                ("weight", w.grad(&g_ours), w.grad(&g_burns)),
            ] {
                assert_close(values(a.unwrap()), values(b.unwrap()), name);
            }
            assert_close(
                values(b.grad(&g_ours).unwrap()),
                values(b.grad(&g_burns).unwrap()),
                "bias",
            );
        }
    }

    /// Frozen weights (a model's `valid()` copy) act as constants: x still
    /// gets its gradient, as in the transport map's update through f.
    #[test]
    fn frozen_weights_pass_the_input_gradient() {
        let device = Device::flex().autodiff();
        let plain = Device::flex();
        let x = random([2, 2, 5, 5], 5, &device).require_grad();
        let (w, b) = (random([3, 2, 3, 3], 6, &plain), random([3], 7, &plain));
        let ours = conv2d(x.clone(), w.clone(), b.clone(), 1).sum().backward();
        let burns = burn::tensor::module::conv2d(x.clone(), w, Some(b), options(1))
            .sum()
            .backward();
        assert_close(
            values(x.grad(&ours).unwrap()),
            values(x.grad(&burns).unwrap()),
            "x",
        );
    }
}
