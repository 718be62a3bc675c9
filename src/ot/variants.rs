//! Variants of NOT from the student reports (docs/method.md, sections 7, 8).
//!
//! - Noised strong NOT (Sudakov's report): the potential sees its input with
//!   Gaussian noise of a random level sigma added, and sigma itself through
//!   a sinusoidal embedding; each term of the f and T losses is weighted by
//!   EDM's weight of its own sigma, (s^2 + sd^2) / (sd s)^2. (Sudakov's code
//!   broadcast a `[B]` weight against `[B, 1]` outputs, pairing every weight
//!   with every sigma; here each weight multiplies its own row.)
//! - Reg-NOT (the Gbagbe & Bintang report): a penalty on violations of
//!   Jensen's inequality by psi(y) = ||y||^2 / 2 - f(y) / c, which is convex
//!   at the optimum of the strong quadratic cost (c is the cost's scaling),
//!   and the inverse map x = grad psi(y) = y - grad f(y) / c that a convex
//!   psi gives.

use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::nets::Model;
use crate::rng::{self, Rng};

/// How the potential is conditioned on noise (Sudakov's noised strong NOT;
/// docs/method.md, section 7).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoiseSpec {
    /// ln sigma ~ N(log_mean, log_std^2): sigma = exp(N(0, 1)) by default.
    #[serde(default)]
    pub log_mean: f64,
    #[serde(default = "default_log_std")]
    pub log_std: f64,
    /// EDM's sigma_data.
    #[serde(default = "default_sigma_data")]
    pub sigma_data: f64,
    /// Channels (images) or coordinates (points) of sigma's embedding.
    #[serde(default = "default_embedding")]
    pub embedding: usize,
}

fn default_log_std() -> f64 {
    1.0
}
fn default_sigma_data() -> f64 {
    0.5
}
fn default_embedding() -> usize {
    16
}

impl NoiseSpec {
    pub fn check(&self) -> Result<(), String> {
        if self.embedding == 0 || !self.embedding.is_multiple_of(2) {
            return Err("the sigma embedding needs an even, positive number of channels".into());
        }
        if !(self.sigma_data > 0.0 && self.log_std >= 0.0) {
            return Err("sigma_data must be positive and log_std non-negative".into());
        }
        Ok(())
    }

    /// EDM's loss weight for noise level `s`.
    pub fn weight(&self, s: f64) -> f64 {
        let sd = self.sigma_data;
        (s * s + sd * sd) / (sd * s).powi(2)
    }

    /// EDM's positional embedding of c = ln(s) / 4: cosines then sines at
    /// frequencies (1/10000)^(k / half), k < half.
    pub fn embed(&self, s: f64) -> Vec<f32> {
        let half = self.embedding / 2;
        let c = s.ln() / 4.0;
        let freqs: Vec<f64> = (0..half)
            .map(|k| (1.0f64 / 10000.0).powf(k as f64 / half as f64))
            .collect();
        freqs
            .iter()
            .map(|f| (c * f).cos() as f32)
            .chain(freqs.iter().map(|f| (c * f).sin() as f32))
            .collect()
    }

    pub fn draw(&self, rng: &mut Rng, n: usize) -> Vec<f64> {
        rng::normal(rng, n, 1.0)
            .into_iter()
            .map(|e| (self.log_mean + self.log_std * e as f64).exp())
            .collect()
    }

    /// f's input: each row `y + eps * s` followed by the embedding of `s`,
    /// repeated over the `pixels` of an image (one value per coordinate for
    /// points). Rows of `y` are `[channels * pixels]`; `eps` has as many
    /// values as `y`.
    pub fn noisy_input(
        &self,
        y: Tensor<2>,
        sigmas: &[f64],
        eps: &[f32],
        pixels: usize,
    ) -> Tensor<2> {
        let [n, d] = y.dims();
        let device = y.device();
        let scaled: Vec<f32> = eps
            .iter()
            .enumerate()
            .map(|(i, e)| e * sigmas[i / d] as f32)
            .collect();
        let noisy = y + Tensor::<2>::from_data(TensorData::new(scaled, [n, d]), &device);
        let mut embedding = Vec::with_capacity(n * self.embedding * pixels);
        for &s in sigmas {
            for v in self.embed(s) {
                embedding.extend(std::iter::repeat_n(v, pixels));
            }
        }
        let embedding = Tensor::<2>::from_data(
            TensorData::new(embedding, [n, self.embedding * pixels]),
            &device,
        );
        Tensor::cat(vec![noisy, embedding], 1)
    }

    pub fn weights(&self, sigmas: &[f64], device: &Device) -> Tensor<1> {
        let w: Vec<f32> = sigmas.iter().map(|s| self.weight(*s) as f32).collect();
        Tensor::from_data(TensorData::new(w, [sigmas.len()]), device)
    }
}

/// mean_i w_i f_i for potentials `f` of shape `[n, 1]`.
pub fn weighted_mean(f: Tensor<2>, w: Tensor<1>) -> Tensor<1> {
    let [n, _] = f.dims();
    (f.reshape([n]) * w).mean()
}

