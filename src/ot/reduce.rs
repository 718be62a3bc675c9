//! The losses' sums and means, as a burn backend extension for their
//! backward step: the output's gradient broadcast back over the reduced
//! elements (a view), scaled once for a mean. burn's own backward step
//! builds a tensor of ones, multiplies it by the gradient, scales it, and
//! for one dimension first sums the gradient over that dimension (already
//! of size 1): three or four kernel launches on a GPU where PyTorch's
//! takes none or one, and a training update takes eight of these.

// burn 0.22 marks burn-tch deprecated; see same_conv.rs.
#![cfg_attr(feature = "tch", allow(deprecated))]

use burn::backend::TensorMetadata;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, backend_extension};
use burn::tensor::{Shape, Tensor};

/// The sum over `dim`, kept as a dimension of size 1.
pub fn sum_dim<const D: usize>(x: Tensor<D>, dim: usize) -> Tensor<D> {
    Tensor::from_dispatch(Dispatch::reduce_sum_dim(x.into_dispatch(), dim))
}

/// The mean over `dim`, kept as a dimension of size 1.
pub fn mean_dim<const D: usize>(x: Tensor<D>, dim: usize) -> Tensor<D> {
    Tensor::from_dispatch(Dispatch::reduce_mean_dim(x.into_dispatch(), dim))
}

/// The mean of every element, as a tensor of one element.
pub fn mean<const D: usize>(x: Tensor<D>) -> Tensor<1> {
    Tensor::from_dispatch(Dispatch::reduce_mean(x.into_dispatch()))
}

#[backend_extension(Flex, Autodiff, LibTorch: cfg(feature = "tch"))]
pub trait Reduce: Backend {
    fn reduce_sum_dim(x: FloatTensor<Self>, dim: usize) -> FloatTensor<Self> {
        Self::float_sum_dim(x, dim)
    }

    fn reduce_mean_dim(x: FloatTensor<Self>, dim: usize) -> FloatTensor<Self> {
        Self::float_mean_dim(x, dim)
    }

    fn reduce_mean(x: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::float_mean(x)
    }
}

impl Reduce for Flex {}

#[cfg(feature = "tch")]
impl Reduce for burn::backend::LibTorch {}

impl<B: Backend, C: CheckpointStrategy> Reduce for Autodiff<B, C> {
    fn reduce_sum_dim(x: FloatTensor<Self>, dim: usize) -> FloatTensor<Self> {
        record::<B, C>(x, 1.0, |x| B::float_sum_dim(x, dim))
    }

    fn reduce_mean_dim(x: FloatTensor<Self>, dim: usize) -> FloatTensor<Self> {
        let count = x.primitive().shape()[dim];
        record::<B, C>(x, 1.0 / count as f64, |x| B::float_mean_dim(x, dim))
    }

    fn reduce_mean(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let count = x.primitive().shape().num_elements();
        record::<B, C>(x, 1.0 / count as f64, B::float_mean)
    }
}

/// `reduce(x)` on the inner backend, differentiated as each input element
/// receiving `scale` times the gradient of the output element it went into.
fn record<B: Backend, C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<B, C>>,
    scale: f64,
    reduce: impl FnOnce(FloatTensor<B>) -> FloatTensor<B>,
) -> FloatTensor<Autodiff<B, C>> {
    let input = x.primitive().clone();
    match Broadcast
        .prepare::<C>([x.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let shape = input.shape();
            prep.finish((shape, scale), reduce(input))
        }
        OpsKind::UnTracked(prep) => prep.finish(reduce(input)),
    }
}

#[derive(Debug)]
struct Broadcast;

impl<B: Backend> Backward<B, 1> for Broadcast {
    /// The input's shape, and the factor of its elements' gradients.
    type State = (Shape, f64);

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let grad = grads.consume::<B>(&ops.node);
        let [Some(node)] = ops.parents else {
            return;
        };
        let (shape, scale) = ops.state;
        // A full mean's gradient has one element: as many dimensions as
        // the input first, to broadcast from.
        let grad = if grad.shape().num_dims() == shape.num_dims() {
            grad
        } else {
            B::float_reshape(grad, Shape::from(vec![1; shape.num_dims()]))
        };
        let spread = B::float_expand(grad, shape);
        let grad = if scale == 1.0 {
            spread
        } else {
            B::float_mul_scalar(spread, scale.into())
        };
        grads.register::<B>(node.id, grad);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ot::test_tensors::{random, values};

    /// A loss of a `[2, 3, 4]` tensor reduced over one dimension.
    type Loss = fn(Tensor<3>, usize) -> Tensor<1>;

    fn assert_close(ours: Vec<f32>, burns: Vec<f32>, what: &str) {
        assert_eq!(ours.len(), burns.len(), "{what}");
        for (i, (a, b)) in ours.iter().zip(&burns).enumerate() {
            assert!(
                (a - b).abs() <= 1e-6 * (1.0 + b.abs()),
                "{what}[{i}]: {a} vs {b}"
            );
        }
    }

    /// Values and gradients equal burn's own reductions' on every CPU
    /// backend this build has, for each dimension, and through a
    /// following operation that reads the broadcast gradient.
    #[test]
    fn matches_burns_sums_and_means() {
        for (name, device) in crate::ot::backend::devices(false) {
            let device = device.autodiff();
            let weights = random([2, 3, 4], 1, &device);
            let x = random([2, 3, 4], 2, &device).require_grad();
            // The same leaf twice would share a gradient: two leaves, one value.
            let y = Tensor::<3>::from_data(x.to_data(), &device).require_grad();
            for dim in 0..3 {
                // Each case: this module's reduction and burn's, in a loss.
                let cases: [(&str, Loss, Loss); 3] = [
                    (
                        "sum_dim",
                        |t, d| sum_dim(t, d).square().sum(),
                        |t, d| t.sum_dim(d).square().sum(),
                    ),
                    (
                        "mean_dim",
                        |t, d| mean_dim(t, d).square().sum(),
                        |t, d| t.mean_dim(d).square().sum(),
                    ),
                    ("mean", |t, _| mean(t.square()), |t, _| t.square().mean()),
                ];
                for (what, ours, burns) in cases {
                    let what = format!("{name} {what} over {dim}");
                    let a = ours(x.clone() * weights.clone(), dim);
                    let b = burns(y.clone() * weights.clone(), dim);
                    assert_close(values(a.clone()), values(b.clone()), &what);
                    let (ga, gb) = (a.backward(), b.backward());
                    let (ga, gb) = (x.grad(&ga).unwrap(), y.grad(&gb).unwrap());
                    assert_close(values(ga), values(gb), &format!("{what}: gradient"));
                }
            }
        }
    }
}
