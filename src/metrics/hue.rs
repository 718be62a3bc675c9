//! Whether a map keeps an image's colour (Gbagbe & Bintang's coloured
//! MNIST 2 -> 3: a red 2 should become a red 3): the angle between the
//! dominant hues of the input and of each output.
//!
//! An image's dominant hue is the circular mean of its pixels' hues, each
//! pixel weighted by its chroma (max - min of R, G, B): a coloured digit's
//! strokes count, its black background and grey pixels do not. Values are
//! in [-1, 1] (nrun's image range) and mapped to [0, 1] first.

use super::MetricError;

/// Hue error per output, in degrees in [0, 180], for `n` inputs with `z`
/// outputs each, RGB images `[3, h, w]` of `pixels` = h * w. Pairs where
/// either image has no colour (all its pixels grey) are left out.
pub fn hue_errors(
    inputs: &[f32],
    outputs: &[f32],
    n: usize,
    z: usize,
    pixels: usize,
) -> Result<Vec<f64>, MetricError> {
    let item = 3 * pixels;
    for (buffer, expected) in [(inputs, n * item), (outputs, n * z * item)] {
        if buffer.len() != expected {
            return Err(MetricError::LengthMismatch {
                expected,
                actual: buffer.len(),
            });
        }
    }
    let mut errors = Vec::with_capacity(n * z);
    for i in 0..n {
        let Some(want) = dominant_hue(&inputs[i * item..(i + 1) * item], pixels) else {
            continue;
        };
        for k in 0..z {
            let at = (i * z + k) * item;
            if let Some(got) = dominant_hue(&outputs[at..at + item], pixels) {
                let diff = (got - want).rem_euclid(360.0);
                errors.push(diff.min(360.0 - diff));
            }
        }
    }
    Ok(errors)
}

/// The chroma-weighted circular mean hue of a planar RGB image, in degrees;
/// `None` for an image without colour.
pub fn dominant_hue(image: &[f32], pixels: usize) -> Option<f64> {
    let (r, rest) = image.split_at(pixels);
    let (g, b) = rest.split_at(pixels);
    let (mut sx, mut sy, mut weight) = (0.0f64, 0.0f64, 0.0f64);
    for p in 0..pixels {
        let [r, g, b] = [r[p], g[p], b[p]].map(|v| ((f64::from(v) + 1.0) / 2.0).clamp(0.0, 1.0));
        let max = r.max(g).max(b);
        let chroma = max - r.min(g).min(b);
        if chroma <= 0.0 {
            continue;
        }
        // The hexcone hue (as colorsys.rgb_to_hsv), in sixths of a turn.
        let sixths = if max == r {
            ((g - b) / chroma).rem_euclid(6.0)
        } else if max == g {
            (b - r) / chroma + 2.0
        } else {
            (r - g) / chroma + 4.0
        };
        let angle = sixths * std::f64::consts::PI / 3.0;
        sx += chroma * angle.cos();
        sy += chroma * angle.sin();
        weight += chroma;
    }
    // Below this, colours cancel out or there are none: no dominant hue.
    if weight <= 1e-9 || (sx * sx + sy * sy).sqrt() <= 1e-6 * weight {
        return None;
    }
    Some(sy.atan2(sx).to_degrees().rem_euclid(360.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2-pixel image, the first pixel of colour `rgb` (in [0, 1]), the
    /// second black; planar, in [-1, 1].
    fn image(rgb: [f32; 3]) -> Vec<f32> {
        rgb.iter().flat_map(|&c| [2.0 * c - 1.0, -1.0]).collect()
    }

    #[test]
    fn hues_of_the_primaries() {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(
            dominant_hue(&image([1.0, 0.0, 0.0]), 2).unwrap(),
            0.0
        ));
        assert!(close(
            dominant_hue(&image([0.0, 1.0, 0.0]), 2).unwrap(),
            120.0
        ));
        assert!(close(
            dominant_hue(&image([0.0, 0.0, 1.0]), 2).unwrap(),
            240.0
        ));
        assert!(close(
            dominant_hue(&image([1.0, 1.0, 0.0]), 2).unwrap(),
            60.0
        ));
        assert_eq!(
            dominant_hue(&image([0.5, 0.5, 0.5]), 2),
            None,
            "grey has no hue"
        );
    }

    #[test]
    fn errors_are_the_shorter_way_round() {
        let red = image([1.0, 0.0, 0.0]);
        let magenta = image([1.0, 0.0, 1.0]);
        let outputs: Vec<f32> = [red.clone(), magenta, image([0.3, 0.3, 0.3])].concat();
        let errors = hue_errors(&red, &outputs, 1, 3, 2).unwrap();
        // Red to red 0 degrees; red to magenta (300) 60 the short way; the
        // grey output has no hue and is left out.
        assert_eq!(errors.len(), 2);
        assert!(
            errors[0].abs() < 1e-9 && (errors[1] - 60.0).abs() < 1e-9,
            "{errors:?}"
        );
    }
}
