//! Structural similarity (SSIM, Wang et al. 2004), computed exactly as
//! `skimage.metrics.structural_similarity(a, b, data_range=R,
//! gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
//! channel_axis=0)` does for float64 input.

use super::MetricError;
use super::gaussian_filter::GaussianFilter;

/// Stabilising constant of the luminance term, relative to the data range.
const K1: f64 = 0.01;
/// Stabilising constant of the contrast-structure term.
const K2: f64 = 0.03;
/// Standard deviation of the Gaussian window, in pixels.
const SIGMA: f64 = 1.5;
/// scikit-image truncates the Gaussian at 3.5 sigma: an 11x11 window.
const TRUNCATE: f64 = 3.5;

/// Mean SSIM of two images laid out `[channels, height, width]` row-major.
///
/// Local means, variances and covariance come from an 11x11 Gaussian window
/// (sigma 1.5, reflected borders) with population (not sample) normalisation.
/// The per-pixel SSIM map is averaged after cropping `(11 - 1) / 2 = 5`
/// pixels from every border, and the result is the mean over channels.
/// `data_range` is the span of valid pixel values (2 for images in `[-1, 1]`).
pub fn ssim(
    a: &[f32],
    b: &[f32],
    channels: usize,
    height: usize,
    width: usize,
    data_range: f64,
) -> Result<f64, MetricError> {
    if channels == 0 {
        return Err(MetricError::Empty { what: "channels" });
    }
    if !(data_range.is_finite() && data_range > 0.0) {
        return Err(MetricError::NonPositive {
            what: "data range",
            value: data_range,
        });
    }
    let filter = GaussianFilter::new(SIGMA, TRUNCATE);
    let window = filter.window();
    if height < window || width < window {
        return Err(MetricError::ImageTooSmall {
            height,
            width,
            window,
        });
    }
    let plane = height * width;
    for buffer in [a, b] {
        if buffer.len() != channels * plane {
            return Err(MetricError::LengthMismatch {
                expected: channels * plane,
                actual: buffer.len(),
            });
        }
    }
    let total: f64 = a
        .chunks_exact(plane)
        .zip(b.chunks_exact(plane))
        .map(|(x, y)| channel_ssim(&filter, x, y, height, width, data_range))
        .sum();
    Ok(total / channels as f64)
}

/// Mean of the cropped SSIM map of one channel.
fn channel_ssim(
    filter: &GaussianFilter,
    x: &[f32],
    y: &[f32],
    height: usize,
    width: usize,
    data_range: f64,
) -> f64 {
    let blur = |values: Vec<f64>| filter.apply(&values, height, width);
    let pixels = || x.iter().zip(y).map(|(&p, &q)| (f64::from(p), f64::from(q)));
    let mean_x = blur(pixels().map(|(p, _)| p).collect());
    let mean_y = blur(pixels().map(|(_, q)| q).collect());
    let mean_xx = blur(pixels().map(|(p, _)| p * p).collect());
    let mean_yy = blur(pixels().map(|(_, q)| q * q).collect());
    let mean_xy = blur(pixels().map(|(p, q)| p * q).collect());

    let c1 = (K1 * data_range).powi(2);
    let c2 = (K2 * data_range).powi(2);
    let pad = (filter.window() - 1) / 2;
    let mut sum = 0.0;
    for row in pad..height - pad {
        for col in pad..width - pad {
            let i = row * width + col;
            let (ux, uy) = (mean_x[i], mean_y[i]);
            let vx = mean_xx[i] - ux * ux;
            let vy = mean_yy[i] - uy * uy;
            let vxy = mean_xy[i] - ux * uy;
            sum += ((2.0 * ux * uy + c1) * (2.0 * vxy + c2))
                / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
        }
    }
    sum / ((height - 2 * pad) * (width - 2 * pad)) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic, texture-rich image with values in `[0, 1]`.
    fn texture(len: usize) -> Vec<f32> {
        (0..len).map(|i| ((i * 37) % 101) as f32 / 100.0).collect()
    }

    #[test]
    fn identical_images_score_one() {
        let image = texture(2 * 12 * 14);
        let value = ssim(&image, &image, 2, 12, 14, 2.0).unwrap();
        assert!((value - 1.0).abs() < 1e-12, "{value}");
    }

    #[test]
    fn inverted_image_scores_below_zero() {
        // `1 - x` keeps local means near 0.5 (luminance term near 1) but
        // flips the sign of every local covariance, so SSIM must go negative.
        let image = texture(16 * 16);
        let inverted: Vec<f32> = image.iter().map(|v| 1.0 - v).collect();
        let value = ssim(&image, &inverted, 1, 16, 16, 1.0).unwrap();
        assert!(value < 0.0, "{value}");
    }

    #[test]
    fn rejects_bad_input() {
        let image = texture(11 * 11);
        assert!(matches!(
            ssim(&image, &image, 1, 10, 12, 2.0),
            Err(MetricError::ImageTooSmall { window: 11, .. })
        ));
        assert_eq!(
            ssim(&image, &image[1..], 1, 11, 11, 2.0).unwrap_err(),
            MetricError::LengthMismatch {
                expected: 121,
                actual: 120
            }
        );
        assert!(matches!(
            ssim(&image, &image, 1, 11, 11, -1.0),
            Err(MetricError::NonPositive { .. })
        ));
        assert!(matches!(
            ssim(&image, &image, 0, 11, 11, 2.0),
            Err(MetricError::Empty { .. })
        ));
    }
}
