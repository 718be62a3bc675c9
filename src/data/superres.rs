//! The MNIST super-resolution pair (Table 1 of the Weinreich &
//! Heurtel-Depeiges report; docs/experiments.md, section 5), composed from
//! the resize and noise primitives.
//!
//! The reference (student) code builds both sides with torchvision:
//! clean `y = Resize(32)` on the 8-bit PIL image (PIL bilinear, rounded to 8
//! bits); degraded `x = ToTensor, Resize(16, BICUBIC), + N(0, 0.2^2),
//! Resize(32, NEAREST), Normalize(0.5, 0.5)`, so the noise is drawn in [0, 1]
//! units and nothing is clipped.

use rand::Rng;

use super::error::ParamError;
use super::images::Images;
use super::noise::gaussian_noise;
use super::pil_resize::pil_resize_u8;
use super::resize::{Interp, Resize};

/// The degradation: bicubic down to `low`, Gaussian noise, nearest up to `high`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SuperRes {
    /// Side of the low-resolution image (16 for MNIST).
    pub low: usize,
    /// Side of the degraded input handed to the network (32 for MNIST).
    pub high: usize,
    /// Noise std in [0, 1] pixel units (0.2 for MNIST, i.e. 0.4 in [-1, 1] units).
    pub noise_std: f32,
    /// Whether the bicubic shrink antialiases. torchvision's tensor `Resize`
    /// does by default from 0.17 on and did not before, and the reference
    /// run's version is unknown, so the pipeline must choose.
    pub antialias: bool,
}

impl SuperRes {
    /// The MNIST protocol's numbers (16, 32, 0.2).
    pub fn mnist(antialias: bool) -> Self {
        Self {
            low: 16,
            high: 32,
            noise_std: 0.2,
            antialias,
        }
    }

    /// Degrades [-1, 1] images: to [0, 1], bicubic to `low` x `low`, plus
    /// fresh noise from `rng`, nearest to `high` x `high`, back to [-1, 1].
    pub fn degrade<R: Rng + ?Sized>(
        &self,
        images: &Images,
        rng: &mut R,
    ) -> Result<Images, ParamError> {
        let unit = affine(images, 0.5, 0.5);
        let small = Resize {
            h: self.low,
            w: self.low,
            interp: Interp::Bicubic,
            antialias: self.antialias,
        }
        .apply(&unit)?;
        let noisy = gaussian_noise(&small, self.noise_std, rng)?;
        let large = Resize {
            h: self.high,
            w: self.high,
            interp: Interp::Nearest,
            antialias: false,
        }
        .apply(&noisy)?;
        Ok(affine(&large, 2.0, -1.0))
    }
}

/// The clean target: Pillow's bilinear resize of the 8-bit image to `size` x
/// `size`, as torchvision's `Resize(size)` does on PIL images (values are
/// snapped to the nearest 8-bit level first).
pub fn clean_target(images: &Images, size: usize) -> Result<Images, ParamError> {
    images.check()?;
    let bytes: Vec<u8> = images
        .data
        .iter()
        .map(|&x| ((x.clamp(-1.0, 1.0) + 1.0) * 127.5).round() as u8)
        .collect();
    let planes = images.n * images.c;
    let resized = pil_resize_u8(
        &bytes,
        planes,
        (images.h, images.w),
        (size, size),
        Interp::Bilinear,
    )?;
    Images::from_u8(images.n, images.c, size, size, &resized)
}

/// `x * scale + shift` for every value.
fn affine(images: &Images, scale: f32, shift: f32) -> Images {
    let data = images.data.iter().map(|&x| x * scale + shift).collect();
    Images { data, ..*images }
}

#[cfg(test)]
mod tests {
    use crate::data::fixtures;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn noiseless_degradation_by_hand() {
        // 4x4, every row [0, 0.2, 0.4, 0.6] in [0, 1]. Bicubic (a = -0.75) to
        // 2x2 samples 0.5 and 2.5 with weights k(1.5), k(0.5), k(0.5), k(1.5)
        // = -0.09375, 0.59375, 0.59375, -0.09375 (taps clamped at the border):
        // 0.2 * 0.40625 = 0.08125 and 0.2 * 2.59375 = 0.51875. Nearest to 4x4
        // doubles each; to [-1, 1]: -0.8375 and 0.0375.
        let row = [0.0f32, 0.2, 0.4, 0.6].map(|u| u * 2.0 - 1.0);
        let x = Images::new(1, 1, 4, 4, row.repeat(4)).unwrap();
        let op = SuperRes {
            low: 2,
            high: 4,
            noise_std: 0.0,
            antialias: false,
        };
        let out = op.degrade(&x, &mut ChaCha8Rng::seed_from_u64(0)).unwrap();
        let want = [-0.8375f32, -0.8375, 0.0375, 0.0375].repeat(4);
        for (g, w) in out.data.iter().zip(&want) {
            assert!((g - w).abs() < 1e-6, "{:?}", out.data);
        }
    }

    #[test]
    fn noise_is_drawn_at_low_resolution_in_unit_scale() {
        // Mid-gray (0.5 in [0, 1]) stays 0 in [-1, 1] apart from the noise, so
        // outputs are 2 * noise: std 0.4, constant over each 2x2 nearest block.
        let x = Images::new(64, 1, 28, 28, vec![0.0; 64 * 784]).unwrap();
        let op = SuperRes::mnist(true);
        let out = op.degrade(&x, &mut ChaCha8Rng::seed_from_u64(5)).unwrap();
        assert_eq!((out.n, out.c, out.h, out.w), (64, 1, 32, 32));
        let n = out.data.len() as f32;
        let std = (out.data.iter().map(|v| v * v).sum::<f32>() / n).sqrt();
        assert!((std - 0.4).abs() < 0.01, "std {std}");
        let image = out.image(0).unwrap();
        assert_eq!(image[0], image[1]);
        assert_eq!(image[0], image[32]);
        assert_ne!(image[0], image[2]);
        let again = op.degrade(&x, &mut ChaCha8Rng::seed_from_u64(5)).unwrap();
        assert_eq!(out, again);
    }

    /// The clean target's 28 -> 32 case of the Pillow fixture (see
    /// `tests/fixtures/data/make_fixtures.py`), through the [-1, 1] interface.
    #[test]
    fn clean_target_matches_pillow() {
        let fixture = fixtures::load("pil_uint8.json");
        let case = fixture["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| {
                c["in_h"] == 28 && c["out_h"] == 32 && c["planes"] == 1 && c["mode"] == "bilinear"
            })
            .unwrap();
        let x = Images::from_u8(1, 1, 28, 28, &fixtures::bytes(&case["input"])).unwrap();
        let want = Images::from_u8(1, 1, 32, 32, &fixtures::bytes(&case["output"])).unwrap();
        assert_eq!(clean_target(&x, 32).unwrap(), want);
    }
}
