//! Pillow's `Image.resize` on 8-bit images, bit for bit: what torchvision's
//! `Resize` does to PIL images (e.g. in `ImageFolder` pipelines).
//!
//! Pillow resamples rows and columns in two passes with its antialiased
//! kernels (see `resize`), weights in 22-bit fixed point, and rounds to 8
//! bits after each pass. Exact rounding ties are common with saturated strokes, and the
//! fixed-point weights decide them, so a float resize cannot match exactly.

use super::error::ParamError;
use super::resize::{Interp, Taps, pil_taps};

/// Fractional bits of Pillow's fixed-point weights (`32 - 8 - 2`).
const PRECISION_BITS: u32 = 22;

/// Resizes `planes` 8-bit planes of `h` x `w` pixels (row-major, plane after
/// plane) to `out_h` x `out_w`. `Nearest` follows Pillow's rule (see `pil_taps`),
/// not torch's.
pub fn pil_resize_u8(
    pixels: &[u8],
    planes: usize,
    (h, w): (usize, usize),
    (out_h, out_w): (usize, usize),
    interp: Interp,
) -> Result<Vec<u8>, ParamError> {
    for (name, value) in [
        ("input height", h),
        ("input width", w),
        ("output height", out_h),
        ("output width", out_w),
    ] {
        if value == 0 {
            return Err(ParamError::Invalid {
                name,
                value: 0.0,
                expected: "at least 1",
            });
        }
    }
    if planes.checked_mul(h * w) != Some(pixels.len()) {
        return Err(ParamError::Shape {
            what: "8-bit planes",
            dims: vec![planes, h, w],
            found: pixels.len(),
        });
    }
    let across = fixed_point(&pil_taps(w, out_w, interp));
    let down = fixed_point(&pil_taps(h, out_h, interp));
    // Pillow 13 runs the vertical pass first when the height shrinks by more
    // than twice as many pixels as the width (older Pillow never does); the
    // order changes which intermediate values get rounded.
    let (dh, dw) = (h as i64 - out_h as i64, w as i64 - out_w as i64);
    let horizontal_first = !(dh > 0 && dh > 2 * dw);
    let mut out = Vec::with_capacity(planes * out_h * out_w);
    for plane in pixels.chunks_exact(h * w) {
        if horizontal_first {
            out.extend(resample_columns(
                &resample_rows(plane, w, &across),
                out_w,
                &down,
            ));
        } else {
            out.extend(resample_rows(
                &resample_columns(plane, w, &down),
                w,
                &across,
            ));
        }
    }
    Ok(out)
}

/// Resamples every row (of `width` pixels) of `plane`.
fn resample_rows(plane: &[u8], width: usize, taps: &[FixedTaps]) -> Vec<u8> {
    plane
        .chunks_exact(width)
        .flat_map(|row| {
            taps.iter()
                .map(|t| round(t.iter().map(|&(i, k)| i64::from(row[i]) * k)))
        })
        .collect()
}

/// Resamples every column of `plane`, whose rows hold `width` pixels.
fn resample_columns(plane: &[u8], width: usize, taps: &[FixedTaps]) -> Vec<u8> {
    taps.iter()
        .flat_map(|t| {
            (0..width)
                .map(move |x| round(t.iter().map(|&(i, k)| i64::from(plane[i * width + x]) * k)))
        })
        .collect()
}

/// One output sample's input positions and fixed-point weights.
type FixedTaps = Vec<(usize, i64)>;

/// Weights as Pillow stores them: scaled by 2^22, rounded half away from zero.
fn fixed_point(taps: &[Taps]) -> Vec<FixedTaps> {
    let scale = f64::from(1u32 << PRECISION_BITS);
    taps.iter()
        .map(|t| {
            t.iter()
                .map(|&(i, w)| (i, (w * scale + 0.5f64.copysign(w)) as i64))
                .collect()
        })
        .collect()
}

/// Pillow's `clip8`: add one half, drop the fraction bits, clamp to a byte.
fn round(products: impl Iterator<Item = i64>) -> u8 {
    let sum = (1i64 << (PRECISION_BITS - 1)) + products.sum::<i64>();
    (sum >> PRECISION_BITS).clamp(0, 255) as u8
}

#[cfg(test)]
mod tests {
    use crate::data::fixtures::{self, bytes, size};

    use super::*;

    #[test]
    fn ties_are_broken_by_the_fixed_point_weights() {
        // 1x2 -> 1x1 averages 0 and 255 with weights 0.5 each: 127.5 exactly.
        // Each weight is 2^21 in fixed point, so the sum is 127.5 * 2^22 plus
        // the half: rounds up to 128.
        let out = pil_resize_u8(&[0, 255], 1, (1, 2), (1, 1), Interp::Bilinear).unwrap();
        assert_eq!(out, vec![128]);
    }

    #[test]
    fn nearest_uses_pixel_centres() {
        // 1x4 -> 1x2: positions 1 and 3 (torch's rule would take 0 and 2).
        let out = pil_resize_u8(&[10, 20, 30, 40], 1, (1, 4), (1, 2), Interp::Nearest).unwrap();
        assert_eq!(out, vec![20, 40]);
    }

    #[test]
    fn bad_shapes_are_errors() {
        let shape = pil_resize_u8(&[0; 5], 1, (2, 2), (1, 1), Interp::Bilinear);
        assert!(matches!(shape, Err(ParamError::Shape { .. })));
        let zero = pil_resize_u8(&[0; 4], 1, (2, 2), (0, 1), Interp::Bilinear);
        assert!(matches!(zero, Err(ParamError::Invalid { .. })));
    }

    /// 8-bit images resized by Pillow; see `tests/fixtures/data/make_fixtures.py`.
    #[test]
    fn matches_pillow_exactly() {
        let fixture = fixtures::load("pil_uint8.json");
        let mut checked = 0;
        for case in fixture["cases"].as_array().unwrap() {
            let interp = fixtures::interp(&case["mode"]);
            let (h, w) = (size(&case["in_h"]), size(&case["in_w"]));
            let (out_h, out_w) = (size(&case["out_h"]), size(&case["out_w"]));
            let planes = size(&case["planes"]);
            let got = pil_resize_u8(
                &bytes(&case["input"]),
                planes,
                (h, w),
                (out_h, out_w),
                interp,
            )
            .unwrap();
            let want = bytes(&case["output"]);
            let off = got.iter().zip(&want).filter(|(g, w)| g != w).count();
            assert_eq!(
                off, 0,
                "{planes}x{h}x{w} -> {out_h}x{out_w} {interp:?}: {off} pixels differ"
            );
            checked += 1;
        }
        assert!(checked >= 20, "{checked} cases");
    }
}
