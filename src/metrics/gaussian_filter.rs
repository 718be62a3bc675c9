//! Separable 2-D Gaussian smoothing with the kernel and border rule of
//! `scipy.ndimage.gaussian_filter` (which scikit-image's SSIM calls), so
//! that SSIM values match the reference implementation.

/// A normalised, truncated 1-D Gaussian kernel applied along both axes.
#[derive(Debug, Clone)]
pub(crate) struct GaussianFilter {
    weights: Vec<f64>,
}

impl GaussianFilter {
    /// The kernel scipy builds: radius `int(truncate * sigma + 0.5)`,
    /// weights `exp(-x^2 / (2 sigma^2))` normalised to sum to one.
    pub(crate) fn new(sigma: f64, truncate: f64) -> Self {
        // Truncation toward zero after adding 0.5 is scipy's rounding rule.
        let radius = (truncate * sigma + 0.5) as i64;
        let raw: Vec<f64> = (-radius..=radius)
            .map(|x| (-0.5 * (x as f64 / sigma).powi(2)).exp())
            .collect();
        let total: f64 = raw.iter().sum();
        Self {
            weights: raw.into_iter().map(|w| w / total).collect(),
        }
    }

    /// Side length of the square window (`2 * radius + 1`).
    pub(crate) fn window(&self) -> usize {
        self.weights.len()
    }

    /// Smooths a row-major `height x width` image, rows first then columns
    /// (scipy's axis order), with `mode='reflect'` borders.
    pub(crate) fn apply(&self, image: &[f64], height: usize, width: usize) -> Vec<f64> {
        let mut along_rows = vec![0.0; image.len()];
        for x in 0..width {
            for y in 0..height {
                along_rows[y * width + x] = self.sample(y, height, |yy| image[yy * width + x]);
            }
        }
        let mut out = vec![0.0; image.len()];
        for y in 0..height {
            let row = &along_rows[y * width..(y + 1) * width];
            for x in 0..width {
                out[y * width + x] = self.sample(x, width, |xx| row[xx]);
            }
        }
        out
    }

    /// Weighted sum of the kernel centred at `center` on a line of `len` values.
    fn sample(&self, center: usize, len: usize, value: impl Fn(usize) -> f64) -> f64 {
        let radius = (self.weights.len() / 2) as i64;
        self.weights
            .iter()
            .zip(-radius..=radius)
            .map(|(w, offset)| w * value(reflect(center as i64 + offset, len)))
            .sum()
    }
}

/// scipy's `reflect` border (`d c b a | a b c d | d c b a`): the edge sample
/// is repeated, and the pattern has period `2 * len`.
fn reflect(index: i64, len: usize) -> usize {
    let period = 2 * len as i64;
    let folded = index.rem_euclid(period);
    let folded = if folded >= len as i64 {
        period - 1 - folded
    } else {
        folded
    };
    folded as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_matches_scipy() {
        let filter = GaussianFilter::new(1.5, 3.5);
        assert_eq!(filter.window(), 11);
        let sum: f64 = filter.weights.iter().sum();
        assert!((sum - 1.0).abs() < 1e-15);
        // Centre weight of scipy's _gaussian_kernel1d(1.5, 0, 5).
        assert!((filter.weights[5] - 0.266_011_724_861_794_36).abs() < 1e-12);
    }

    #[test]
    fn reflect_repeats_the_edge() {
        let mapped: Vec<usize> = (-3..7).map(|i| reflect(i, 3)).collect();
        assert_eq!(mapped, vec![2, 1, 0, 0, 1, 2, 2, 1, 0, 0]);
    }

    #[test]
    fn constant_image_is_unchanged() {
        let filter = GaussianFilter::new(1.5, 3.5);
        let smoothed = filter.apply(&[0.25; 12 * 13], 12, 13);
        assert!(smoothed.iter().all(|v| (v - 0.25).abs() < 1e-15));
    }
}
