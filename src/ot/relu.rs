//! The nets' ReLU as a burn backend extension, for its backward step: burn
//! differentiates ReLU through the backend's `relu_backward`, which burn-tch
//! leaves to burn's default (a comparison, then a masked fill, which
//! libtorch runs element by element: 4% of a training step on the CPU).
//! Here libtorch runs its own `threshold_backward` (one vectorised pass, as
//! PyTorch does) and burn-flex its own `relu_backward`.

// burn 0.22 marks burn-tch deprecated; see same_conv.rs.
#![cfg_attr(feature = "tch", allow(deprecated))]

use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, backend_extension};
use burn::tensor::Tensor;

use super::unary::{self, Keep};

/// `max(x, 0)` elementwise.
pub fn relu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    Tensor::from_dispatch(Dispatch::one_pass_relu(x.into_dispatch()))
}

#[backend_extension(Flex, Autodiff, LibTorch: cfg(feature = "tch"))]
pub trait OnePassRelu: Backend {
    /// The forward pass: the backend's own ReLU.
    fn one_pass_relu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::relu(x)
    }
}

/// ReLU's backward step on a backend without autodiff: `grad` where the
/// output is positive, else 0. By default the backend's `relu_backward`.
pub trait OnePassReluGrad: Backend {
    fn one_pass_relu_grad(output: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::relu_backward(output, grad)
    }
}

impl OnePassRelu for Flex {}
impl OnePassReluGrad for Flex {}

#[cfg(feature = "tch")]
impl OnePassRelu for burn::backend::LibTorch {}

#[cfg(feature = "tch")]
impl OnePassReluGrad for burn::backend::LibTorch {
    fn one_pass_relu_grad(
        output: burn::backend::libtorch::TchTensor,
        grad: burn::backend::libtorch::TchTensor,
    ) -> burn::backend::libtorch::TchTensor {
        burn::backend::libtorch::TchTensor::new(output.tensor.threshold_backward(&grad.tensor, 0.0))
    }
}

impl<B: OnePassRelu + OnePassReluGrad, C: CheckpointStrategy> OnePassRelu for Autodiff<B, C> {
    fn one_pass_relu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        // The output decides the mask as well as the input does, and
        // keeping it lets the backend run the ReLU in place.
        unary::record::<B, C>(x, B::one_pass_relu, Keep::Output, B::one_pass_relu_grad)
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, TensorData};

    use super::*;

    /// Values and gradients equal burn's own ReLU's on every CPU backend
    /// this build has, zeros included (whose gradient is 0 in both).
    #[test]
    fn matches_burns_relu() {
        let values = vec![-1.5f32, 0.0, 0.25, 3.0, -0.0, 2.0];
        let weights = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]),
            &Device::flex(),
        );
        for (_, device) in crate::ot::backend::devices(false) {
            let device = device.autodiff();
            let weights = Tensor::<2>::from_data(weights.to_data(), &device);
            let run = |f: &dyn Fn(Tensor<2>) -> Tensor<2>| {
                let x = Tensor::<2>::from_data(TensorData::new(values.clone(), [2, 3]), &device)
                    .require_grad();
                // The input is used again, so neither ReLU may overwrite it.
                let y = f(x.clone() * 1.0) * weights.clone() + x.clone();
                let grads = y.clone().sum().backward();
                let dx = x
                    .grad(&grads)
                    .unwrap()
                    .into_data()
                    .try_to_vec::<f32>()
                    .unwrap();
                (y.into_data().try_to_vec::<f32>().unwrap(), dx)
            };
            let (ours, burns) = (run(&relu), run(&burn::tensor::activation::relu));
            assert_eq!(ours, burns);
            // d/dx (w relu(x) + x) = w [x > 0] + 1.
            assert_eq!(ours.1, vec![1.0, 1.0, 4.0, 5.0, 1.0, 7.0]);
        }
    }
}
