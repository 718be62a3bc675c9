//! Transport costs and their unbiased Monte-Carlo estimators (docs/method.md, section 4).
//!
//! For one x and Z outputs t_1..t_Z of T(x, .), with the paper's gamma:
//! - weak quadratic: 1/(2Z) sum_k ||x - t_k||^2 - gamma/2 * 1/(Z-1) sum_k ||t_k - mean t||^2
//! - weak kernel (energy kernel): 1/(2Z) sum_k ||x - t_k||
//!   - gamma/4 * 1/(Z(Z-1)) sum_{k != l} ||t_k - t_l||
//! - strong quadratic: 1/(2Z) sum_k ||x - t_k||^2 (gamma must be 0)
//! - distance to the mean (Hardion & Olivier): ||x - E y||^2, estimated without bias
//!   by 1/(Z(Z-1)) sum_{k != l} <x - t_k, x - t_l>
//!
//! Negative gamma (a variance penalty, Hardion & Olivier) is allowed for the weak
//! costs. A [`Scaling`] multiplies the paper's cost by the constant the
//! official and student code use, which changes the balance with f.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::reduce::{mean_dim, sum_dim};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostKind {
    StrongQuadratic,
    WeakQuadratic,
    WeakKernel,
    MeanDistance,
}

/// Constant factors on the paper's cost, from the code behind each source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scaling {
    /// The papers' definitions (NOT and KNOT; docs/method.md).
    #[default]
    Paper,
    /// Official NOT: a per-element mean, 2/D times the paper's cost.
    OfficialNot,
    /// Official KNOT: full-dimension norms without the 1/2, 2 times.
    OfficialKnot,
    /// The student MNIST code behind Table 1: sums over pixels without the
    /// 1/2, i.e. 2 times the paper's cost. Its own gamma is twice the
    /// paper's, which a pipeline states where it maps gammas.
    Student,
}

