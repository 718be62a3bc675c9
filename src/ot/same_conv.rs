//! The nets' convolution (stride 1, zero padding, with or without a bias)
//! as a burn backend extension, so that burn-flex runs it through
//! [`conv_gemm`] forwards and backwards and libtorch differentiates it with
//! its own `convolution_backward` (oneDNN, cuDNN).
//!
//! burn dispatches on the device at run time: [`conv2d`] hands the tensors
//! to the `Dispatch` implementation that `#[backend_extension]` generates,
//! which calls the trait on the concrete backend. Training tensors sit on
//! `Autodiff<B>`, whose implementation below records a backward step: `B`'s
//! forward pass saves what it wants, and the backward step hands that back
//! to `B` for the tracked inputs' gradients ([`SameConvGrads`]).

// burn 0.22 marks burn-tch deprecated; it is the libtorch backend nrun is
// asked to support (see backend.rs), and the generated dispatch names it.
#![cfg_attr(feature = "tch", allow(deprecated))]

use burn::backend::TensorMetadata;
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
use super::unary::{self, Keep};

/// `x` `[B, C, H, W]` convolved with `weight` `[O, C, k, k]`, stride 1,
/// `padding` zeros on every side, plus `bias` `[O]` if any.
pub fn conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    padding: usize,
) -> Tensor<4> {
    let [_, _, kh, kw] = weight.dims();
    assert_eq!(kh, kw, "same_conv::conv2d takes square kernels");
    let (x, weight) = (x.into_dispatch(), weight.into_dispatch());
    Tensor::from_dispatch(match bias {
        Some(bias) => Dispatch::same_conv2d(x, weight, bias.into_dispatch(), padding),
        None => Dispatch::same_conv2d_unbiased(x, weight, padding),
    })
}

/// `weight` `[O, C, k, k]` laid out in memory as this device's
/// convolution reads weights fastest: channels-last on libtorch (see
/// [`libtorch`]), as it is elsewhere. The values, shape and gradient are
/// unchanged. A weight stored so is not copied at every forward pass, nor
/// its gradient at every optimiser step.
pub fn weight_layout(weight: Tensor<4>) -> Tensor<4> {
    Tensor::from_dispatch(Dispatch::same_conv2d_weight_layout(weight.into_dispatch()))
}

/// Stride 1, `padding` zeros on every side, no dilation, one group.
fn options(padding: usize) -> ConvOptions<2> {
    ConvOptions::new([1, 1], [padding, padding], [1, 1], 1)
}

// Two operations, with and without a bias, because extension operations
// take tensors but not optional ones.
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

    /// The forward pass without a bias.
    fn same_conv2d_unbiased(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        padding: usize,
    ) -> FloatTensor<Self> {
        Self::conv2d(x, weight, None, options(padding))
    }

    /// The weight's layout (see [`weight_layout`]); by default as it is.
    fn same_conv2d_weight_layout(weight: FloatTensor<Self>) -> FloatTensor<Self> {
        weight
    }
}

/// The forward pass on `B`, with a bias or without.
fn forward<B: SameConv>(
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    bias: Option<FloatTensor<B>>,
    padding: usize,
) -> FloatTensor<B> {
    match bias {
        Some(bias) => B::same_conv2d(x, weight, bias, padding),
        None => B::same_conv2d_unbiased(x, weight, padding),
    }
}

/// Which of the convolution's inputs autodiff tracks.
#[derive(Clone, Copy, Debug)]
pub struct Tracked {
    pub x: bool,
    pub weight: bool,
    pub bias: bool,
}

/// The gradients of the tracked inputs.
pub struct Grads<B: Backend> {
    pub x: Option<FloatTensor<B>>,
    pub weight: Option<FloatTensor<B>>,
    pub bias: Option<FloatTensor<B>>,
}

/// How a backend without autodiff differentiates [`SameConv::same_conv2d`]:
/// the forward pass keeps [`Self::Saved`], the backward step turns it and
/// the output's gradient into the tracked inputs' gradients.
pub trait SameConvGrads: SameConv {
    type Saved: Clone + Send + core::fmt::Debug + 'static;

    fn same_conv2d_saving(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: Option<FloatTensor<Self>>,
        padding: usize,
        tracked: Tracked,
    ) -> (FloatTensor<Self>, Self::Saved);

    fn same_conv2d_grads(
        saved: Self::Saved,
        grad: FloatTensor<Self>,
        tracked: Tracked,
    ) -> Grads<Self>;
}