/// Mean over pairs (the two halves of `y`) of
/// ReLU(psi(t y1 + (1-t) y2) - t psi(y1) - (1-t) psi(y2)), with
/// psi(v) = ||v||^2 / 2 - f(v) / scale and one weight `t` per pair
/// (`draws::mixing_weights`).
pub fn convexity_penalty(
    f: &dyn Fn(Tensor<2>) -> Tensor<2>,
    y: Tensor<2>,
    t: Vec<f32>,
    scale: f64,
) -> Tensor<1> {
    let [n, d] = y.dims();
    let half = n / 2;
    let device = y.device();
    let y1 = y.clone().slice([0..half, 0..d]);
    let y2 = y.slice([half..2 * half, 0..d]);
    let t = Tensor::<2>::from_data(TensorData::new(t, [half, 1]), &device);
    let psi = |v: Tensor<2>| -> Tensor<2> {
        v.clone().square().sum_dim(1).mul_scalar(0.5) - f(v).div_scalar(scale)
    };
    let mix = y1.clone() * t.clone() + y2.clone() * t.clone().neg().add_scalar(1.0);
    let gap = psi(mix) - psi(y1) * t.clone() - psi(y2) * t.neg().add_scalar(1.0);
    relu(gap).mean()
}

/// The inverse map x = grad psi(y) = y - grad f(y) / scale, for rows `y`
/// of `d` values. `f` must live on an autodiff device.
pub fn inverse_map(
    f: &Model,
    y: &[f32],
    d: usize,
    scale: f64,
    device: &Device,
    batch: usize,
) -> Vec<f32> {
    let device = device.clone().autodiff();
    let n = y.len() / d.max(1);
    let mut out = Vec::with_capacity(y.len());
    for start in (0..n).step_by(batch.max(1)) {
        let end = (start + batch.max(1)).min(n);
        let rows = Tensor::<2>::from_data(
            TensorData::new(y[start * d..end * d].to_vec(), [end - start, d]),
            &device,
        )
        .require_grad();
        let grads = f.forward(rows.clone()).sum().backward();
        let g = rows.grad(&grads).expect("the input requires grad");
        let x = rows.detach() - g.div_scalar(scale);
        out.extend(
            x.into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("f32"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    fn spec() -> NoiseSpec {
        NoiseSpec {
            log_mean: 0.0,
            log_std: 1.0,
            sigma_data: 0.5,
            embedding: 16,
        }
    }

    #[test]
    fn edm_weight_and_embedding() {
        let s = spec();
        assert!((s.weight(1.0) - 1.25 / 0.25).abs() < 1e-12);
        assert!((s.weight(0.5) - (0.25 + 0.25) / 0.0625).abs() < 1e-12);
        let e = s.embed(1.0);
        assert_eq!(e.len(), 16);
        assert!(
            e[..8].iter().all(|v| (*v - 1.0).abs() < 1e-7),
            "ln 1 = 0: cosines are 1"
        );
        assert!(e[8..].iter().all(|v| v.abs() < 1e-7), "and sines 0");
        let e2 = s.embed(std::f64::consts::E.powi(4));
        assert!((e2[0] - 1f32.cos()).abs() < 1e-6 && (e2[8] - 1f32.sin()).abs() < 1e-6);
    }

    /// Each weight multiplies its own row: [1, 2, 3] . [10, 20, 30] / 3.
    #[test]
    fn weights_pair_with_their_own_row() {
        let device = Device::flex();
        let f = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 2.0, 3.0], [3, 1]), &device);
        let w = Tensor::<1>::from_data(TensorData::new(vec![10.0f32, 20.0, 30.0], [3]), &device);
        let v = weighted_mean(f, w).into_scalar::<f32>();
        assert!(
            (v - 140.0 / 3.0).abs() < 1e-4,
            "{v} (a broadcast would give 120)"
        );
    }

    #[test]
    fn noisy_input_appends_the_embedding_per_pixel() {
        let device = Device::flex();
        let s = spec();
        let y = Tensor::<2>::zeros([2, 4], &device);
        let mut rng = stream(0, Purpose::Sample, 0);
        let eps = rng::normal(&mut rng, 8, 1.0);
        let input = s.noisy_input(y, &[1.0, 1.0], &eps, 4);
        assert_eq!(input.dims(), [2, 4 + 16 * 4]);
        let v = input.into_data().try_into_vec::<f32>().unwrap();
        assert!(
            v[4..8].iter().all(|x| (*x - 1.0).abs() < 1e-6),
            "the first embedding channel, four pixels"
        );
        assert!(v[..4].iter().any(|x| x.abs() > 1e-3), "noise was added");
    }

    /// psi = ||y||^2 / 2 - f / c is convex for f = 0 (no penalty) and
    /// concave for f = ||y||^2 (penalty > 0).
    #[test]
    fn convexity_penalty_sees_concavity_only() {
        let device = Device::flex();
        let mut rng = stream(1, Purpose::Sample, 0);
        let y = Tensor::<2>::from_data(
            TensorData::new(rng::normal(&mut rng, 64 * 2, 1.0), [64, 2]),
            &device,
        );
        let zero = |v: Tensor<2>| v.sum_dim(1).mul_scalar(0.0);
        let t = crate::ot::draws::mixing_weights(&mut rng, 32);
        let convex = convexity_penalty(&zero, y.clone(), t.clone(), 1.0).into_scalar::<f32>();
        assert_eq!(convex, 0.0);
        let square = |v: Tensor<2>| v.square().sum_dim(1);
        let concave = convexity_penalty(&square, y, t, 1.0).into_scalar::<f32>();
        assert!(concave > 0.01, "{concave}");
    }
}
