//! The official NOT transport network: a U-Net with bilinear up-sampling
//! (docs/method.md, section 9). Each block is (conv3x3 + BatchNorm + ReLU)
//! twice; channels b, 2b, 4b, 8b, 8b on the way down (b = 48 in the official
//! runs), max pooling between levels, skip connections concatenated on the
//! way up, a 1x1 convolution out, no output activation.

use burn::module::Module;
use burn::nn::BatchNorm;
use burn::tensor::Tensor;
use burn::tensor::activation::relu;
use burn::tensor::module::{interpolate, max_pool2d};
use burn::tensor::ops::{InterpolateMode, InterpolateOptions, MaxPoolOptions};

use crate::ot::layers::{Conv, Init, batch_norm};

#[derive(Module, Debug)]
struct DoubleConv {
    conv0: Conv,
    bn0: BatchNorm,
    conv1: Conv,
    bn1: BatchNorm,
}

impl DoubleConv {
    fn new(init: &mut Init, c_in: usize, c_out: usize, mid: usize) -> Self {
        DoubleConv {
            conv0: Conv::new(init, c_in, mid, 3, true),
            bn0: batch_norm(init, mid),
            conv1: Conv::new(init, mid, c_out, 3, true),
            bn1: batch_norm(init, c_out),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = relu(self.bn0.forward(self.conv0.forward(x)));
        relu(self.bn1.forward(self.conv1.forward(x)))
    }
}

#[derive(Module, Debug)]
pub struct UNet {
    inc: DoubleConv,
    downs: Vec<DoubleConv>,
    ups: Vec<DoubleConv>,
    out: Conv,
}

impl UNet {
    pub fn new(init: &mut Init, c_in: usize, c_out: usize, base: usize) -> UNet {
        let b = base;
        let inc = DoubleConv::new(init, c_in, b, b);
        // With bilinear up-sampling the deepest level keeps 8b channels.
        let widths = [(b, 2 * b), (2 * b, 4 * b), (4 * b, 8 * b), (8 * b, 8 * b)];
        let downs = widths
            .iter()
            .map(|&(i, o)| DoubleConv::new(init, i, o, o))
            .collect();
        // (input channels after concatenation, output channels)
        let ups = [(16 * b, 4 * b), (8 * b, 2 * b), (4 * b, b), (2 * b, b)]
            .iter()
            .map(|&(i, o)| DoubleConv::new(init, i, o, i / 2))
            .collect();
        UNet {
            inc,
            downs,
            ups,
            out: Conv::new(init, b, c_out, 1, true),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut skips = vec![self.inc.forward(x)];
        for down in &self.downs {
            let last = skips.last().expect("inc output").clone();
            skips.push(down.forward(max_pool2d(last, MaxPoolOptions::new([2, 2]))));
        }
        let mut x = skips.pop().expect("deepest level");
        for up in &self.ups {
            let skip = skips.pop().expect("one skip per level");
            let [_, _, h, w] = skip.dims();
            let options = InterpolateOptions::new(InterpolateMode::Bilinear)
                .with_align_corners(true)
                .with_output_size([h, w]);
            x = up.forward(Tensor::cat(vec![skip, interpolate(x, options)], 1));
        }
        self.out.forward(x)
    }
}
