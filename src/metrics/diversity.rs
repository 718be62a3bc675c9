//! Sample diversity of a conditional generator: how much its outputs vary
//! across latent draws `z` for the same input.

use super::MetricError;

/// Diversity of `samples` laid out `[n_inputs, n_z, d]` row-major: `n_z`
/// outputs of `d` pixels for each input. For each input and pixel, the
/// unbiased variance (divided by `n_z - 1`) across the `n_z` outputs;
/// averaged over pixels, then over inputs. Zero when every input always
/// produces the same output. Needs `n_z >= 2`.
pub fn diversity(
    samples: &[f32],
    n_inputs: usize,
    n_z: usize,
    d: usize,
) -> Result<f64, MetricError> {
    if n_inputs == 0 {
        return Err(MetricError::Empty { what: "inputs" });
    }
    if d == 0 {
        return Err(MetricError::Empty {
            what: "sample dimension",
        });
    }
    if n_z < 2 {
        return Err(MetricError::TooFewSamples {
            what: "variance across z",
            needed: 2,
            actual: n_z,
        });
    }
    let expected = n_inputs * n_z * d;
    if samples.len() != expected {
        return Err(MetricError::LengthMismatch {
            expected,
            actual: samples.len(),
        });
    }
    let total: f64 = samples
        .chunks_exact(n_z * d)
        .map(|outputs| summed_squared_deviation(outputs, d))
        .sum();
    // Every input has the same number of pixels, so the mean over inputs of
    // per-input pixel means is one overall mean.
    Ok(total / ((n_z - 1) * n_inputs * d) as f64)
}

/// Sum over pixels of the squared deviations of the rows of `outputs`
/// (`n_z x d`) from their mean row; two passes for numerical stability.
fn summed_squared_deviation(outputs: &[f32], d: usize) -> f64 {
    let rows = (outputs.len() / d) as f64;
    let mut mean = vec![0.0_f64; d];
    for row in outputs.chunks_exact(d) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += f64::from(v);
        }
    }
    mean.iter_mut().for_each(|m| *m /= rows);
    outputs
        .chunks_exact(d)
        .flat_map(|row| row.iter().zip(&mean))
        .map(|(&v, m)| (f64::from(v) - m).powi(2))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        // Input 0 draws (0, 0) and (2, 4): pixel variances 2 and 8, mean 5.
        // Input 1 draws (1, 1) twice: variance 0. Mean over inputs 2.5.
        let samples = [0.0, 0.0, 2.0, 4.0, 1.0, 1.0, 1.0, 1.0];
        assert_eq!(diversity(&samples, 2, 2, 2).unwrap(), 2.5);
    }

    #[test]
    fn uses_the_unbiased_normaliser() {
        // Draws 1, 2, 3 of one pixel: squared deviations sum to 2, over n_z - 1.
        assert_eq!(diversity(&[1.0, 2.0, 3.0], 1, 3, 1).unwrap(), 1.0);
    }

    #[test]
    fn constant_outputs_have_zero_diversity() {
        let samples = [0.3, -0.2, 0.3, -0.2, 0.3, -0.2];
        assert_eq!(diversity(&samples, 1, 3, 2).unwrap(), 0.0);
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(
            diversity(&[1.0, 2.0], 1, 1, 2).unwrap_err(),
            MetricError::TooFewSamples {
                what: "variance across z",
                needed: 2,
                actual: 1
            }
        );
        assert_eq!(
            diversity(&[1.0, 2.0, 3.0], 1, 2, 2).unwrap_err(),
            MetricError::LengthMismatch {
                expected: 4,
                actual: 3
            }
        );
        assert!(matches!(
            diversity(&[], 0, 2, 2),
            Err(MetricError::Empty { .. })
        ));
    }
}
