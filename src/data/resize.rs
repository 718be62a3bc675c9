//! Resizing with the semantics of PyTorch's
//! `F.interpolate(x, size, mode, align_corners=False, antialias)`.
//!
//! - `Nearest`: torch's legacy `mode="nearest"`, `src = floor(dst * in / out)`
//!   in f32 (not PIL's centre-rounding nearest).
//! - `Bilinear` / `Bicubic` without antialias: half-pixel centres
//!   `src = (dst + 0.5) * in / out - 0.5`; bilinear clamps `src` at 0, bicubic
//!   uses Keys' kernel with a = -0.75 and clamps the four taps into the image.
//! - With antialias (torch's `_upsample_*_aa`, a port of PIL's resampling): the
//!   kernel is stretched by `in / out` when shrinking, taps outside the image
//!   are dropped and the weights renormalised; bicubic then uses a = -0.5.
//!   This equals `PIL.Image.resize(BILINEAR | BICUBIC)` on float ("F") images,
//!   in both directions.

use super::error::ParamError;
use super::images::Images;

/// The interpolation kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interp {
    Nearest,
    Bilinear,
    Bicubic,
}

/// A resize of every image of a batch to `h` x `w`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resize {
    pub h: usize,
    pub w: usize,
    pub interp: Interp,
    pub antialias: bool,
}

/// The input positions and weights that make one output sample along an axis.
pub(super) type Taps = Vec<(usize, f64)>;

impl Resize {
    /// Resizes `images` (any value range: the kernels are affine-invariant).
    pub fn apply(&self, images: &Images) -> Result<Images, ParamError> {
        images.check()?;
        for (name, value) in [("output height", self.h), ("output width", self.w)] {
            ParamError::at_least_one(name, value)?;
        }
        for (name, value) in [("input height", images.h), ("input width", images.w)] {
            ParamError::at_least_one(name, value)?;
        }
        if self.antialias && self.interp == Interp::Nearest {
            return Err(ParamError::Unsupported {
                what: "antialias applies to bilinear and bicubic only (as in torch)",
            });
        }
        let across = axis_taps(images.w, self.w, self.interp, self.antialias);
        let down = axis_taps(images.h, self.h, self.interp, self.antialias);
        let planes = images.n * images.c;
        // Width first, then height (Pillow's usual order); in float the order
        // only changes rounding.
        let wide = resample_rows(&images.data, planes * images.h, images.w, &across);
        let data = resample_columns(&wide, planes, images.h, self.w, &down);
        Ok(Images {
            h: self.h,
            w: self.w,
            data,
            ..*images
        })
    }
}

/// The taps of every output position along one axis of length `len_in`.
fn axis_taps(len_in: usize, len_out: usize, interp: Interp, antialias: bool) -> Vec<Taps> {
    match (interp, antialias) {
        (Interp::Bilinear | Interp::Bicubic, true) => pil_taps(len_in, len_out, interp),
        (Interp::Nearest, _) => (0..len_out)
            .map(|dst| nearest(len_in, len_out, dst))
            .collect(),
        (Interp::Bilinear, false) => (0..len_out)
            .map(|dst| bilinear(len_in, len_out, dst))
            .collect(),
        (Interp::Bicubic, false) => (0..len_out)
            .map(|dst| bicubic(len_in, len_out, dst))
            .collect(),
    }
}

/// Pillow's taps for `Image.resize`: its antialiased bilinear / bicubic
/// kernels, and for `Nearest` its own rule, `floor((dst + 0.5) * in / out)`
/// with the position accumulated step by step in f64 as Pillow does.
pub(super) fn pil_taps(len_in: usize, len_out: usize, interp: Interp) -> Vec<Taps> {
    match interp {
        Interp::Nearest => {
            let step = len_in as f64 / len_out as f64;
            let mut position = step * 0.5;
            (0..len_out)
                .map(|_| {
                    let src = (position as usize).min(len_in - 1);
                    position += step;
                    vec![(src, 1.0)]
                })
                .collect()
        }
        Interp::Bilinear => (0..len_out)
            .map(|dst| antialiased(len_in, len_out, dst, 1.0, triangle))
            .collect(),
        Interp::Bicubic => (0..len_out)
            .map(|dst| antialiased(len_in, len_out, dst, 2.0, pil_cubic))
            .collect(),
    }
}

