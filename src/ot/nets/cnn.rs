//! The MNIST CNN pair of the Weinreich & Heurtel-Depeiges report (its
//! Appendix C; docs/method.md, section 9).
//!
//! T: seven 5x5 convolutions, padding 2, ReLU between, no normalisation and
//! no output activation: (C + z) -> 128, five times 128 -> 128, 128 -> C.
//! f: conv5x5 C->128, 128->128, 128->128, conv3x3 128->128, each followed by
//! ReLU and 2x2 average pooling, then conv1x1 128->1; the spatial outputs
//! (2x2 on 32x32 input) are averaged.

use burn::module::Module;
use burn::tensor::Tensor;

use crate::ot::layers::{Conv, Init};
use crate::ot::pool::avg_pool_2x2;
use crate::ot::precision;
use crate::ot::reduce;
use crate::ot::relu::relu;

#[derive(Module, Debug)]
pub struct CnnT {
    convs: Vec<Conv>,
}

impl CnnT {
    pub fn new(init: &mut Init, c_in: usize, c_out: usize, channels: usize, layers: usize) -> CnnT {
        let mut convs = Vec::with_capacity(layers);
        for i in 0..layers {
            let a = if i == 0 { c_in } else { channels };
            let b = if i + 1 == layers { c_out } else { channels };
            convs.push(Conv::new(init, a, b, 5, true));
        }
        CnnT { convs }
    }

    pub fn forward(&self, mut x: Tensor<4>) -> Tensor<4> {
        let last = self.convs.len() - 1;
        // In bf16 the activations stay bf16 from layer to layer.
        for (i, conv) in self.convs.iter().enumerate() {
            x = conv.forward_in_precision(x);
            if i < last {
                x = relu(x);
            }
        }
        precision::to_f32(x)
    }
}

#[derive(Module, Debug)]
pub struct CnnF {
    convs: Vec<Conv>,
    head: Conv,
}

impl CnnF {
    pub fn new(init: &mut Init, c_in: usize, channels: usize) -> CnnF {
        let convs = vec![
            Conv::new(init, c_in, channels, 5, true),
            Conv::new(init, channels, channels, 5, true),
            Conv::new(init, channels, channels, 5, true),
            Conv::new(init, channels, channels, 3, true),
        ];
        CnnF {
            convs,
            head: Conv::new(init, channels, 1, 1, true),
        }
    }

    /// `[n, c, h, w]` -> `[n, 1]`
    pub fn forward(&self, mut x: Tensor<4>) -> Tensor<2> {
        for conv in &self.convs {
            x = avg_pool_2x2(relu(conv.forward_in_precision(x)));
        }
        let y = precision::to_f32(self.head.forward_in_precision(x));
        let [n, _, h, w] = y.dims();
        reduce::mean_dim(y.reshape([n, h * w]), 1)
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{DType, Device, TensorData};

    use super::*;
    use crate::ot::precision::{Precision, autocast};
    use crate::rng::{self, Purpose};

    fn init(device: &Device) -> Init<'_> {
        Init {
            rng: rng::stream(4, Purpose::InitT, 0),
            device,
        }
    }

    /// In bf16 a conv's output stays bf16 for the next layer (no casts in
    /// between), while the nets hand f32 on, within bf16's rounding of the
    /// f32 result.
    #[test]
    fn bf16_activations_stay_bf16_inside_and_leave_as_f32() {
        let device = Device::flex();
        let t = CnnT::new(&mut init(&device), 2, 1, 8, 3);
        let f = CnnF::new(&mut init(&device), 1, 8);
        let mut r = rng::stream(4, Purpose::Sample, 0);
        let x = Tensor::<4>::from_data(
            TensorData::new(rng::normal(&mut r, 2 * 2 * 16 * 16, 1.0), [2, 2, 16, 16]),
            &device,
        );
        let values = |t: Tensor<4>| t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
        let exact = t.forward(x.clone());
        let _bf16 = autocast(Precision::Bf16);
        assert_eq!(
            t.convs[0].forward_in_precision(x.clone()).dtype(),
            DType::BF16
        );
        let rounded = t.forward(x);
        assert_eq!(rounded.dtype(), DType::F32);
        assert_eq!(f.forward(rounded.clone()).dtype(), DType::F32);
        let (a, b) = (values(exact), values(rounded));
        let scale = a.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let worst = a
            .iter()
            .zip(&b)
            .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(worst > 0.0, "bf16 must round something");
        assert!(
            worst < 0.05 * scale,
            "bf16 differs by {worst}, values up to {scale}"
        );
    }
}
