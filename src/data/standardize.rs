//! Standardising point clouds per coordinate.

use super::error::ParamError;
use super::points::Points;

/// Per-coordinate statistics, fitted once (e.g. on a training set) and
/// applied to any set of the same dimension.
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer {
    pub mean: Vec<f32>,
    /// Population standard deviation (as sklearn's `StandardScaler`); a
    /// constant coordinate gets 1 so that it is only centred.
    pub std: Vec<f32>,
}

impl Standardizer {
    /// Fits the mean and standard deviation of every coordinate.
    pub fn fit(points: &Points) -> Result<Self, ParamError> {
        points.check()?;
        if points.n == 0 {
            return Err(ParamError::Invalid {
                name: "number of points",
                value: 0.0,
                expected: "at least 1 to fit statistics",
            });
        }
        let n = points.n as f64;
        let mut sum = vec![0.0f64; points.d];
        for row in points.rows() {
            sum.iter_mut()
                .zip(row)
                .for_each(|(s, &v)| *s += f64::from(v));
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let mut squares = vec![0.0f64; points.d];
        for row in points.rows() {
            for ((s, &v), m) in squares.iter_mut().zip(row).zip(&mean) {
                *s += (f64::from(v) - m).powi(2);
            }
        }
        let std = squares
            .iter()
            .map(|s| {
                let std = (s / n).sqrt();
                if std > 0.0 { std as f32 } else { 1.0 }
            })
            .collect();
        Ok(Self {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std,
        })
    }

    /// `(x - mean) / std` per coordinate.
    pub fn apply(&self, points: &Points) -> Result<Points, ParamError> {
        points.check()?;
        if points.d != self.mean.len() {
            return Err(ParamError::Dim {
                op: "standardize",
                expected: self.mean.len(),
                found: points.d,
            });
        }
        let mut data = Vec::with_capacity(points.data.len());
        for row in points.rows() {
            data.extend(
                row.iter()
                    .zip(&self.mean)
                    .zip(&self.std)
                    .map(|((v, m), s)| (v - m) / s),
            );
        }
        Ok(Points { data, ..*points })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_and_apply_by_hand() {
        // x: 0, 2, 4 (mean 2, std sqrt(8/3)); y constant 10 (std -> 1).
        let train = Points::new(3, 2, vec![0.0, 10.0, 2.0, 10.0, 4.0, 10.0]).unwrap();
        let stats = Standardizer::fit(&train).unwrap();
        assert_eq!(stats.mean, vec![2.0, 10.0]);
        assert!((stats.std[0] - (8.0f32 / 3.0).sqrt()).abs() < 1e-6);
        assert_eq!(stats.std[1], 1.0);
        let s = (8.0f32 / 3.0).sqrt();
        let out = stats.apply(&train).unwrap();
        let want = [-2.0 / s, 0.0, 0.0, 0.0, 2.0 / s, 0.0];
        for (g, w) in out.data.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{:?}", out.data);
        }
        // A test set reuses the training statistics.
        let test = Points::new(1, 2, vec![6.0, 12.0]).unwrap();
        let out = stats.apply(&test).unwrap();
        assert!(
            (out.data[0] - 4.0 / s).abs() < 1e-6 && out.data[1] == 2.0,
            "{:?}",
            out.data
        );
    }

    #[test]
    fn empty_sets_and_dimension_mismatches_are_errors() {
        assert!(Standardizer::fit(&Points::new(0, 2, vec![]).unwrap()).is_err());
        let stats = Standardizer::fit(&Points::new(1, 2, vec![1.0, 2.0]).unwrap()).unwrap();
        let err = stats
            .apply(&Points::new(1, 3, vec![0.0; 3]).unwrap())
            .unwrap_err();
        assert_eq!(
            err,
            ParamError::Dim {
                op: "standardize",
                expected: 2,
                found: 3
            }
        );
    }
}
