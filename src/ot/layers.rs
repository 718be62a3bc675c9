//! Convolution and dense layers initialised from nrun's own seeded streams.
//!
//! burn's layers initialise lazily from its process-wide generator, so two
//! trainings on two threads would not be reproducible; and flex and tch
//! would start from different weights, which makes them incomparable. These
//! layers draw PyTorch's default initialisation (weights and biases uniform
//! in +-1/sqrt(fan_in)) from a [`Rng`] instead, eagerly.

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};

use super::precision::{self, Precision};
use super::same_conv;
use crate::rng::{self, Rng};

/// Draws initial parameters on one device.
pub struct Init<'a> {
    pub rng: Rng,
    pub device: &'a Device,
}

impl Init<'_> {
    fn uniform<const D: usize>(&mut self, shape: [usize; D], fan_in: usize) -> Param<Tensor<D>> {
        let count = shape.iter().product();
        let bound = 1.0 / (fan_in as f32).sqrt();
        let values = rng::uniform(&mut self.rng, count, bound);
        Param::from_data(TensorData::new(values, shape), self.device)
    }

    /// A convolution's weight, laid out as the device's convolution reads
    /// it fastest ([`same_conv::weight_layout`]), now and whenever a record
    /// is loaded into it.
    fn conv_weight(&mut self, shape: [usize; 4], fan_in: usize) -> Param<Tensor<4>> {
        let drawn = self.uniform(shape, fan_in).into_value();
        Param::from_tensor(laid_out(drawn)).load_mapper(laid_out)
    }
}

/// A weight's value laid out for the convolution, as a leaf that autodiff
/// can track (what an operation's output is not).
fn laid_out(weight: Tensor<4>) -> Tensor<4> {
    same_conv::weight_layout(weight.detach()).detach()
}

/// A 2-D convolution, stride 1, square kernel, symmetric zero padding.
#[derive(Module, Debug)]
pub struct Conv {
    weight: Param<Tensor<4>>,
    bias: Option<Param<Tensor<1>>>,
    padding: usize,
}

impl Conv {
    pub fn new(init: &mut Init, c_in: usize, c_out: usize, kernel: usize, bias: bool) -> Conv {
        let fan_in = c_in * kernel * kernel;
        Conv {
            weight: init.conv_weight([c_out, c_in, kernel, kernel], fan_in),
            bias: bias.then(|| init.uniform([c_out], fan_in)),
            // "Same" padding for the odd kernels these nets use.
            padding: kernel / 2,
        }
    }

    /// The convolution, its output in f32 whatever the precision.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        precision::to_f32(self.forward_in_precision(x))
    }

    /// The convolution in the current precision: in bf16 it takes x in
    /// either precision and leaves its output in bf16, the bias inside the
    /// convolution (as PyTorch's autocast does), so that a chain of layers
    /// pays no casts between them; the chain ends in [`precision::to_f32`].
    pub fn forward_in_precision(&self, x: Tensor<4>) -> Tensor<4> {
        let bias = self.bias.as_ref().map(Param::val);
        match precision::current() {
            Precision::F32 => same_conv::conv2d(x, self.weight.val(), bias, self.padding),
            Precision::Bf16 => same_conv::conv2d(
                precision::to_bf16(x),
                precision::to_bf16(self.weight.val()),
                bias.map(precision::to_bf16),
                self.padding,
            ),
        }
    }
}

/// A fully connected layer, `x W + b` with `W` stored `[in, out]`.
#[derive(Module, Debug)]
pub struct Dense {
    weight: Param<Tensor<2>>,
    bias: Param<Tensor<1>>,
}

impl Dense {
    pub fn new(init: &mut Init, d_in: usize, d_out: usize) -> Dense {
        Dense {
            weight: init.uniform([d_in, d_out], d_in),
            bias: init.uniform([d_out], d_in),
        }
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        precision::product(x, self.weight.val(), |x, w| x.matmul(w))
            + self.bias.val().unsqueeze::<2>()
    }
}

/// Batch normalisation over channels with PyTorch's defaults (eps 1e-5,
/// momentum 0.1, scale 1, shift 0). burn's layer uses running statistics
/// whenever the module runs without autodiff, i.e. through `valid()`: T
/// frozen for the f step, and sampling.
pub fn batch_norm(init: &Init, channels: usize) -> burn::nn::BatchNorm {
    burn::nn::BatchNormConfig::new(channels).init(init.device)
}

#[cfg(all(test, feature = "tch"))]
#[allow(deprecated)] // burn-tch; see backend.rs
mod tests {
    use burn::backend::LibTorch;
    use burn::module::Module;

    use super::*;
    use crate::device::DeviceChoice;
    use crate::ot::{backend, test_tensors};
    use crate::rng::Purpose;

    fn conv(seed: u64, device: &Device) -> Conv {
        let mut init = Init {
            rng: rng::stream(seed, Purpose::InitT, 0),
            device,
        };
        Conv::new(&mut init, 3, 4, 5, true)
    }

    fn strides(conv: &Conv) -> Vec<i64> {
        let weight = conv.weight.val().inner();
        weight
            .try_into_primitive::<LibTorch>()
            .unwrap()
            .tensor
            .stride()
    }

    fn values(conv: &Conv) -> Vec<f32> {
        test_tensors::values(conv.weight.val())
    }

    /// On libtorch a convolution's weight is stored channels-last when it
    /// is drawn and when a record is loaded into it, holding the values
    /// burn-flex holds (the layout moves them in memory only), and stays a
    /// parameter autodiff tracks.
    #[test]
    fn libtorch_stores_conv_weights_channels_last_drawn_and_loaded() {
        let cpu = backend::device(DeviceChoice::Cpu, None).unwrap().autodiff();
        // [4, 3, 5, 5] with the 3 channels adjacent, then width, height.
        let channels_last = vec![75, 1, 15, 3];
        let drawn = conv(1, &cpu);
        assert_eq!(strides(&drawn), channels_last);
        assert_eq!(values(&drawn), values(&conv(1, &Device::flex().autodiff())));
        assert!(drawn.weight.val().is_require_grad());

        let loaded = conv(2, &cpu).load_record(drawn.clone().into_record());
        assert_eq!(strides(&loaded), channels_last);
        assert_eq!(values(&loaded), values(&drawn));
        assert!(loaded.weight.val().is_require_grad());
    }
}