impl Scaling {
    pub fn factor(self, dim: usize) -> f64 {
        match self {
            Scaling::Paper => 1.0,
            Scaling::OfficialNot => 2.0 / dim as f64,
            Scaling::OfficialKnot | Scaling::Student => 2.0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cost {
    pub kind: CostKind,
    #[serde(default)]
    pub scaling: Scaling,
}

impl Cost {
    /// Whether `gamma` and `z_count` make sense for this cost.
    pub fn check(&self, gamma: f64, z_count: usize) -> Result<(), String> {
        match self.kind {
            CostKind::StrongQuadratic | CostKind::MeanDistance if gamma != 0.0 => {
                let name = serde_json::to_value(self.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                Err(format!(
                    "the `{name}` cost has no gamma: give it gamma 0 (got {gamma}; over a gamma axis, `only: {{gamma: [0]}}` on the stage keeps that cell)"
                ))
            }
            CostKind::MeanDistance if z_count < 2 => {
                Err("distance to the mean needs z.count >= 2".into())
            }
            CostKind::WeakQuadratic | CostKind::WeakKernel if gamma != 0.0 && z_count < 2 => {
                Err("a weak cost with gamma != 0 needs z.count >= 2 samples per x".into())
            }
            _ => Ok(()),
        }
    }

    /// Per-x estimates: `x` is `[b, d]`, `t` is `[b, z, d]`; gives `[b]`.
    pub fn estimate(&self, x: Tensor<2>, t: Tensor<3>, gamma: f64) -> Tensor<1> {
        let [b, z, d] = t.dims();
        let diff = x.unsqueeze_dim::<3>(1) - t.clone();
        let sq = sum_dim(diff.clone().square(), 2).reshape([b, z]);
        let value = match self.kind {
            CostKind::StrongQuadratic => mean_dim(sq, 1).mul_scalar(0.5),
            CostKind::WeakQuadratic => {
                let quadratic = mean_dim(sq, 1).mul_scalar(0.5);
                if gamma == 0.0 || z < 2 {
                    quadratic
                } else {
                    let centred = t.clone() - mean_dim(t, 1);
                    let var = sum_dim(sum_dim(centred.square(), 2).reshape([b, z]), 1)
                        .div_scalar((z - 1) as f64);
                    quadratic - var.mul_scalar(gamma / 2.0)
                }
            }
            CostKind::WeakKernel => {
                let distance = mean_dim(norm_from_square(sq), 1).mul_scalar(0.5);
                if gamma == 0.0 || z < 2 {
                    distance
                } else {
                    let spread = pairwise_distance_sum(t).div_scalar((z * (z - 1)) as f64);
                    distance - spread.mul_scalar(gamma / 4.0)
                }
            }
            CostKind::MeanDistance => {
                // sum_{k != l} <a_k, a_l> = ||sum_k a_k||^2 - sum_k ||a_k||^2
                let total = sum_dim(sum_dim(diff, 1).reshape([b, d]).square(), 1);
                (total - sum_dim(sq, 1)).div_scalar((z * (z - 1)) as f64)
            }
        };
        value.reshape([b]).mul_scalar(self.scaling.factor(d))
    }
}

/// ||v|| from ||v||^2, with the gradient 0 where v = 0 (the norm's
/// subgradient there). sqrt's own derivative is infinite at 0 and, times
/// the zero gradient of ||v||^2, makes NaN: whenever two samples of one x
/// coincide (a collapsed map, gamma = 0, the start of a schedule from 0), or
/// a sample hits x. The root is taken of 1 there instead and the result
/// masked back to 0, so no infinity enters the graph; elsewhere the value
/// and gradient are sqrt's own.
fn norm_from_square<const D: usize>(sq: Tensor<D>) -> Tensor<D> {
    let zero = sq.clone().equal_elem(0.0);
    sq.mask_fill(zero.clone(), 1.0).sqrt().mask_fill(zero, 0.0)
}

/// sum over ordered pairs k != l of ||t_k - t_l||, per row: `[b, z, d]` ->
/// `[b, 1]`. The diagonal's norms are exactly 0 and add nothing.
fn pairwise_distance_sum(t: Tensor<3>) -> Tensor<2> {
    let [b, z, _] = t.dims();
    let diff = t.clone().unsqueeze_dim::<4>(2) - t.unsqueeze_dim::<4>(1);
    let sq = sum_dim(diff.square(), 3).reshape([b, z, z]);
    sum_dim(norm_from_square(sq).reshape([b, z * z]), 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{self, Purpose};
    use burn::tensor::{Device, TensorData};

    fn tensor<const D: usize>(values: Vec<f32>, shape: [usize; D]) -> Tensor<D> {
        Tensor::from_data(TensorData::new(values, shape), &Device::flex())
    }

    fn value(cost: CostKind, x: &[f32], t: &[f32], z: usize, gamma: f64) -> f64 {
        let d = x.len();
        let c = Cost {
            kind: cost,
            scaling: Scaling::Paper,
        };
        let v = c.estimate(
            tensor(x.to_vec(), [1, d]),
            tensor(t.to_vec(), [1, z, d]),
            gamma,
        );
        v.into_scalar::<f32>() as f64
    }

    /// x = (0, 0); t_1 = (1, 0), t_2 = (0, 2), t_3 = (3, 4).
    const X: [f32; 2] = [0.0, 0.0];
    const T: [f32; 6] = [1.0, 0.0, 0.0, 2.0, 3.0, 4.0];

    #[test]
    fn estimators_match_hand_computed_values() {
        // ||x - t||^2 = 1, 4, 25: mean 10, halved 5.
        // mean t = (4/3, 2); squared deviations (1/9 + 4) + 16/9 + (25/9 + 4) = 42/9 + 8, over Z - 1 = 2.
        let var = (42.0 / 9.0 + 8.0) / 2.0;
        assert!((value(CostKind::StrongQuadratic, &X, &T, 3, 0.0) - 5.0).abs() < 1e-5);
        let wq = value(CostKind::WeakQuadratic, &X, &T, 3, 0.5);
        assert!((wq - (5.0 - 0.25 * var)).abs() < 1e-5, "{wq}");
        // ||x - t|| = 1, 2, 5: mean 8/3, halved 4/3.
        // pair distances: |t1-t2| = sqrt(5), |t1-t3| = sqrt(20), |t2-t3| = sqrt(13); ordered sum doubles.
        let pairs = 2.0 * (5f64.sqrt() + 20f64.sqrt() + 13f64.sqrt()) / 6.0;
        let wk = value(CostKind::WeakKernel, &X, &T, 3, 1.0);
        assert!((wk - (4.0 / 3.0 - 0.25 * pairs)).abs() < 1e-5, "{wk}");
        // <x - t_k, x - t_l> over k != l: t1.t2 = 0, t1.t3 = 3, t2.t3 = 8: 2 * 11 / 6
        let md = value(CostKind::MeanDistance, &X, &T, 3, 0.0);
        assert!((md - 22.0 / 6.0).abs() < 1e-5, "{md}");
    }

    #[test]
    fn scalings_multiply_the_paper_cost() {
        assert_eq!(Scaling::OfficialNot.factor(1024), 2.0 / 1024.0);
        assert_eq!(Scaling::Student.factor(1024), 2.0);
        let c = Cost {
            kind: CostKind::StrongQuadratic,
            scaling: Scaling::OfficialKnot,
        };
        let v = c.estimate(
            tensor(X.to_vec(), [1, 2]),
            tensor(T.to_vec(), [1, 3, 2]),
            0.0,
        );
        assert!((v.into_scalar::<f32>() - 10.0).abs() < 1e-5);
    }

    /// For y ~ N(m, s^2 I) in d dimensions and x = 0, the weak costs have
    /// closed forms; the average estimate over many draws must approach them.
    #[test]
    fn estimators_are_unbiased() {
        let (d, z, draws) = (3usize, 4usize, 20_000usize);
        let m = [1.0f32, -2.0, 0.5];
        let s = 0.7f32;
        let mut rng = rng::stream(7, Purpose::Sample, 0);
        let noise = rng::normal(&mut rng, draws * z * d, s);
        let t: Vec<f32> = noise
            .iter()
            .enumerate()
            .map(|(i, e)| m[i % d] + e)
            .collect();
        let x = vec![0f32; draws * d];
        let mean = |kind: CostKind, gamma: f64| {
            let c = Cost {
                kind,
                scaling: Scaling::Paper,
            };
            let v = c.estimate(
                tensor(x.clone(), [draws, d]),
                tensor(t.clone(), [draws, z, d]),
                gamma,
            );
            v.mean().into_scalar::<f32>() as f64
        };
        let m2: f64 = m.iter().map(|v| (*v as f64).powi(2)).sum();
        let var = d as f64 * (s as f64).powi(2);
        // E||x - y||^2 = ||m||^2 + d s^2; Var = d s^2.
        let expected = 0.5 * (m2 + var) - 0.5 * 0.8 * var;
        let got = mean(CostKind::WeakQuadratic, 0.8);
        assert!(
            (got - expected).abs() < 0.02 * expected.abs(),
            "weak quadratic {got} vs {expected}"
        );
        // E||x - E y||^2 = ||m||^2 exactly.
        let got = mean(CostKind::MeanDistance, 0.0);
        assert!((got - m2).abs() < 0.03 * m2, "mean distance {got} vs {m2}");
        // E||y - y'|| for y - y' ~ N(0, 2 s^2 I_3): 2 s sqrt(2/pi) * sqrt(2)... chi with 3 dof:
        // E||N(0, v I_3)|| = sqrt(v) * 2 sqrt(2/pi); with v = 2 s^2.
        let spread = (2.0 * (s as f64).powi(2)).sqrt() * 2.0 * (2.0 / std::f64::consts::PI).sqrt();
        let with_gamma = mean(CostKind::WeakKernel, 1.0);
        let without = mean(CostKind::WeakKernel, 0.0);
        let got = (without - with_gamma) * 4.0;
        assert!(
            (got - spread).abs() < 0.02 * spread,
            "pair spread {got} vs {spread}"
        );
    }

    /// The weak kernel estimate and its gradient, computed from the
    /// definition with plain square roots, for `t` where no two samples
    /// coincide and none hits x.
    fn kernel_by_definition(x: Tensor<2>, t: Tensor<3>, gamma: f64) -> Tensor<1> {
        let [b, z, d] = t.dims();
        let mut total: Option<Tensor<1>> = None;
        for k in 0..z {
            let tk = t.clone().slice([0..b, k..k + 1, 0..d]).reshape([b, d]);
            let mut term = (x.clone() - tk.clone())
                .square()
                .sum_dim(1)
                .sqrt()
                .reshape([b])
                .mul_scalar(0.5 / z as f64);
            for l in (0..z).filter(|l| *l != k) {
                let tl = t.clone().slice([0..b, l..l + 1, 0..d]).reshape([b, d]);
                let pair = (tk.clone() - tl).square().sum_dim(1).sqrt().reshape([b]);
                term = term - pair.mul_scalar(gamma / 4.0 / (z * (z - 1)) as f64);
            }
            total = Some(match total {
                None => term,
                Some(s) => s + term,
            });
        }
        total.expect("z > 0")
    }

    fn autodiff_tensor<const D: usize>(values: Vec<f32>, shape: [usize; D]) -> Tensor<D> {
        Tensor::from_data(TensorData::new(values, shape), &Device::flex().autodiff()).require_grad()
    }

    fn grad_of<const D: usize>(loss: Tensor<1>, wrt: &Tensor<D>) -> Vec<f32> {
        let grads = loss.sum().backward();
        wrt.grad(&grads)
            .expect("a gradient")
            .into_data()
            .try_into_vec::<f32>()
            .unwrap()
    }

    #[test]
    fn the_kernel_estimate_and_its_gradient_are_the_definitions_away_from_zero() {
        let (b, z, d) = (5, 4, 3);
        let mut rng = rng::stream(11, Purpose::Sample, 0);
        let xs = rng::normal(&mut rng, b * d, 1.0);
        let ts = rng::normal(&mut rng, b * z * d, 1.0);
        for gamma in [0.5, 1.0, -1.0] {
            let kernel = Cost {
                kind: CostKind::WeakKernel,
                scaling: Scaling::Paper,
            };
            let t = autodiff_tensor(ts.clone(), [b, z, d]);
            let ours = kernel.estimate(tensor(xs.clone(), [b, d]), t.clone(), gamma);
            let t_ref = autodiff_tensor(ts.clone(), [b, z, d]);
            let theirs = kernel_by_definition(tensor(xs.clone(), [b, d]), t_ref.clone(), gamma);
            let (v1, v2) = (
                ours.clone()
                    .inner()
                    .into_data()
                    .try_into_vec::<f32>()
                    .unwrap(),
                theirs
                    .clone()
                    .inner()
                    .into_data()
                    .try_into_vec::<f32>()
                    .unwrap(),
            );
            for (a, e) in v1.iter().zip(&v2) {
                assert!(
                    (a - e).abs() <= 1e-5 * e.abs().max(1.0),
                    "gamma {gamma}: {a} vs {e}"
                );
            }
            let (g1, g2) = (grad_of(ours, &t), grad_of(theirs, &t_ref));
            for (a, e) in g1.iter().zip(&g2) {
                assert!(
                    (a - e).abs() <= 1e-5 * e.abs().max(1.0),
                    "gamma {gamma}: grad {a} vs {e}"
                );
            }
        }
    }

    /// Coinciding samples (a collapsed map) and a sample equal to x give
    /// finite gradients: the norm's subgradient 0 at 0.
    #[test]
    fn the_kernel_gradient_is_finite_where_samples_coincide() {
        let x = [1.0f32, 2.0];
        // t_1 = t_2 = x, t_3 = t_4 elsewhere: every zero the estimator meets.
        let ts = vec![1.0f32, 2.0, 1.0, 2.0, 0.0, 0.0, 0.0, 0.0];
        let kernel = Cost {
            kind: CostKind::WeakKernel,
            scaling: Scaling::Paper,
        };
        for gamma in [0.5, -0.5, 0.0] {
            let t = autodiff_tensor(ts.clone(), [1, 4, 2]);
            let v = kernel.estimate(tensor(x.to_vec(), [1, 2]), t.clone(), gamma);
            let grad = grad_of(v, &t);
            assert!(
                grad.iter().all(|g| g.is_finite()),
                "gamma {gamma}: {grad:?}"
            );
        }
        // At gamma 0 only ||x - t_k|| counts; t_1 and t_2 sit on x: subgradient 0.
        let t = autodiff_tensor(ts, [1, 4, 2]);
        let v = kernel.estimate(tensor(x.to_vec(), [1, 2]), t.clone(), 0.0);
        assert_eq!(&grad_of(v, &t)[..4], &[0.0; 4]);
    }

    #[test]
    fn gamma_and_z_are_checked() {
        let strong = Cost {
            kind: CostKind::StrongQuadratic,
            scaling: Scaling::Paper,
        };
        assert!(strong.check(0.5, 4).is_err());
        let weak = Cost {
            kind: CostKind::WeakKernel,
            scaling: Scaling::Paper,
        };
        assert!(weak.check(0.5, 1).is_err());
        assert!(weak.check(-0.5, 4).is_ok());
    }
}
