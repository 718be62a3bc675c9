//! Mean squared error and peak signal-to-noise ratio of one image pair.

use super::MetricError;

/// Mean squared difference between two equally sized buffers.
pub fn mse(a: &[f32], b: &[f32]) -> Result<f64, MetricError> {
    if a.len() != b.len() {
        return Err(MetricError::LengthMismatch {
            expected: a.len(),
            actual: b.len(),
        });
    }
    if a.is_empty() {
        return Err(MetricError::Empty { what: "image" });
    }
    let sum: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| {
            let diff = f64::from(x) - f64::from(y);
            diff * diff
        })
        .sum();
    Ok(sum / a.len() as f64)
}

/// PSNR in decibels, `10 * log10(data_range^2 / MSE)`, of a single image
/// pair; `data_range` is the span of valid pixel values (2 for images in
/// `[-1, 1]`). Pixels are not clipped to that range first.
///
/// Identical images have zero MSE and yield `f64::INFINITY`, the limit of
/// the formula, rather than an error: a perfect reconstruction is a valid
/// outcome, and callers averaging PSNR over a batch must decide how to treat it.
pub fn psnr(a: &[f32], b: &[f32], data_range: f64) -> Result<f64, MetricError> {
    if !(data_range.is_finite() && data_range > 0.0) {
        return Err(MetricError::NonPositive {
            what: "data range",
            value: data_range,
        });
    }
    let mse = mse(a, b)?;
    Ok(10.0 * (data_range * data_range / mse).log10())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mse_by_hand() {
        // Differences 1 and 3: (1 + 9) / 2.
        assert_eq!(mse(&[0.0, 0.0], &[1.0, -3.0]).unwrap(), 5.0);
    }

    #[test]
    fn psnr_by_hand() {
        // Every pixel off by 0.02 with range 2: MSE = 4e-4, ratio 1e4, 40 dB.
        let a = [0.5_f32; 16];
        let b = [0.52_f32; 16];
        let value = psnr(&a, &b, 2.0).unwrap();
        assert!((value - 40.0).abs() < 1e-4, "{value}");
    }

    #[test]
    fn identical_images_are_infinite() {
        let a = [0.1_f32, -0.7, 0.3];
        assert_eq!(psnr(&a, &a, 2.0).unwrap(), f64::INFINITY);
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(
            mse(&[1.0], &[1.0, 2.0]).unwrap_err(),
            MetricError::LengthMismatch {
                expected: 1,
                actual: 2
            }
        );
        assert!(matches!(mse(&[], &[]), Err(MetricError::Empty { .. })));
        assert!(matches!(
            psnr(&[1.0], &[0.0], 0.0),
            Err(MetricError::NonPositive { .. })
        ));
    }
}
