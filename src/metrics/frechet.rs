//! Fréchet (2-Wasserstein) distance between Gaussians, as used by FID, and
//! the closed-form optimal transport map between two centred Gaussians.

use nalgebra::{DMatrix, DVector, SymmetricEigen};

use super::MetricError;
use super::gaussian::Gaussian;

/// Squared Fréchet distance between Gaussians fitted (unbiased covariance)
/// to two `n x d` and `m x d` row-major feature sets: the FID formula
/// `||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1^{1/2} S2 S1^{1/2})^{1/2})`.
pub fn frechet_distance(x: &[f32], y: &[f32], d: usize) -> Result<f64, MetricError> {
    frechet_distance_gaussians(&Gaussian::fit(x, d)?, &Gaussian::fit(y, d)?)
}

/// Squared Fréchet distance between two Gaussians (see [`frechet_distance`]).
///
/// The matrix square roots come from symmetric eigendecompositions with
/// slightly negative eigenvalues (rounding noise) clamped to zero, which
/// avoids the complex intermediates of a general `sqrtm`. The result is
/// not clamped, so identical inputs may give a value of order `-1e-12`.
pub fn frechet_distance_gaussians(p: &Gaussian, q: &Gaussian) -> Result<f64, MetricError> {
    if p.dim() != q.dim() {
        return Err(MetricError::DimensionMismatch {
            left: p.dim(),
            right: q.dim(),
        });
    }
    let root = sqrtm_psd(p.cov())?;
    // tr((S1^{1/2} S2 S1^{1/2})^{1/2}) is the sum of the square roots of the
    // eigenvalues of the PSD middle matrix; no need to form its root.
    let cross_trace: f64 = psd_eigen(&(&root * q.cov() * &root))?
        .eigenvalues
        .iter()
        .map(|v| v.sqrt())
        .sum();
    Ok(
        (p.mean() - q.mean()).norm_squared() + p.cov().trace() + q.cov().trace()
            - 2.0 * cross_trace,
    )
}

/// Symmetric positive semi-definite square root `R` of `matrix`, so that
/// `R R = matrix` and `R` is itself symmetric PSD. The input is symmetrised
/// first and negative eigenvalues are treated as zero.
pub fn sqrtm_psd(matrix: &DMatrix<f64>) -> Result<DMatrix<f64>, MetricError> {
    let eigen = psd_eigen(matrix)?;
    Ok(compose(&eigen, f64::sqrt))
}

/// Matrix `A` of the optimal transport map `x -> m + A x` from `N(0, S1)` to
/// `N(m, S2)`: `A = S1^{-1/2} (S1^{1/2} S2 S1^{1/2})^{1/2} S1^{-1/2}`.
/// `A` is symmetric PSD and satisfies `A S1 A^T = S2`. `S1` must be
/// positive definite; `S2` may be singular.
pub fn gaussian_ot_map(s1: &DMatrix<f64>, s2: &DMatrix<f64>) -> Result<DMatrix<f64>, MetricError> {
    let eigen = psd_eigen(s1)?;
    let (rows, cols) = s2.shape();
    if rows != cols {
        return Err(MetricError::NotSquare { rows, cols });
    }
    if rows != s1.nrows() {
        return Err(MetricError::DimensionMismatch {
            left: s1.nrows(),
            right: rows,
        });
    }
    let largest = eigen.eigenvalues.max();
    let smallest = eigen.eigenvalues.min();
    // Below this relative size an eigenvalue is indistinguishable from
    // rounding noise, and inverting it would blow the map up.
    if smallest <= largest * f64::EPSILON * s1.nrows() as f64 {
        return Err(MetricError::NotPositiveDefinite {
            min_eigenvalue: smallest,
        });
    }
    let root = compose(&eigen, f64::sqrt);
    let inverse_root = compose(&eigen, |v| 1.0 / v.sqrt());
    let middle = sqrtm_psd(&(&root * s2 * &root))?;
    Ok(symmetrize(&(&inverse_root * middle * &inverse_root)))
}