// The index arithmetic below is in f32 because torch does it in f32 for
// float tensors, and `floor` of a product can differ between f32 and f64.

fn nearest(len_in: usize, len_out: usize, dst: usize) -> Taps {
    let scale = len_in as f32 / len_out as f32;
    let src = ((dst as f32 * scale).floor() as usize).min(len_in - 1);
    vec![(src, 1.0)]
}

fn bilinear(len_in: usize, len_out: usize, dst: usize) -> Taps {
    let scale = len_in as f32 / len_out as f32;
    let src = ((dst as f32 + 0.5) * scale - 0.5).max(0.0);
    let i0 = (src as usize).min(len_in - 1);
    let i1 = (i0 + 1).min(len_in - 1);
    let lambda = f64::from(src - i0 as f32);
    vec![(i0, 1.0 - lambda), (i1, lambda)]
}

fn bicubic(len_in: usize, len_out: usize, dst: usize) -> Taps {
    const A: f64 = -0.75;
    let scale = len_in as f32 / len_out as f32;
    let src = (dst as f32 + 0.5) * scale - 0.5;
    let i0 = src.floor() as i64;
    let t = f64::from(src - i0 as f32);
    let weights = [
        keys(t + 1.0, A),
        keys(t, A),
        keys(1.0 - t, A),
        keys(2.0 - t, A),
    ];
    let last = len_in as i64 - 1;
    (0..4)
        .map(|k| ((i0 - 1 + k).clamp(0, last) as usize, weights[k as usize]))
        .collect()
}

/// PIL's resampling taps for a kernel of half-width `support` (in input
/// pixels when enlarging, stretched by the scale when shrinking).
fn antialiased(
    len_in: usize,
    len_out: usize,
    dst: usize,
    support: f64,
    filter: fn(f64) -> f64,
) -> Taps {
    let scale = len_in as f64 / len_out as f64;
    let stretch = scale.max(1.0);
    // PIL multiplies by the reciprocal; so do we, to round identically.
    let inv_stretch = 1.0 / stretch;
    let support = support * stretch;
    let center = scale * (dst as f64 + 0.5);
    // `as i64` truncates towards zero, exactly like PIL's `(int)` cast.
    let lo = ((center - support + 0.5) as i64).max(0);
    let hi = ((center + support + 0.5) as i64).min(len_in as i64);
    let mut taps: Taps = (lo..hi)
        .map(|j| (j as usize, filter((j as f64 - center + 0.5) * inv_stretch)))
        .collect();
    let total: f64 = taps.iter().map(|(_, w)| w).sum();
    if total != 0.0 {
        taps.iter_mut().for_each(|(_, w)| *w /= total);
    }
    taps
}

fn triangle(x: f64) -> f64 {
    (1.0 - x.abs()).max(0.0)
}

/// Pillow's bicubic kernel (Keys, a = -0.5), evaluated in Pillow's order so
/// that its fixed-point weights (see `pil_resize`) round identically.
fn pil_cubic(x: f64) -> f64 {
    const A: f64 = -0.5;
    let x = x.abs();
    if x < 1.0 {
        ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        (((x - 5.0) * x + 8.0) * x - 4.0) * A
    } else {
        0.0
    }
}

/// Keys' cubic convolution kernel with parameter `a`, in torch's order.
fn keys(x: f64, a: f64) -> f64 {
    let x = x.abs();
    if x < 1.0 {
        ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
    } else {
        0.0
    }
}

/// Resamples each of `rows` contiguous rows of length `len_in`.
fn resample_rows(data: &[f32], rows: usize, len_in: usize, taps: &[Taps]) -> Vec<f32> {
    let mut out = Vec::with_capacity(rows * taps.len());
    for row in data.chunks_exact(len_in).take(rows) {
        out.extend(
            taps.iter()
                .map(|t| t.iter().map(|&(i, w)| f64::from(row[i]) * w).sum::<f64>() as f32),
        );
    }
    out
}

