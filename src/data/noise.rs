//! Additive Gaussian noise.

use rand::Rng;
use rand_distr::{Distribution, Normal};

use super::error::ParamError;
use super::images::Images;

/// Adds independent N(0, std^2) noise to every value, drawn in data order from
/// `rng` (seed it, e.g. `ChaCha8Rng::seed_from_u64`, for reproducible runs).
/// No clipping: the MNIST super-resolution protocol (docs/experiments.md,
/// section 5) keeps noisy inputs outside [-1, 1].
pub fn gaussian_noise<R: Rng + ?Sized>(
    images: &Images,
    std: f32,
    rng: &mut R,
) -> Result<Images, ParamError> {
    images.check()?;
    let normal = normal(std)?;
    let data = images
        .data
        .iter()
        .map(|&x| x + normal.sample(rng))
        .collect();
    Ok(Images { data, ..*images })
}

/// N(0, std^2), rejecting a negative or non-finite `std`.
pub(super) fn normal(std: f32) -> Result<Normal<f32>, ParamError> {
    let invalid = ParamError::Invalid {
        name: "noise std",
        value: f64::from(std),
        expected: "finite and >= 0",
    };
    if !(std.is_finite() && std >= 0.0) {
        return Err(invalid);
    }
    Normal::new(0.0, std).map_err(|_| invalid)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn zeros(n: usize) -> Images {
        Images::new(n, 1, 10, 10, vec![0.0; n * 100]).unwrap()
    }

    #[test]
    fn noise_has_the_requested_spread_and_is_seeded() {
        let x = zeros(100);
        let noisy = gaussian_noise(&x, 0.4, &mut ChaCha8Rng::seed_from_u64(1)).unwrap();
        let n = noisy.data.len() as f32;
        let mean = noisy.data.iter().sum::<f32>() / n;
        let std = (noisy.data.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n).sqrt();
        assert!(
            mean.abs() < 0.02 && (std - 0.4).abs() < 0.01,
            "mean {mean}, std {std}"
        );
        let again = gaussian_noise(&x, 0.4, &mut ChaCha8Rng::seed_from_u64(1)).unwrap();
        let other = gaussian_noise(&x, 0.4, &mut ChaCha8Rng::seed_from_u64(2)).unwrap();
        assert_eq!(noisy, again);
        assert_ne!(noisy, other);
    }

    #[test]
    fn zero_std_is_identity_and_bad_std_is_an_error() {
        let x = Images::new(1, 1, 1, 2, vec![0.5, -0.5]).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        assert_eq!(gaussian_noise(&x, 0.0, &mut rng).unwrap(), x);
        for bad in [-0.1, f32::NAN, f32::INFINITY] {
            assert!(matches!(
                gaussian_noise(&x, bad, &mut rng),
                Err(ParamError::Invalid { .. })
            ));
        }
    }
}