/// Eigendecomposition of a symmetric matrix with negative eigenvalues
/// clamped to zero; rejects non-square and non-finite input, on which the
/// eigen solver would panic or fail to converge.
fn psd_eigen(matrix: &DMatrix<f64>) -> Result<SymmetricEigen<f64, nalgebra::Dyn>, MetricError> {
    let (rows, cols) = matrix.shape();
    if rows != cols {
        return Err(MetricError::NotSquare { rows, cols });
    }
    if rows == 0 {
        return Err(MetricError::Empty { what: "matrix" });
    }
    if matrix.iter().any(|v| !v.is_finite()) {
        return Err(MetricError::NonFinite { what: "matrix" });
    }
    let mut eigen = SymmetricEigen::new(symmetrize(matrix));
    eigen.eigenvalues.apply(|v| *v = v.max(0.0));
    Ok(eigen)
}

/// `V f(Λ) V^T` for the eigendecomposition `V Λ V^T`.
fn compose(eigen: &SymmetricEigen<f64, nalgebra::Dyn>, f: impl Fn(f64) -> f64) -> DMatrix<f64> {
    let values: DVector<f64> = eigen.eigenvalues.map(f);
    let vectors = &eigen.eigenvectors;
    symmetrize(&(vectors * DMatrix::from_diagonal(&values) * vectors.transpose()))
}

