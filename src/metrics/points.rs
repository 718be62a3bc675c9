//! A borrowed, validated view of a row-major `n x dim` point cloud.

use super::MetricError;

/// `n` points of dimension `dim`, stored row-major in a flat slice.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Points<'a> {
    data: &'a [f32],
    dim: usize,
}

impl<'a> Points<'a> {
    /// Checks that `data` splits into at least one row of width `dim`.
    pub(crate) fn new(data: &'a [f32], dim: usize) -> Result<Self, MetricError> {
        if dim == 0 {
            return Err(MetricError::Empty {
                what: "point dimension",
            });
        }
        if data.is_empty() {
            return Err(MetricError::Empty {
                what: "point cloud",
            });
        }
        if !data.len().is_multiple_of(dim) {
            return Err(MetricError::RaggedRows {
                len: data.len(),
                dim,
            });
        }
        Ok(Self { data, dim })
    }

    /// Number of points.
    pub(crate) fn len(&self) -> usize {
        self.data.len() / self.dim
    }

    /// The points, one slice of length `dim` each.
    pub(crate) fn rows(&self) -> impl ExactSizeIterator<Item = &'a [f32]> + Clone {
        self.data.chunks_exact(self.dim)
    }

    /// Fails unless there are at least `needed` points.
    pub(crate) fn require(&self, what: &'static str, needed: usize) -> Result<(), MetricError> {
        if self.len() < needed {
            return Err(MetricError::TooFewSamples {
                what,
                needed,
                actual: self.len(),
            });
        }
        Ok(())
    }
}

/// Squared Euclidean distance, accumulated in f64 so that large dimensions
/// do not lose the small differences that matter near zero.
pub(crate) fn squared_distance(a: &[f32], b: &[f32]) -> f64 {
    // Eight independent partial sums let the compiler vectorise the loop; a
    // single running sum would serialise every add on the previous one.
    const LANES: usize = 8;
    let mut partial = [0.0_f64; LANES];
    let (chunks_a, chunks_b) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f64 = chunks_a
        .remainder()
        .iter()
        .zip(chunks_b.remainder())
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    for (xs, ys) in chunks_a.zip(chunks_b) {
        for ((sum, &x), &y) in partial.iter_mut().zip(xs).zip(ys) {
            let diff = f64::from(x) - f64::from(y);
            *sum += diff * diff;
        }
    }
    partial.iter().sum::<f64>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_rows() {
        let data = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let points = Points::new(&data, 3).unwrap();
        assert_eq!(points.len(), 2);
        let rows: Vec<_> = points.rows().collect();
        assert_eq!(rows, vec![&[1.0, 2.0, 3.0][..], &[4.0, 5.0, 6.0][..]]);
    }

    #[test]
    fn rejects_bad_shapes() {
        assert_eq!(
            Points::new(&[1.0, 2.0, 3.0], 2).unwrap_err(),
            MetricError::RaggedRows { len: 3, dim: 2 }
        );
        assert!(matches!(
            Points::new(&[], 2),
            Err(MetricError::Empty { .. })
        ));
        assert!(matches!(
            Points::new(&[1.0], 0),
            Err(MetricError::Empty { .. })
        ));
    }

    #[test]
    fn squared_distance_is_pythagorean() {
        assert_eq!(squared_distance(&[0.0, 0.0], &[3.0, 4.0]), 25.0);
        // 19 coordinates exercise both the 8-wide chunks and the remainder:
        // differences 1..=19 give 19 * 20 * 39 / 6.
        let a: Vec<f32> = (1..=19).map(|i| i as f32).collect();
        assert_eq!(squared_distance(&a, &[0.0; 19]), 2470.0);
    }
}
