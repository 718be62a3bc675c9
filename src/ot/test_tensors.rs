//! Tensors for the unit tests of nrun's backend extensions.

use burn::tensor::{Device, Tensor, TensorData};

use crate::rng::{self, Purpose};

/// Standard normal values of `shape`, from nrun's stream `index`.
pub fn random<const D: usize>(shape: [usize; D], index: u64, device: &Device) -> Tensor<D> {
    let mut rng = rng::stream(7, Purpose::Step, index);
    let values = rng::normal(&mut rng, shape.iter().product(), 1.0);
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// `t`'s values as f32, in logical order.
pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec().unwrap()
}
