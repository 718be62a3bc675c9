//! Gaussians in any dimension: random SPD covariances of a given condition
//! number and exact sampling, for the W2 benchmark between Gaussians
//! (Korotin et al. 2021; docs/experiments.md, section 9).

use nalgebra::{DMatrix, DVector};
use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

use super::error::ParamError;
use super::points::Points;

/// A random mean: `scale` times a standard normal vector.
pub fn random_mean<R: Rng + ?Sized>(dim: usize, scale: f64, rng: &mut R) -> DVector<f64> {
    DVector::from_iterator(
        dim,
        (0..dim).map(|_| scale * rng.sample::<f64, _>(StandardNormal)),
    )
}

/// A random covariance `Q diag(l) Q^T` with `Q` Haar-distributed (QR of a
/// standard normal matrix, signs fixed by R's diagonal) and eigenvalues
/// spaced geometrically from `condition^{-1/2}` to `condition^{1/2}`: the
/// ratio of largest to smallest is `condition` and their geometric mean 1.
pub fn random_spd<R: Rng + ?Sized>(
    dim: usize,
    condition: f64,
    rng: &mut R,
) -> Result<DMatrix<f64>, ParamError> {
    if !(condition >= 1.0 && condition.is_finite()) {
        return Err(ParamError::Invalid {
            name: "condition",
            value: condition,
            expected: "a finite number >= 1",
        });
    }
    if dim == 0 {
        return Err(ParamError::Invalid {
            name: "dim",
            value: 0.0,
            expected: "at least 1",
        });
    }
    let g = DMatrix::from_fn(dim, dim, |_, _| rng.sample::<f64, _>(StandardNormal));
    let qr = g.qr();
    let mut q = qr.q();
    let r = qr.r();
    for j in 0..dim {
        if r[(j, j)] < 0.0 {
            q.column_mut(j).neg_mut();
        }
    }
    let eigen = DVector::from_iterator(
        dim,
        (0..dim).map(|i| {
            let t = if dim == 1 {
                0.5
            } else {
                i as f64 / (dim - 1) as f64
            };
            condition.powf(t - 0.5)
        }),
    );
    let cov = &q * DMatrix::from_diagonal(&eigen) * q.transpose();
    Ok((&cov + cov.transpose()) * 0.5)
}

/// `n` draws of N(mean, cov) as `mean + L e` with `cov = L L^T` (Cholesky)
/// and `e` standard normal, rounded to f32.
pub fn sample<R: Rng + ?Sized>(
    n: usize,
    mean: &DVector<f64>,
    cov: &DMatrix<f64>,
    rng: &mut R,
) -> Result<Points, ParamError> {
    let d = mean.len();
    if cov.shape() != (d, d) {
        return Err(ParamError::Shape {
            what: "covariance",
            dims: vec![d, d],
            found: cov.len(),
        });
    }
    let factor = cholesky(cov)?;
    let mut data = Vec::with_capacity(n * d);
    let mut e = DVector::zeros(d);
    for _ in 0..n {
        for v in e.iter_mut() {
            *v = rng.sample::<f64, _>(StandardNormal);
        }
        let x = mean + &factor * &e;
        data.extend(x.iter().map(|&v| v as f32));
    }
    Points::new(n, d, data)
}

/// The lower Cholesky factor of a symmetric positive definite matrix.
pub fn cholesky(cov: &DMatrix<f64>) -> Result<DMatrix<f64>, ParamError> {
    let scale = cov.amax().max(f64::MIN_POSITIVE);
    let asymmetry = (cov - cov.transpose()).amax();
    if !cov.iter().all(|v| v.is_finite()) || asymmetry > 1e-9 * scale {
        return Err(ParamError::Invalid {
            name: "covariance",
            value: asymmetry,
            expected: "a finite symmetric matrix (the value is its largest asymmetry)",
        });
    }
    nalgebra::Cholesky::new(cov.clone())
        .map(|c| c.l())
        .ok_or(ParamError::Unsupported {
            what: "the covariance is not positive definite",
        })
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn random_spd_has_the_condition_number_asked() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let cov = random_spd(8, 25.0, &mut rng).unwrap();
        let eig = cov.clone().symmetric_eigen().eigenvalues;
        let (lo, hi) = (eig.min(), eig.max());
        assert!((hi / lo - 25.0).abs() < 1e-9, "{}", hi / lo);
        assert!((lo * hi - 1.0).abs() < 1e-9);
        assert!((&cov - cov.transpose()).amax() < 1e-14);
    }

    #[test]
    fn samples_match_mean_and_covariance() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let d = 6;
        let cov = random_spd(d, 10.0, &mut rng).unwrap();
        let mean = random_mean(d, 2.0, &mut rng);
        let n = 200_000;
        let pts = sample(n, &mean, &cov, &mut rng).unwrap();
        let data = DMatrix::from_row_iterator(n, d, pts.data.iter().map(|&v| f64::from(v)));
        let m = DVector::from_iterator(d, data.column_iter().map(|c| c.mean()));
        let centred = DMatrix::from_fn(n, d, |i, j| data[(i, j)] - m[j]);
        let c = centred.transpose() * &centred / (n - 1) as f64;
        // Sampling error of a mean is sqrt(var / n), about 0.002 here for
        // variances up to ~3; of a covariance entry, about sqrt(2 var^2 / n).
        for j in 0..d {
            let se = (cov[(j, j)] / n as f64).sqrt();
            assert!((m[j] - mean[j]).abs() < 5.0 * se, "mean {j}");
        }
        for i in 0..d {
            for j in 0..d {
                let se = ((cov[(i, i)] * cov[(j, j)] + cov[(i, j)].powi(2)) / n as f64).sqrt();
                assert!(
                    (c[(i, j)] - cov[(i, j)]).abs() < 5.0 * se,
                    "cov {i},{j}: {} vs {}",
                    c[(i, j)],
                    cov[(i, j)]
                );
            }
        }
    }

    #[test]
    fn rejects_what_is_not_a_covariance() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mean = DVector::zeros(2);
        let asym = DMatrix::from_row_slice(2, 2, &[1.0, 0.5, 0.0, 1.0]);
        assert!(sample(3, &mean, &asym, &mut rng).is_err());
        let indefinite = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 1.0]);
        assert!(sample(3, &mean, &indefinite, &mut rng).is_err());
        assert!(random_spd(3, 0.5, &mut rng).is_err());
    }
}
