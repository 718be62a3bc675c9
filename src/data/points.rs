//! The point-cloud type of the 2-D toys.

use super::error::ParamError;

/// `n` points of dimension `d`, row-major [n, d].
#[derive(Clone, Debug, PartialEq)]
pub struct Points {
    pub n: usize,
    pub d: usize,
    pub data: Vec<f32>,
}

impl Points {
    /// Builds a point set, checking that `data` holds exactly `n * d` values.
    pub fn new(n: usize, d: usize, data: Vec<f32>) -> Result<Self, ParamError> {
        let points = Self { n, d, data };
        points.check()?;
        Ok(points)
    }

    /// Checks that the fields agree with the length of `data`.
    pub fn check(&self) -> Result<(), ParamError> {
        if self.n.checked_mul(self.d) == Some(self.data.len()) {
            Ok(())
        } else {
            Err(ParamError::Shape {
                what: "point set",
                dims: vec![self.n, self.d],
                found: self.data.len(),
            })
        }
    }

    /// The rows, one slice of `d` values per point.
    pub fn rows(&self) -> impl Iterator<Item = &[f32]> {
        // `max(1)` keeps `chunks_exact` defined for d = 0 (which yields no rows).
        self.data.chunks_exact(self.d.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_checks_the_length() {
        assert!(Points::new(3, 2, vec![0.0; 6]).is_ok());
        let err = Points::new(3, 2, vec![0.0; 5]).unwrap_err();
        assert!(err.to_string().contains("[3, 2]"), "{err}");
    }

    #[test]
    fn rows_splits_by_dimension() {
        let points = Points::new(2, 2, vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        let rows: Vec<&[f32]> = points.rows().collect();
        assert_eq!(rows, vec![&[1.0, 2.0][..], &[3.0, 4.0][..]]);
    }
}