impl SameConv for Flex {
    fn same_conv2d(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        padding: usize,
    ) -> FlexTensor {
        flex_forward(x, weight, Some(bias), padding)
    }

    fn same_conv2d_unbiased(x: FlexTensor, weight: FlexTensor, padding: usize) -> FlexTensor {
        flex_forward(x, weight, None, padding)
    }
}

/// The forward pass through conv_gemm (burn's own for other dtypes).
fn flex_forward(
    x: FlexTensor,
    weight: FlexTensor,
    bias: Option<FlexTensor>,
    padding: usize,
) -> FlexTensor {
    if x.dtype() != DType::F32 {
        return Flex::conv2d(x, weight, bias, options(padding));
    }
    let [o, _, k, _] = dims(&weight);
    let geometry = geometry(&x, k, padding);
    let x = x.to_contiguous();
    // [O, C, ky, kx] -> rows (ky, kx, c), columns o.
    let weights = Flex::float_permute(weight, &[2, 3, 1, 0]).to_contiguous();
    let bias = bias.map(|b| b.to_contiguous());
    let out = conv_gemm::forward(
        x.storage(),
        &geometry,
        weights.storage(),
        bias.as_ref().map(|b| b.storage()),
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

/// What burn-flex's backward step needs.
#[derive(Clone, Debug)]
pub struct FlexSaved {
    x: FlexTensor,
    weight: FlexTensor,
    padding: usize,
}

impl SameConvGrads for Flex {
    type Saved = FlexSaved;

    fn same_conv2d_saving(
        x: FlexTensor,
        weight: FlexTensor,
        bias: Option<FlexTensor>,
        padding: usize,
        _tracked: Tracked,
    ) -> (FlexTensor, FlexSaved) {
        let saved = FlexSaved {
            x: x.clone(),
            weight: weight.clone(),
            padding,
        };
        (flex_forward(x, weight, bias, padding), saved)
    }

    fn same_conv2d_grads(saved: FlexSaved, grad: FlexTensor, tracked: Tracked) -> Grads<Flex> {
        let FlexSaved { x, weight, padding } = saved;
        let bias = tracked.bias.then(|| {
            let channels = grad.shape()[1];
            Flex::float_reshape(
                Flex::float_sum_dims(grad.clone(), &[0, 2, 3]),
                Shape::new([channels]),
            )
        });
        let weight_grad = tracked
            .weight
            .then(|| flex_weight_grad(x.clone(), weight.clone(), grad.clone(), padding));
        let x_grad = tracked.x.then(|| flex_x_grad(x, weight, grad, padding));
        Grads {
            x: x_grad,
            weight: weight_grad,
            bias,
        }
    }
}

/// The input gradient through conv_gemm (burn's own for other dtypes or
/// paddings at least the kernel's size).
fn flex_x_grad(x: FlexTensor, weight: FlexTensor, grad: FlexTensor, padding: usize) -> FlexTensor {
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

/// The weight gradient through conv_gemm (burn's own for other dtypes).
fn flex_weight_grad(
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

impl<B: SameConvGrads, C: CheckpointStrategy> SameConv for Autodiff<B, C> {
    fn same_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        padding: usize,
    ) -> FloatTensor<Self> {
        tracked_forward::<B, C>(x, weight, Some(bias), padding)
    }

    fn same_conv2d_unbiased(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        padding: usize,
    ) -> FloatTensor<Self> {
        tracked_forward::<B, C>(x, weight, None, padding)
    }

    fn same_conv2d_weight_layout(weight: FloatTensor<Self>) -> FloatTensor<Self> {
        // Only where the values lie moves: the gradient passes unchanged.
        unary::record::<B, C>(
            weight,
            B::same_conv2d_weight_layout,
            Keep::Output,
            |_, grad| grad,
        )
    }
}

/// The forward pass under autodiff, which records the backward step when
/// it tracks an input.
fn tracked_forward<B: SameConvGrads, C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<B, C>>,
    weight: FloatTensor<Autodiff<B, C>>,
    bias: Option<FloatTensor<Autodiff<B, C>>>,
    padding: usize,
) -> FloatTensor<Autodiff<B, C>> {
    let tracked = Tracked {
        x: x.is_tracked(),
        weight: weight.is_tracked(),
        bias: bias.as_ref().is_some_and(|b| b.is_tracked()),
    };
    let inputs = Inputs {
        x: x.primitive().clone(),
        weight: weight.primitive().clone(),
        bias: bias.as_ref().map(|b| b.primitive().clone()),
        padding,
    };
    // The graph's parents: x, the weights and the bias if there is one.
    match bias {
        Some(bias) => inputs.record::<C, 3>(
            SameConvBackward
                .prepare::<C>([x.node(), weight.node(), bias.node()])
                .compute_bound()
                .stateful(),
            tracked,
        ),
        None => inputs.record::<C, 2>(
            SameConvBackward
                .prepare::<C>([x.node(), weight.node()])
                .compute_bound()
                .stateful(),
            tracked,
        ),
    }
}

/// The inner backend's operands of one convolution.
struct Inputs<B: Backend> {
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    bias: Option<FloatTensor<B>>,
    padding: usize,
}

impl<B: SameConvGrads> Inputs<B> {
    /// Runs the forward pass, keeping what the backward step needs when
    /// autodiff tracks an input.
    fn record<C: CheckpointStrategy, const N: usize>(
        self,
        kind: OpsKind<SameConvBackward, B, (B::Saved, Tracked), C, N>,
        tracked: Tracked,
    ) -> FloatTensor<Autodiff<B, C>> {
        let Inputs {
            x,
            weight,
            bias,
            padding,
        } = self;
        match kind {
            OpsKind::Tracked(prep) => {
                let (output, saved) = B::same_conv2d_saving(x, weight, bias, padding, tracked);
                prep.finish((saved, tracked), output)
            }
            OpsKind::UnTracked(prep) => prep.finish(forward::<B>(x, weight, bias, padding)),
        }
    }
}

#[derive(Debug)]
struct SameConvBackward;

/// `N` is 3 with a bias, 2 without.
impl<B: SameConvGrads, const N: usize> Backward<B, N> for SameConvBackward {
    type State = (B::Saved, Tracked);

    fn backward(
        self,
        ops: Ops<Self::State, N>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let grad = grads.consume::<B>(&ops.node);
        let (saved, tracked) = ops.state;
        let computed = B::same_conv2d_grads(saved, grad, tracked);
        let parents = ops.parents.into_iter();
        for (node, grad) in parents.zip([computed.x, computed.weight, computed.bias]) {
            if let (Some(node), Some(grad)) = (node, grad) {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

/// libtorch differentiates its own convolution: the backward step is one
/// call of libtorch's `convolution_backward` (oneDNN, cuDNN) for the tracked
/// inputs' gradients, through nrun's shim, without libtorch's autograd
/// engine (a graph per convolution, a thread hand-off per backward pass).
/// burn's generic backward would compute the weight gradient as a
/// convolution of the transposed input with the transposed output
/// gradient, up to 2x slower on the CPU.
#[cfg(feature = "tch")]
mod libtorch {
    use burn::backend::LibTorch;
    use burn::backend::libtorch::TchTensor;

    use super::{Grads, SameConv, SameConvGrads, Tracked};
    use crate::ot::torch_shim::{self, Wanted};

    /// What the backward step reads: the forward pass's x and weight,
    /// channels-last.
    #[derive(Clone, Debug)]
    pub struct Saved {
        x: TchTensor,
        weight: TchTensor,
        has_bias: bool,
        padding: usize,
        /// burn's own x and weight, held so that burn-tch, which writes in
        /// place into tensors it holds the only reference to, leaves their
        /// memory alone (the channels-last copies may share it).
        _inputs: [TchTensor; 2],
    }

    /// The convolution on channels-last copies of x and the weight: the
    /// output, and the copies.
    fn forward(
        x: &TchTensor,
        weight: &TchTensor,
        bias: Option<&TchTensor>,
        padding: usize,
    ) -> (tch::Tensor, tch::Tensor, tch::Tensor) {
        let (x, weight) = (
            torch_shim::channels_last(&x.tensor),
            torch_shim::channels_last(&weight.tensor),
        );
        let p = padding as i64;
        let output = x.conv2d(&weight, bias.map(|b| &b.tensor), [1, 1], [p, p], [1, 1], 1);
        (output, x, weight)
    }

    impl SameConv for LibTorch {
        fn same_conv2d(
            x: TchTensor,
            weight: TchTensor,
            bias: TchTensor,
            padding: usize,
        ) -> TchTensor {
            TchTensor::new(forward(&x, &weight, Some(&bias), padding).0)
        }

        fn same_conv2d_unbiased(x: TchTensor, weight: TchTensor, padding: usize) -> TchTensor {
            TchTensor::new(forward(&x, &weight, None, padding).0)
        }

        fn same_conv2d_weight_layout(weight: TchTensor) -> TchTensor {
            // Shares the weight's memory when it is laid out so already.
            TchTensor::from_existing(torch_shim::channels_last(&weight.tensor), weight.storage)
        }
    }

    impl SameConvGrads for LibTorch {
        type Saved = Saved;

        fn same_conv2d_saving(
            x: TchTensor,
            weight: TchTensor,
            bias: Option<TchTensor>,
            padding: usize,
            _tracked: Tracked,
        ) -> (TchTensor, Saved) {
            let (output, x_last, weight_last) = forward(&x, &weight, bias.as_ref(), padding);
            let saved = Saved {
                x: TchTensor::new(x_last),
                weight: TchTensor::new(weight_last),
                has_bias: bias.is_some(),
                padding,
                _inputs: [x, weight],
            };
            (TchTensor::new(output), saved)
        }

        fn same_conv2d_grads(saved: Saved, grad: TchTensor, tracked: Tracked) -> Grads<Self> {
            let [x, weight, bias] = torch_shim::convolution_backward(
                &grad.tensor,
                &saved.x.tensor,
                &saved.weight.tensor,
                saved.padding,
                saved.has_bias,
                Wanted {
                    input: tracked.x,
                    weight: tracked.weight,
                    bias: tracked.bias,
                },
            );
            Grads {
                x: x.map(TchTensor::new),
                weight: weight.map(TchTensor::new),
                bias: bias.map(TchTensor::new),
            }
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
    use crate::ot::test_tensors::{random, values};

    fn assert_close(ours: Vec<f32>, burns: Vec<f32>, what: &str) {
        assert_within(1e-5, ours, burns, what);
    }

    fn assert_within(tolerance: f32, ours: Vec<f32>, burns: Vec<f32>, what: &str) {
        let scale = burns.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let worst = ours
            .iter()
            .zip(&burns)
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        assert_eq!(ours.len(), burns.len(), "{what}");
        assert!(
            worst <= tolerance * scale,
            "{what}: differs by {worst} (values up to {scale})"
        );
    }

    /// The CPU backends this build has: flex, and libtorch with `tch`.
    fn devices() -> impl Iterator<Item = Device> {
        crate::ot::backend::devices(false)
            .into_iter()
            .map(|(_, d)| d)
    }

    /// Forward values and the gradients of x, weight and bias agree with
    /// burn's own convolution on the same backend, for the kernel sizes and
    /// paddings the nets use and for a "valid" convolution.
    #[test]
    fn matches_burns_convolution_forward_and_backward() {
        for plain in devices() {
            let device = plain.autodiff();
            // (3, 3): padding beyond the kernel, where flex's input gradient is burn's.
            for (kernel, padding) in [(5, 2), (3, 1), (3, 0), (3, 3)] {
                let x = random([2, 3, 7, 6], 1, &device).require_grad();
                let w = random([4, 3, kernel, kernel], 2, &device).require_grad();
                let b = random([4], 3, &device).require_grad();
                let ours = conv2d(x.clone(), w.clone(), Some(b.clone()), padding);
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
    }

    /// Frozen weights (a model's `valid()` copy) act as constants: x still
    /// gets its gradient, as in the transport map's update through f.
    #[test]
    fn frozen_weights_pass_the_input_gradient() {
        for plain in devices() {
            let device = plain.clone().autodiff();
            let x = random([2, 2, 5, 5], 5, &device).require_grad();
            let (w, b) = (random([3, 2, 3, 3], 6, &plain), random([3], 7, &plain));
            let ours = conv2d(x.clone(), w.clone(), Some(b.clone()), 1)
                .sum()
                .backward();
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

    /// A chain like the nets' (convolution, ReLU, convolution), with the
    /// inputs and outputs reused afterwards by operations that backends may
    /// run in place (burn-tch does on tensors nothing else holds): the
    /// gradients still equal burn's own convolution's.
    #[test]
    fn gradients_survive_in_place_operations_downstream() {
        let chain = |conv: &dyn Fn(Tensor<4>, Tensor<4>, Tensor<1>) -> Tensor<4>,
                     device: &Device| {
            let x = random([2, 3, 6, 6], 8, device).require_grad();
            let w1 = random([4, 3, 3, 3], 9, device).require_grad();
            let w2 = random([2, 4, 3, 3], 10, device).require_grad();
            let (b1, b2) = (random([4], 11, device), random([2], 12, device));
            let input = x.clone() * 2.0;
            let hidden = crate::ot::relu::relu(conv(input.clone(), w1.clone(), b1));
            let out = conv(hidden.clone(), w2.clone(), b2);
            let loss = (out * random([2, 2, 6, 6], 13, device)).sum()
                + (input * 3.0).sum()
                + (hidden + 1.0).powf_scalar(2.0).sum();
            let grads = loss.backward();
            [x.grad(&grads), w1.grad(&grads), w2.grad(&grads)].map(|g| values(g.unwrap()))
        };
        for plain in devices() {
            let device = plain.autodiff();
            let ours = chain(&|x, w, b| conv2d(x, w, Some(b), 1), &device);
            let burns = chain(
                &|x, w, b| burn::tensor::module::conv2d(x, w, Some(b), options(1)),
                &device,
            );
            for ((a, b), name) in ours.into_iter().zip(burns).zip(["x", "w1", "w2"]) {
                assert_close(a, b, name);
            }
        }
    }

    /// Without a bias, and in bfloat16 (the mixed-precision path, where the
    /// layers add their bias afterwards), values and gradients still agree
    /// with burn's convolution, to bf16's precision.
    #[test]
    fn matches_burns_convolution_without_bias_and_in_bf16() {
        for plain in devices() {
            let device = plain.autodiff();
            for (dtype, tolerance) in [(DType::F32, 1e-5), (DType::BF16, 2e-2)] {
                let x = random([2, 3, 6, 6], 14, &device).require_grad();
                let w = random([4, 3, 3, 3], 15, &device).require_grad();
                let r = random([2, 4, 6, 6], 16, &device);
                let run = |conv: &dyn Fn(Tensor<4>, Tensor<4>) -> Tensor<4>| {
                    let out = conv(x.clone().cast(dtype), w.clone().cast(dtype)).cast(DType::F32);
                    let grads = (out.clone() * r.clone()).sum().backward();
                    [out, x.grad(&grads).unwrap(), w.grad(&grads).unwrap()].map(values)
                };
                let ours = run(&|x, w| conv2d(x, w, None, 1));
                let burns = run(&|x, w| burn::tensor::module::conv2d(x, w, None, options(1)));
                for ((a, b), name) in ours.into_iter().zip(burns).zip(["out", "x", "w"]) {
                    assert_within(tolerance, a, b, &format!("{name} in {dtype:?}"));
                }
            }
        }
    }

    /// On libtorch the convolution runs channels-last (cuDNN's and oneDNN's
    /// fast layout), and its output stays so for the next layer, with or
    /// without autodiff.
    #[cfg(feature = "tch")]
    #[test]
    #[allow(deprecated)]
    fn libtorch_convolves_channels_last() {
        use burn::backend::LibTorch;
        let plain = crate::ot::backend::device(crate::device::DeviceChoice::Cpu, None).unwrap();
        for device in [plain.clone(), plain.autodiff()] {
            let x = random([2, 3, 6, 6], 1, &device);
            let (w, b) = (random([4, 3, 3, 3], 2, &device), random([4], 3, &device));
            let out = conv2d(x, w, Some(b), 1).inner();
            let out = out.try_into_primitive::<LibTorch>().unwrap().tensor;
            // NHWC in memory: channels adjacent, then width, height, batch.
            assert_eq!(out.stride(), [144, 1, 24, 4], "{device:?}");
        }
    }

    /// On libtorch `weight_layout` lays a weight out channels-last, sharing
    /// its memory when it already is; anywhere, the values and the
    /// gradient through it are the weight's own.
    #[test]
    #[allow(deprecated)]
    fn a_weight_laid_out_keeps_its_values_and_gradient() {
        for (name, device) in crate::ot::backend::devices(false) {
            let device = device.autodiff();
            let weight = random([4, 3, 3, 3], 2, &device).require_grad();
            let laid_out = weight_layout(weight.clone());
            assert_eq!(values(laid_out.clone()), values(weight.clone()), "{name}");
            let scale = random([4, 3, 3, 3], 3, &device);
            let grads = (laid_out * scale.clone()).sum().backward();
            assert_eq!(
                values(weight.grad(&grads).unwrap()),
                values(scale),
                "{name}"
            );
            #[cfg(feature = "tch")]
            if name == "tch cpu" {
                use burn::backend::LibTorch;
                use burn::backend::libtorch::TchTensor;
                let once = weight_layout(weight.clone().detach()).inner();
                let once = once.try_into_primitive::<LibTorch>().unwrap().tensor;
                assert_eq!(once.stride(), [27, 1, 9, 3]);
                let again =
                    LibTorch::same_conv2d_weight_layout(TchTensor::new(once.shallow_clone()));
                assert_eq!(again.tensor.data_ptr(), once.data_ptr(), "no second copy");
            }
        }
    }
}
