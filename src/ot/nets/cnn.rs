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
        for (i, conv) in self.convs.iter().enumerate() {
            x = conv.forward(x);
            if i < last {
                x = relu(x);
            }
        }
        x
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
            x = avg_pool_2x2(relu(conv.forward(x)));
        }
        let y = self.head.forward(x);
        let [n, _, h, w] = y.dims();
        y.reshape([n, h * w]).mean_dim(1)
    }
}