/// `(M + M^T) / 2`: removes the asymmetry that products of symmetric
/// matrices pick up from rounding.
fn symmetrize(matrix: &DMatrix<f64>) -> DMatrix<f64> {
    (matrix + matrix.transpose()) * 0.5
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn gaussian(mean: &[f64], cov: &[f64]) -> Gaussian {
        let d = mean.len();
        Gaussian::new(
            DVector::from_row_slice(mean),
            DMatrix::from_row_slice(d, d, cov),
        )
        .unwrap()
    }

    /// A random symmetric positive definite matrix `B B^T + 0.1 I`.
    fn random_spd(rng: &mut ChaCha8Rng, d: usize) -> DMatrix<f64> {
        let b = DMatrix::from_fn(d, d, |_, _| rng.random_range(-1.0..1.0));
        &b * b.transpose() + DMatrix::identity(d, d) * 0.1
    }

    fn max_abs_diff(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
        (a - b).abs().max()
    }

    #[test]
    fn diagonal_closed_form() {
        // Commuting covariances: ||mu||^2 + sum (sqrt(a) - sqrt(b))^2
        // = (1 + 4) + (2 - 1)^2 + (3 - 0.5)^2 = 12.25.
        let p = gaussian(&[0.0, 0.0], &[4.0, 0.0, 0.0, 9.0]);
        let q = gaussian(&[1.0, -2.0], &[1.0, 0.0, 0.0, 0.25]);
        let value = frechet_distance_gaussians(&p, &q).unwrap();
        assert!((value - 12.25).abs() < 1e-12, "{value}");
    }

    #[test]
    fn one_dimensional_closed_form() {
        // (3 - 1)^2 + (sqrt(2) - sqrt(8))^2 = 4 + 2.
        let value =
            frechet_distance_gaussians(&gaussian(&[1.0], &[2.0]), &gaussian(&[3.0], &[8.0]))
                .unwrap();
        assert!((value - 6.0).abs() < 1e-12, "{value}");
    }

    #[test]
    fn symmetric_for_non_commuting_covariances() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mean = DVector::from_fn(4, |_, _| rng.random_range(-1.0..1.0));
        let p = Gaussian::new(mean, random_spd(&mut rng, 4)).unwrap();
        let q = Gaussian::new(DVector::zeros(4), random_spd(&mut rng, 4)).unwrap();
        let forward = frechet_distance_gaussians(&p, &q).unwrap();
        let backward = frechet_distance_gaussians(&q, &p).unwrap();
        assert!(forward > 0.0);
        assert!(
            (forward - backward).abs() < 1e-10,
            "{forward} vs {backward}"
        );
    }

    #[test]
    fn identical_sets_are_near_zero() {
        let x = [0.0, 1.0, 2.0, -1.0, 0.5, 0.5, 3.0, 2.0, -1.0, 0.0];
        let value = frechet_distance(&x, &x, 2).unwrap();
        assert!(value.abs() < 1e-12, "{value}");
    }

    #[test]
    fn shifted_sets_differ_by_the_squared_shift() {
        // A translation leaves the covariance unchanged, so only the mean
        // term remains: 1^2 + 2^2.
        let x = [0.0, 1.0, 2.0, -1.0, 0.5, 0.5, 3.0, 2.0, -1.0, 0.0];
        let y: Vec<f32> = x.chunks(2).flat_map(|p| [p[0] + 1.0, p[1] - 2.0]).collect();
        let value = frechet_distance(&x, &y, 2).unwrap();
        assert!((value - 5.0).abs() < 1e-9, "{value}");
    }

    #[test]
    fn sqrtm_squares_back_and_clamps_noise() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let s = random_spd(&mut rng, 5);
        let root = sqrtm_psd(&s).unwrap();
        assert!(max_abs_diff(&(&root * &root), &s) < 1e-12);
        let noisy = DMatrix::from_row_slice(2, 2, &[4.0, 0.0, 0.0, -1e-14]);
        let expected = DMatrix::from_row_slice(2, 2, &[2.0, 0.0, 0.0, 0.0]);
        assert_eq!(sqrtm_psd(&noisy).unwrap(), expected);
    }

    #[test]
    fn ot_map_pushes_s1_to_s2() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for d in [1, 2, 6] {
            let s1 = random_spd(&mut rng, d);
            let s2 = random_spd(&mut rng, d);
            let a = gaussian_ot_map(&s1, &s2).unwrap();
            assert!(max_abs_diff(&(&a * &s1 * a.transpose()), &s2) < 1e-9);
            assert_eq!(a, a.transpose());
            let eigenvalues = SymmetricEigen::new(a).eigenvalues;
            assert!(eigenvalues.min() >= 0.0, "{eigenvalues}");
        }
    }

    #[test]
    fn ot_map_one_dimensional() {
        // N(0, 4) -> N(m, 9) is x -> 1.5 x.
        let a = gaussian_ot_map(
            &DMatrix::from_element(1, 1, 4.0),
            &DMatrix::from_element(1, 1, 9.0),
        )
        .unwrap();
        assert!((a[(0, 0)] - 1.5).abs() < 1e-12);
    }

    #[test]
    fn rejects_bad_matrices() {
        let singular = DMatrix::from_row_slice(2, 2, &[1.0, 1.0, 1.0, 1.0]);
        assert!(matches!(
            gaussian_ot_map(&singular, &DMatrix::identity(2, 2)),
            Err(MetricError::NotPositiveDefinite { .. })
        ));
        assert_eq!(
            sqrtm_psd(&DMatrix::zeros(2, 3)).unwrap_err(),
            MetricError::NotSquare { rows: 2, cols: 3 }
        );
        let nan = DMatrix::from_element(2, 2, f64::NAN);
        assert!(matches!(
            sqrtm_psd(&nan),
            Err(MetricError::NonFinite { .. })
        ));
        assert_eq!(
            gaussian_ot_map(&DMatrix::identity(2, 2), &DMatrix::identity(3, 3)).unwrap_err(),
            MetricError::DimensionMismatch { left: 2, right: 3 }
        );
        let p = gaussian(&[0.0], &[1.0]);
        let q = gaussian(&[0.0, 0.0], &[1.0, 0.0, 0.0, 1.0]);
        assert_eq!(
            frechet_distance_gaussians(&p, &q).unwrap_err(),
            MetricError::DimensionMismatch { left: 1, right: 2 }
        );
    }
}