/// Resamples the columns of `planes` planes of `len_in` rows of `width` values.
fn resample_columns(
    data: &[f32],
    planes: usize,
    len_in: usize,
    width: usize,
    taps: &[Taps],
) -> Vec<f32> {
    let mut out = Vec::with_capacity(planes * taps.len() * width);
    let mut acc = vec![0.0f64; width];
    for plane in data.chunks_exact(len_in * width).take(planes) {
        for t in taps {
            acc.fill(0.0);
            for &(i, w) in t {
                let row = &plane[i * width..(i + 1) * width];
                acc.iter_mut()
                    .zip(row)
                    .for_each(|(a, &v)| *a += f64::from(v) * w);
            }
            out.extend(acc.iter().map(|&a| a as f32));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::data::fixtures::{self, floats, size};

    use super::*;

    fn image(h: usize, w: usize, data: Vec<f32>) -> Images {
        Images::new(1, 1, h, w, data).unwrap()
    }

    fn resize(x: &Images, h: usize, w: usize, interp: Interp, antialias: bool) -> Vec<f32> {
        Resize {
            h,
            w,
            interp,
            antialias,
        }
        .apply(x)
        .unwrap()
        .data
    }

    fn assert_close(got: &[f32], want: &[f32], tol: f32) {
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= tol,
                "value {i}: got {g}, want {w}\n got {got:?}\nwant {want:?}"
            );
        }
    }

    #[test]
    fn nearest_uses_floor_of_dst_times_scale() {
        // 1x5 -> 1x3: scale 5/3, sources floor(0), floor(1.67), floor(3.33) = 0, 1, 3.
        let x = image(1, 5, vec![10.0, 11.0, 12.0, 13.0, 14.0]);
        assert_eq!(
            resize(&x, 1, 3, Interp::Nearest, false),
            vec![10.0, 11.0, 13.0]
        );
        // 2x2 -> 4x4 repeats each pixel in a 2x2 block.
        let x = image(2, 2, vec![1.0, 2.0, 3.0, 4.0]);
        let want = [
            1., 1., 2., 2., 1., 1., 2., 2., 3., 3., 4., 4., 3., 3., 4., 4.,
        ];
        assert_eq!(resize(&x, 4, 4, Interp::Nearest, false), want);
    }

    #[test]
    fn bilinear_by_hand() {
        // 4x4 -> 2x2: sources 0.5 and 2.5 on both axes, so each output is the
        // mean of a 2x2 block.
        let x = image(4, 4, (0..16).map(|v| v as f32).collect());
        assert_close(
            &resize(&x, 2, 2, Interp::Bilinear, false),
            &[2.5, 4.5, 10.5, 12.5],
            1e-6,
        );
        // 1x2 -> 1x4: sources -0.25 (clamped to 0), 0.25, 0.75, 1.25 (last pixel).
        let x = image(1, 2, vec![0.0, 1.0]);
        assert_close(
            &resize(&x, 1, 4, Interp::Bilinear, false),
            &[0.0, 0.25, 0.75, 1.0],
            1e-6,
        );
    }

    #[test]
    fn bicubic_by_hand() {
        // 1x2 -> 1x4 with a = -0.75, k(0.25) = 0.87890625, k(0.75) = 0.26171875,
        // k(1.25) = -0.10546875, k(1.75) = -0.03515625. Output 1: src 0.25,
        // taps (-1, 0, 1, 2) clamped to (0, 0, 1, 1) weighted k(1.25), k(0.25),
        // k(0.75), k(1.75), so x[1] * (k(0.75) + k(1.75)) = 0.2265625.
        let x = image(1, 2, vec![0.0, 1.0]);
        let got = resize(&x, 1, 4, Interp::Bicubic, false);
        assert_close(&got, &[-27.0, 58.0, 198.0, 283.0].map(|v| v / 256.0), 1e-6);
    }

    #[test]
    fn antialiased_bilinear_by_hand() {
        // 1x4 -> 1x2: scale 2, triangle stretched to half-width 2. Output 0:
        // centre 1, taps 0..3 at distances 0.5, 0.5, 1.5 (halved: 0.25, 0.25,
        // 0.75) -> weights 0.75, 0.75, 0.25 / 1.75.
        let x = image(1, 4, vec![0.0, 1.0, 2.0, 3.0]);
        let want0 = (0.75 * 1.0 + 0.25 * 2.0) / 1.75;
        let want1 = (0.25 * 1.0 + 0.75 * 2.0 + 0.75 * 3.0) / 1.75;
        assert_close(
            &resize(&x, 1, 2, Interp::Bilinear, true),
            &[want0, want1],
            1e-6,
        );
    }

    #[test]
    fn same_size_is_identity_for_every_mode() {
        let x = image(3, 4, (0..12).map(|v| (v * v) as f32 / 7.0).collect());
        for interp in [Interp::Nearest, Interp::Bilinear, Interp::Bicubic] {
            for antialias in [false, true] {
                if interp == Interp::Nearest && antialias {
                    continue;
                }
                assert_close(&resize(&x, 3, 4, interp, antialias), &x.data, 1e-6);
            }
        }
    }

    #[test]
    fn batches_and_channels_are_resized_independently() {
        let a: Vec<f32> = (0..16).map(|v| v as f32).collect();
        let b: Vec<f32> = a.iter().map(|v| 100.0 - 3.0 * v).collect();
        let both = Images::new(2, 1, 4, 4, [a.clone(), b.clone()].concat()).unwrap();
        let as_channels = Images::new(1, 2, 4, 4, [a.clone(), b.clone()].concat()).unwrap();
        let one = |d: Vec<f32>| resize(&image(4, 4, d), 3, 5, Interp::Bicubic, true);
        let want = [one(a), one(b)].concat();
        assert_eq!(resize(&both, 3, 5, Interp::Bicubic, true), want);
        assert_eq!(resize(&as_channels, 3, 5, Interp::Bicubic, true), want);
    }

    #[test]
    fn invalid_requests_are_errors() {
        let x = image(2, 2, vec![0.0; 4]);
        let r = |h, interp, antialias| {
            Resize {
                h,
                w: 2,
                interp,
                antialias,
            }
            .apply(&x)
        };
        assert!(matches!(
            r(0, Interp::Bilinear, false),
            Err(ParamError::Invalid { .. })
        ));
        assert!(matches!(
            r(2, Interp::Nearest, true),
            Err(ParamError::Unsupported { .. })
        ));
        let broken = Images { n: 2, ..x };
        let resized = Resize {
            h: 1,
            w: 1,
            interp: Interp::Bilinear,
            antialias: false,
        }
        .apply(&broken);
        assert!(matches!(resized, Err(ParamError::Shape { .. })));
    }

    /// Cases computed by PIL (antialiased modes), OpenCV (torch's
    /// non-antialiased modes) and torch's nearest rule; see
    /// `tests/fixtures/data/make_fixtures.py`.
    #[test]
    fn matches_reference_fixtures() {
        let fixture = fixtures::load("resize.json");
        let mut worst_by_reference = std::collections::BTreeMap::<String, f32>::new();
        for case in fixture["cases"].as_array().unwrap() {
            let x = image(
                size(&case["in_h"]),
                size(&case["in_w"]),
                floats(&case["input"]),
            );
            let (h, w) = (size(&case["out_h"]), size(&case["out_w"]));
            for out in case["outputs"].as_array().unwrap() {
                let interp = fixtures::interp(&out["mode"]);
                let got = resize(&x, h, w, interp, out["antialias"].as_bool().unwrap());
                let want = floats(&out["output"]);
                assert_eq!(got.len(), want.len());
                let worst = got
                    .iter()
                    .zip(&want)
                    .map(|(g, w)| (g - w).abs())
                    .fold(0.0, f32::max);
                let what = format!("{}x{} -> {h}x{w} {out}", x.h, x.w)
                    .replace(&format!("{}", out["output"]), "..");
                assert!(worst <= 1e-4, "{what}: max abs difference {worst}");
                let key = format!(
                    "{} antialias={} vs {}",
                    out["mode"].as_str().unwrap(),
                    out["antialias"],
                    out["reference"].as_str().unwrap()
                );
                let entry = worst_by_reference.entry(key).or_default();
                *entry = entry.max(worst);
            }
        }
        // 11 sizes x (bilinear, bicubic) x (antialias or not) + nearest.
        assert_eq!(worst_by_reference.len(), 5, "{worst_by_reference:?}");
        println!("max abs difference per mode: {worst_by_reference:#?}");
    }
}
