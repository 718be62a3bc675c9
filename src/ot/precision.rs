//! Mixed precision: the convolutions and matrix products of a training run
//! in bfloat16 while weights, optimiser state, losses and everything else
//! stay in f32, as PyTorch's `autocast(dtype=torch.bfloat16)` does.
//!
//! Like autocast it is a per-thread setting rather than a property of the
//! networks: the trainer turns it on for its own thread (each stage runs on
//! one), and sampling, which is scored, keeps full precision. bfloat16 is
//! for GPUs with bf16 tensor cores; on CPUs it is emulated and slower.

use std::cell::Cell;

use burn::tensor::{DType, Tensor};
use serde::{Deserialize, Serialize};

/// The precision of the layers' heavy products.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    F32,
    Bf16,
}

thread_local! {
    static CURRENT: Cell<Precision> = const { Cell::new(Precision::F32) };
}

/// Sets this thread's precision until the returned guard is dropped.
pub fn autocast(precision: Precision) -> Autocast {
    Autocast {
        previous: CURRENT.with(|c| c.replace(precision)),
    }
}

/// Restores the previous precision when dropped.
pub struct Autocast {
    previous: Precision,
}

impl Drop for Autocast {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
    }
}

/// This thread's precision.
pub fn current() -> Precision {
    CURRENT.with(Cell::get)
}

/// Runs `op` (a convolution, a matrix product) on its operands in this
/// thread's precision and returns an f32 result. Gradients flow through the
/// casts, so weights and their gradients stay f32.
pub fn product<const A: usize, const B: usize, const O: usize>(
    a: Tensor<A>,
    b: Tensor<B>,
    op: impl FnOnce(Tensor<A>, Tensor<B>) -> Tensor<O>,
) -> Tensor<O> {
    match current() {
        Precision::F32 => op(a, b),
        Precision::Bf16 => op(a.cast(DType::BF16), b.cast(DType::BF16)).cast(DType::F32),
    }
}

/// `x` in bfloat16 (as it is, if it is already).
pub fn to_bf16<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if x.dtype() == DType::BF16 {
        x
    } else {
        x.cast(DType::BF16)
    }
}

/// `x` in f32 (as it is, if it is already): where a chain of layers kept
/// in bf16 hands over to the f32 code after it.
pub fn to_f32<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if x.dtype() == DType::F32 {
        x
    } else {
        x.cast(DType::F32)
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution};

    use super::*;

    fn matmul_of(a: &Tensor<2>, b: &Tensor<2>) -> Tensor<2> {
        product(a.clone(), b.clone(), |a, b| a.matmul(b))
    }

    #[test]
    fn bf16_rounds_the_product_and_the_guard_restores_f32() {
        let device = Device::flex();
        let a = Tensor::<2>::random([64, 256], Distribution::Normal(0.0, 1.0), &device);
        let b = Tensor::<2>::random([256, 64], Distribution::Normal(0.0, 1.0), &device);
        let exact = matmul_of(&a, &b);
        let rounded = {
            let _bf16 = autocast(Precision::Bf16);
            matmul_of(&a, &b)
        };
        assert_eq!(rounded.dtype(), DType::F32);
        let scale: f32 = exact.clone().abs().mean().into_scalar();
        let error: f32 = (exact.clone() - rounded).abs().mean().into_scalar();
        // bf16 keeps 8 significant bits: operands rounded by up to 2^-9 each,
        // so a 256-term sum of N(0, 1) products is off by a few tenths of a percent.
        assert!(error > 0.0 && error < 0.02 * scale, "{error} vs {scale}");
        let again: f32 = (exact - matmul_of(&a, &b)).abs().max().into_scalar();
        assert_eq!(again, 0.0, "f32 again once the guard is gone");
    }
}
