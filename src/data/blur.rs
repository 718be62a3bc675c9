//! Gaussian blur, as `torchvision.transforms.functional.gaussian_blur` on
//! float tensors: kernel taps at offsets `-(k-1)/2 ..= (k-1)/2`, weights
//! `exp(-x^2 / (2 sigma^2))` normalised to sum 1, applied along rows then
//! columns, with "reflect" padding (mirror without repeating the edge pixel:
//! `c b | a b c d | c b`, OpenCV's BORDER_REFLECT_101).

use super::error::ParamError;
use super::images::Images;

/// Blurs every plane with a `kernel` x `kernel` Gaussian of std `sigma` pixels.
/// `kernel` must be odd and its half-width smaller than the image sides (the
/// limit of reflect padding, as in torch).
pub fn gaussian_blur(images: &Images, kernel: usize, sigma: f32) -> Result<Images, ParamError> {
    images.check()?;
    if kernel.is_multiple_of(2) {
        return Err(ParamError::Invalid {
            name: "blur kernel size",
            value: kernel as f64,
            expected: "odd",
        });
    }
    if !(sigma.is_finite() && sigma > 0.0) {
        return Err(ParamError::Invalid {
            name: "blur sigma",
            value: f64::from(sigma),
            expected: "finite and > 0",
        });
    }
    let half = kernel / 2;
    if half >= images.h || half >= images.w {
        return Err(ParamError::Invalid {
            name: "blur kernel size",
            value: kernel as f64,
            expected: "less than twice the smaller image side (reflect padding)",
        });
    }
    let weights = kernel_1d(kernel, sigma);
    let (h, w) = (images.h, images.w);
    let mut data = Vec::with_capacity(images.data.len());
    let mut rows_done = vec![0.0f32; h * w];
    for plane in images.data.chunks_exact(h * w) {
        for (y, row) in plane.chunks_exact(w).enumerate() {
            for x in 0..w {
                rows_done[y * w + x] = convolve(&weights, |k| row[reflect(x + k, half, w)]);
            }
        }
        for y in 0..h {
            for x in 0..w {
                data.push(convolve(&weights, |k| {
                    rows_done[reflect(y + k, half, h) * w + x]
                }));
            }
        }
    }
    Ok(Images { data, ..*images })
}

/// The normalised 1-D Gaussian of `kernel` taps.
fn kernel_1d(kernel: usize, sigma: f32) -> Vec<f64> {
    let half = (kernel as f64 - 1.0) / 2.0;
    let sigma = f64::from(sigma);
    let raw: Vec<f64> = (0..kernel)
        .map(|i| (-0.5 * ((i as f64 - half) / sigma).powi(2)).exp())
        .collect();
    let total: f64 = raw.iter().sum();
    raw.into_iter().map(|v| v / total).collect()
}

/// `sum_k weights[k] * value(k)`, where `value(k)` reads tap `k`.
fn convolve(weights: &[f64], value: impl Fn(usize) -> f32) -> f32 {
    weights
        .iter()
        .enumerate()
        .map(|(k, w)| w * f64::from(value(k)))
        .sum::<f64>() as f32
}

/// Index into `0..len` of padded position `padded` (shifted by `half`),
/// mirrored at the borders without repeating them; needs `half < len`.
fn reflect(padded: usize, half: usize, len: usize) -> usize {
    let last = len - 1;
    if padded < half {
        half - padded
    } else if padded - half > last {
        2 * last - (padded - half)
    } else {
        padded - half
    }
}

#[cfg(test)]
mod tests {
    use crate::data::fixtures;

    use super::*;

    #[test]
    fn reflect_mirrors_without_repeating_the_edge() {
        // len 4, half 2: padded 0..8 reads c b | a b c d | c b.
        let got: Vec<usize> = (0..8).map(|p| reflect(p, 2, 4)).collect();
        assert_eq!(got, vec![2, 1, 0, 1, 2, 3, 2, 1]);
    }

    #[test]
    fn three_tap_blur_by_hand() {
        // sigma = 1: weights e^-0.5, 1, e^-0.5 over their sum.
        let e = (-0.5f64).exp();
        let (side, mid) = (e / (1.0 + 2.0 * e), 1.0 / (1.0 + 2.0 * e));
        let x = Images::new(
            1,
            1,
            3,
            3,
            vec![0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0],
        )
        .unwrap();
        let out = gaussian_blur(&x, 3, 1.0).unwrap();
        // Centre keeps mid^2; edge-centres get side * mid; corners side^2, all
        // doubled at the borders by the reflection (the impulse is mirrored in).
        let want = [
            side * side * 4.0,
            side * mid * 2.0,
            side * side * 4.0,
            side * mid * 2.0,
            mid * mid,
            side * mid * 2.0,
            side * side * 4.0,
            side * mid * 2.0,
            side * side * 4.0,
        ];
        for (g, w) in out.data.iter().zip(want) {
            assert!((f64::from(*g) - w).abs() < 1e-6, "{:?}", out.data);
        }
    }

    #[test]
    fn constant_images_stay_constant() {
        let x = Images::new(2, 3, 5, 4, vec![0.25; 120]).unwrap();
        let out = gaussian_blur(&x, 7, 2.0).unwrap();
        assert!(out.data.iter().all(|v| (v - 0.25).abs() < 1e-6));
    }

    #[test]
    fn bad_parameters_are_errors() {
        let x = Images::new(1, 1, 3, 3, vec![0.0; 9]).unwrap();
        for (kernel, sigma) in [(2, 1.0), (3, 0.0), (3, f32::NAN), (7, 1.0)] {
            assert!(
                matches!(
                    gaussian_blur(&x, kernel, sigma),
                    Err(ParamError::Invalid { .. })
                ),
                "kernel {kernel}, sigma {sigma}"
            );
        }
    }

    /// Cases computed by OpenCV's GaussianBlur with BORDER_REFLECT_101; see
    /// `tests/fixtures/data/make_fixtures.py`.
    #[test]
    fn matches_opencv() {
        let fixture = fixtures::load("blur.json");
        let cases = fixture["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 4);
        for case in cases {
            let (h, w) = (fixtures::size(&case["h"]), fixtures::size(&case["w"]));
            let x = Images::new(1, 1, h, w, fixtures::floats(&case["input"])).unwrap();
            let kernel = fixtures::size(&case["kernel"]);
            let out = gaussian_blur(&x, kernel, case["sigma"].as_f64().unwrap() as f32).unwrap();
            let worst = out
                .data
                .iter()
                .zip(fixtures::floats(&case["output"]))
                .map(|(g, w)| (g - w).abs())
                .fold(0.0, f32::max);
            assert!(
                worst <= 1e-5,
                "{h}x{w} kernel {kernel}: max abs difference {worst}"
            );
        }
    }
}
