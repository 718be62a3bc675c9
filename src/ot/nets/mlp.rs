//! A multi-layer perceptron (2-D toys).

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::activation::{celu, leaky_relu, silu, softplus, tanh};
use serde::{Deserialize, Serialize};

use crate::ot::layers::{Dense, Init};
use crate::ot::relu::relu;

/// The non-linearity between layers. The reports use ReLU. A ReLU potential
/// has a piecewise-constant gradient, so the map it induces moves each of
/// its linear regions by one vector; smooth activations let f's gradient
/// vary continuously where a precise map matters (the closed-form tests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    #[default]
    Relu,
    LeakyRelu,
    Silu,
    Celu,
    Softplus,
    Tanh,
}

impl Activation {
    fn apply(self, x: Tensor<2>) -> Tensor<2> {
        match self {
            Activation::Relu => relu(x),
            Activation::LeakyRelu => leaky_relu(x, 0.2),
            Activation::Silu => silu(x),
            Activation::Celu => celu(x, 1.0),
            Activation::Softplus => softplus(x, 1.0),
            Activation::Tanh => tanh(x),
        }
    }
}

#[derive(Module, Debug)]
pub struct Mlp {
    layers: Vec<Dense>,
    #[module(skip)]
    activation: Activation,
}

impl Mlp {
    pub fn new(
        init: &mut Init,
        d_in: usize,
        hidden: &[usize],
        d_out: usize,
        activation: Activation,
    ) -> Mlp {
        let mut sizes = vec![d_in];
        sizes.extend_from_slice(hidden);
        sizes.push(d_out);
        let layers = sizes
            .windows(2)
            .map(|w| Dense::new(init, w[0], w[1]))
            .collect();
        Mlp { layers, activation }
    }

    pub fn forward(&self, mut x: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if i < last {
                x = self.activation.apply(x);
            }
        }
        x
    }
}
