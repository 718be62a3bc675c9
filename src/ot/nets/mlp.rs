//! A multi-layer perceptron with ReLU between layers (2-D toys).

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::activation::relu;

use crate::ot::layers::{Dense, Init};

#[derive(Module, Debug)]
pub struct Mlp {
    layers: Vec<Dense>,
}

impl Mlp {
    pub fn new(init: &mut Init, d_in: usize, hidden: &[usize], d_out: usize) -> Mlp {
        let mut sizes = vec![d_in];
        sizes.extend_from_slice(hidden);
        sizes.push(d_out);
        let layers = sizes.windows(2).map(|w| Dense::new(init, w[0], w[1])).collect();
        Mlp { layers }
    }

    pub fn forward(&self, mut x: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if i < last {
                x = relu(x);
            }
        }
        x
    }
}
