//! The official NOT potential: ResNet_D (docs/method.md, section 9). conv3x3
//! to `nf`, leaky ReLU 0.2, residual blocks without normalisation whose
//! residual branch is scaled by `res_ratio`, 3x3 average pooling with stride 2
//! between levels, channels doubling up to `nf_max`, and a linear head on the
//! final 4x4 map.

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::activation::leaky_relu;
use burn::tensor::module::avg_pool2d;
use burn::tensor::ops::AvgPoolOptions;

use crate::ot::layers::{Conv, Dense, Init};

const SLOPE: f64 = 0.2;
/// Side of the last feature map, as in the official code.
const FINAL_SIDE: usize = 4;

#[derive(Module, Debug)]
struct Block {
    conv0: Conv,
    conv1: Conv,
    shortcut: Option<Conv>,
    res_ratio: f64,
}

impl Block {
    fn new(init: &mut Init, c_in: usize, c_out: usize, res_ratio: f64) -> Self {
        let hidden = c_in.min(c_out);
        Block {
            conv0: Conv::new(init, c_in, hidden, 3, true),
            conv1: Conv::new(init, hidden, c_out, 3, true),
            shortcut: (c_in != c_out).then(|| Conv::new(init, c_in, c_out, 1, false)),
            res_ratio,
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let skip = match &self.shortcut {
            Some(conv) => conv.forward(x.clone()),
            None => x.clone(),
        };
        let dx = self.conv1.forward(leaky_relu(self.conv0.forward(x), SLOPE));
        leaky_relu(skip + dx.mul_scalar(self.res_ratio), SLOPE)
    }
}

#[derive(Module, Debug)]
pub struct ResNetD {
    stem: Conv,
    /// Blocks per level; levels after the first start with average pooling.
    levels: Vec<Vec<Block>>,
    head: Dense,
}

impl ResNetD {
    /// `size` is the image side (a power of two, at least 4).
    pub fn new(
        init: &mut Init,
        c_in: usize,
        size: usize,
        nf: usize,
        nf_max: usize,
        res_ratio: f64,
    ) -> ResNetD {
        let levels_count = (size / FINAL_SIDE).max(1).ilog2() as usize;
        let width = |i: usize| (nf << i).min(nf_max);
        let stem = Conv::new(init, c_in, nf, 3, true);
        let mut levels = Vec::new();
        for i in 0..=levels_count {
            levels.push(vec![
                Block::new(init, width(i), width(i), res_ratio),
                Block::new(init, width(i), width(i + 1), res_ratio),
            ]);
        }
        // The official head assumes nf_max caps the last widening (true for
        // its sizes); use the width the blocks really produce.
        let final_width = width(levels_count + 1);
        let head = Dense::new(init, final_width * FINAL_SIDE * FINAL_SIDE, 1);
        ResNetD { stem, levels, head }
    }

    /// `[n, c, h, w]` -> `[n, 1]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let mut x = leaky_relu(self.stem.forward(x), SLOPE);
        for (i, level) in self.levels.iter().enumerate() {
            if i > 0 {
                let pool = AvgPoolOptions::new([3, 3])
                    .with_stride([2, 2])
                    .with_padding([1, 1]);
                x = avg_pool2d(x, pool);
            }
            for block in level {
                x = block.forward(x);
            }
        }
        let [n, c, h, w] = x.dims();
        self.head.forward(x.reshape([n, c * h * w]))
    }
}
