//! A multivariate Gaussian fitted to a feature set by its sample moments.

use nalgebra::{DMatrix, DVector};

use super::MetricError;
use super::points::Points;

/// Mean and covariance of a `d`-dimensional Gaussian; the fields are
/// private so that their shapes always agree.
#[derive(Debug, Clone, PartialEq)]
pub struct Gaussian {
    mean: DVector<f64>,
    cov: DMatrix<f64>,
}

impl Gaussian {
    /// A Gaussian from a length-`d` mean and a `d x d` covariance (e.g.
    /// precomputed reference statistics). The covariance is not checked for
    /// symmetry or definiteness; consumers symmetrise it and clamp it to PSD.
    pub fn new(mean: DVector<f64>, cov: DMatrix<f64>) -> Result<Self, MetricError> {
        let (rows, cols) = cov.shape();
        if rows != cols {
            return Err(MetricError::NotSquare { rows, cols });
        }
        if rows != mean.len() {
            return Err(MetricError::DimensionMismatch {
                left: mean.len(),
                right: rows,
            });
        }
        Ok(Self { mean, cov })
    }

    /// Fits the sample mean and the unbiased sample covariance (normalised by
    /// `n - 1`, like `numpy.cov`) of `n >= 2` points stored row-major as `n x d`.
    pub fn fit(features: &[f32], d: usize) -> Result<Self, MetricError> {
        let points = Points::new(features, d)?;
        points.require("covariance", 2)?;
        let n = points.len();
        let data = DMatrix::from_row_iterator(n, d, features.iter().map(|&v| f64::from(v)));
        let mean = data.row_mean().transpose();
        let centered = DMatrix::from_fn(n, d, |i, j| data[(i, j)] - mean[j]);
        let cov = centered.tr_mul(&centered) / (n - 1) as f64;
        Ok(Self { mean, cov })
    }

    /// Mean vector, length `d`.
    pub fn mean(&self) -> &DVector<f64> {
        &self.mean
    }

    /// `d x d` covariance matrix.
    pub fn cov(&self) -> &DMatrix<f64> {
        &self.cov
    }

    /// Dimension of the space the Gaussian lives in.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_moments_by_hand() {
        // Points (0,0), (2,2), (4,-2): mean (2,0); deviations (-2,0), (0,2),
        // (2,-2); sums of products xx = 8, yy = 8, xy = -4, divided by n-1 = 2.
        let g = Gaussian::fit(&[0.0, 0.0, 2.0, 2.0, 4.0, -2.0], 2).unwrap();
        assert_eq!(g.dim(), 2);
        assert_eq!(g.mean(), &DVector::from_vec(vec![2.0, 0.0]));
        assert_eq!(
            g.cov(),
            &DMatrix::from_row_slice(2, 2, &[4.0, -2.0, -2.0, 4.0])
        );
    }

    #[test]
    fn new_checks_shapes() {
        assert_eq!(
            Gaussian::new(DVector::zeros(2), DMatrix::zeros(2, 3)).unwrap_err(),
            MetricError::NotSquare { rows: 2, cols: 3 }
        );
        assert_eq!(
            Gaussian::new(DVector::zeros(2), DMatrix::zeros(3, 3)).unwrap_err(),
            MetricError::DimensionMismatch { left: 2, right: 3 }
        );
    }

    #[test]
    fn needs_two_points() {
        assert_eq!(
            Gaussian::fit(&[1.0, 2.0], 2).unwrap_err(),
            MetricError::TooFewSamples {
                what: "covariance",
                needed: 2,
                actual: 1
            }
        );
    }
}
