//! Scores of a transport map against the closed-form OT map between two
//! Gaussians, as the continuous W2 benchmark defines them (Korotin et al.
//! 2021, "Do neural optimal transport solvers work?"):
//!
//! - L2-UVP = 100 * E_x ||T(x) - T*(x)||^2 / Var(Q), the unexplained
//!   variance in percent, with Var(Q) = tr(cov Q);
//! - cos = <T - id, T* - id> / (||T - id|| ||T* - id||) in L2(P),
//!   whether the map moves points the right way.
//!
//! With T*(x) = m_Q + A (x - m_P) (`frechet::gaussian_ot_map`). A stochastic
//! map's outputs T(x, z) count one by one (each is a draw of the plan).

use nalgebra::DVector;

use super::MetricError;
use super::frechet::gaussian_ot_map;
use super::gaussian::Gaussian;

/// Per output, 100 ||T(x, z) - T*(x)||^2 / Var(Q) (their mean is the
/// L2-UVP), and the map's cosine with the optimal one.
#[derive(Debug, Clone, PartialEq)]
pub struct UvpScores {
    pub uvp: Vec<f64>,
    pub cosine: f64,
}

/// Scores `samples` (`[n, z, d]`, the outputs for the inputs `x`, `[n, d]`)
/// against the OT map from `source` to `target`.
pub fn uvp_scores(
    source: &Gaussian,
    target: &Gaussian,
    x: &[f32],
    samples: &[f32],
    n: usize,
    z: usize,
) -> Result<UvpScores, MetricError> {
    let d = source.dim();
    if target.dim() != d {
        return Err(MetricError::DimensionMismatch {
            left: d,
            right: target.dim(),
        });
    }
    for (buffer, expected) in [(x, n * d), (samples, n * z * d)] {
        if buffer.len() != expected {
            return Err(MetricError::LengthMismatch {
                expected,
                actual: buffer.len(),
            });
        }
    }
    if n * z == 0 {
        return Err(MetricError::Empty { what: "samples" });
    }
    let variance = target.cov().trace();
    if !(variance > 0.0 && variance.is_finite()) {
        return Err(MetricError::NonPositive {
            what: "Var(Q)",
            value: variance,
        });
    }
    let a = gaussian_ot_map(source.cov(), target.cov())?;
    let vector = |v: &[f32]| DVector::from_iterator(d, v.iter().map(|&v| f64::from(v)));
    let mut uvp = Vec::with_capacity(n * z);
    let (mut inner, mut moved, mut optimal) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let xi = vector(&x[i * d..(i + 1) * d]);
        let best = target.mean() + &a * (&xi - source.mean());
        let best_step = &best - &xi;
        for k in 0..z {
            let at = (i * z + k) * d;
            let got = vector(&samples[at..at + d]);
            if got.iter().any(|v| !v.is_finite()) {
                return Err(MetricError::NonFinite { what: "samples" });
            }
            uvp.push(100.0 * (&got - &best).norm_squared() / variance);
            let step = got - &xi;
            inner += step.dot(&best_step);
            moved += step.norm_squared();
            optimal += best_step.norm_squared();
        }
    }
    // A map that moves nothing (or an optimal map that is the identity) has
    // no direction: its cosine is 0 by convention, not NaN.
    let norms = (moved * optimal).sqrt();
    let cosine = if norms > 0.0 { inner / norms } else { 0.0 };
    Ok(UvpScores { uvp, cosine })
}

#[cfg(test)]
mod tests {
    use nalgebra::DMatrix;

    use super::*;

    fn laws() -> (Gaussian, Gaussian) {
        let p = Gaussian::new(
            DVector::from_vec(vec![0.5, -1.0]),
            DMatrix::from_row_slice(2, 2, &[1.0, 0.4, 0.4, 0.7]),
        )
        .unwrap();
        let q = Gaussian::new(
            DVector::from_vec(vec![1.5, -0.5]),
            DMatrix::from_row_slice(2, 2, &[0.6, -0.3, -0.3, 1.4]),
        )
        .unwrap();
        (p, q)
    }

    const X: [f32; 6] = [0.0, 0.0, 1.0, -2.0, -0.5, 0.25];

    fn optimal(p: &Gaussian, q: &Gaussian) -> Vec<f32> {
        let a = gaussian_ot_map(p.cov(), q.cov()).unwrap();
        X.chunks(2)
            .flat_map(|x| {
                let x = DVector::from_vec(vec![f64::from(x[0]), f64::from(x[1])]);
                let t = q.mean() + &a * (x - p.mean());
                [t[0] as f32, t[1] as f32]
            })
            .collect()
    }

    #[test]
    fn the_exact_map_scores_zero_and_cosine_one() {
        let (p, q) = laws();
        let s = uvp_scores(&p, &q, &X, &optimal(&p, &q), 3, 1).unwrap();
        assert!(s.uvp.iter().all(|&u| u < 1e-10), "{:?}", s.uvp);
        assert!((s.cosine - 1.0).abs() < 1e-6);
    }

    #[test]
    fn a_constant_shift_scores_its_squared_norm_over_the_variance() {
        let (p, q) = laws();
        let b = [0.3f32, -0.4];
        let shifted: Vec<f32> = optimal(&p, &q)
            .chunks(2)
            .flat_map(|t| [t[0] + b[0], t[1] + b[1]])
            .collect();
        let s = uvp_scores(&p, &q, &X, &shifted, 3, 1).unwrap();
        let want = 100.0 * 0.25 / 2.0; // ||b||^2 = 0.25, Var(Q) = 0.6 + 1.4
        for u in &s.uvp {
            assert!((u - want).abs() < 1e-4, "{u} vs {want}");
        }
    }

    #[test]
    fn the_identity_has_no_direction() {
        let (p, q) = laws();
        let s = uvp_scores(&p, &q, &X, &X, 3, 1).unwrap();
        assert_eq!(s.cosine, 0.0);
        assert!(s.uvp.iter().all(|&u| u > 0.0));
    }
}
