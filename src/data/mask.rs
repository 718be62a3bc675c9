//! Random masks for inpainting.

use rand::seq::index;
use rand::{Rng, RngExt};

use super::error::ParamError;
use super::images::Images;

/// How the hidden pixels of each image are chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MaskKind {
    /// `count` axis-aligned rectangles per image (they may overlap), each side
    /// drawn uniformly in `min_side..=max_side`, placed uniformly inside the image.
    Rectangles {
        count: usize,
        min_side: usize,
        max_side: usize,
    },
    /// Exactly `round(fraction * h * w)` distinct pixels per image, uniformly.
    Pixels { fraction: f32 },
}

/// Masked images and the mask that made them.
#[derive(Clone, Debug, PartialEq)]
pub struct Masked {
    /// The input with every hidden pixel (in all channels) set to the fill value.
    pub images: Images,
    /// [n, 1, h, w]: 1.0 where the pixel is hidden, 0.0 where it is kept.
    pub mask: Images,
}

/// Hides pixels of every image, drawing a fresh mask per image from `rng`.
pub fn random_mask<R: Rng + ?Sized>(
    images: &Images,
    kind: MaskKind,
    fill: f32,
    rng: &mut R,
) -> Result<Masked, ParamError> {
    images.check()?;
    let (h, w) = (images.h, images.w);
    if images.c == 0 || h == 0 || w == 0 {
        return Err(ParamError::Invalid {
            name: "image channels x height x width",
            value: (images.c * h * w) as f64,
            expected: "positive",
        });
    }
    validate(kind, h, w)?;
    let mut mask = vec![0.0f32; images.n * h * w];
    for one in mask.chunks_exact_mut(h * w) {
        match kind {
            MaskKind::Rectangles {
                count,
                min_side,
                max_side,
            } => {
                for _ in 0..count {
                    let rh = rng.random_range(min_side..=max_side.min(h));
                    let rw = rng.random_range(min_side..=max_side.min(w));
                    let top = rng.random_range(0..=h - rh);
                    let left = rng.random_range(0..=w - rw);
                    for row in one.chunks_exact_mut(w).skip(top).take(rh) {
                        row[left..left + rw].fill(1.0);
                    }
                }
            }
            MaskKind::Pixels { fraction } => {
                let amount = (f64::from(fraction) * (h * w) as f64).round() as usize;
                for i in index::sample(rng, h * w, amount) {
                    one[i] = 1.0;
                }
            }
        }
    }
    let mut data = images.data.clone();
    for (image, hidden) in data
        .chunks_exact_mut(images.image_len())
        .zip(mask.chunks_exact(h * w))
    {
        for plane in image.chunks_exact_mut(h * w) {
            for (v, &m) in plane.iter_mut().zip(hidden) {
                if m == 1.0 {
                    *v = fill;
                }
            }
        }
    }
    Ok(Masked {
        images: Images { data, ..*images },
        mask: Images {
            c: 1,
            data: mask,
            ..*images
        },
    })
}

fn validate(kind: MaskKind, h: usize, w: usize) -> Result<(), ParamError> {
    match kind {
        MaskKind::Rectangles {
            min_side, max_side, ..
        } => {
            if min_side == 0 || min_side > h.min(w) {
                return Err(ParamError::Invalid {
                    name: "mask min_side",
                    value: min_side as f64,
                    expected: "at least 1 and at most the smaller image side",
                });
            }
            if max_side < min_side {
                return Err(ParamError::Invalid {
                    name: "mask max_side",
                    value: max_side as f64,
                    expected: ">= min_side",
                });
            }
        }
        MaskKind::Pixels { fraction } => {
            if !(0.0..=1.0).contains(&fraction) {
                return Err(ParamError::Invalid {
                    name: "mask fraction",
                    value: f64::from(fraction),
                    expected: "in [0, 1]",
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn ramp(n: usize, c: usize, h: usize, w: usize) -> Images {
        Images::new(
            n,
            c,
            h,
            w,
            (0..n * c * h * w).map(|v| v as f32 / 1000.0).collect(),
        )
        .unwrap()
    }

    #[test]
    fn pixel_masks_hide_the_exact_fraction_in_all_channels() {
        let x = ramp(3, 2, 8, 8);
        let out = random_mask(
            &x,
            MaskKind::Pixels { fraction: 0.25 },
            -1.0,
            &mut ChaCha8Rng::seed_from_u64(4),
        )
        .unwrap();
        assert_eq!(
            (out.mask.n, out.mask.c, out.mask.h, out.mask.w),
            (3, 1, 8, 8)
        );
        for (i, hidden) in out.mask.data.chunks_exact(64).enumerate() {
            assert_eq!(hidden.iter().filter(|&&m| m == 1.0).count(), 16);
            let image = out.images.image(i).unwrap();
            let original = x.image(i).unwrap();
            for (p, &m) in hidden.iter().enumerate() {
                for ch in 0..2 {
                    let want = if m == 1.0 {
                        -1.0
                    } else {
                        original[ch * 64 + p]
                    };
                    assert_eq!(image[ch * 64 + p], want);
                }
            }
        }
        // Images get different masks.
        assert_ne!(out.mask.data[..64], out.mask.data[64..128]);
    }

    #[test]
    fn one_full_size_rectangle_hides_everything() {
        let x = ramp(2, 1, 4, 5);
        let kind = MaskKind::Rectangles {
            count: 1,
            min_side: 4,
            max_side: 4,
        };
        let out = random_mask(&x, kind, 0.5, &mut ChaCha8Rng::seed_from_u64(0)).unwrap();
        // A 4x4 square in a 4x5 image covers rows 0..4 and 4 of 5 columns.
        for hidden in out.mask.data.chunks_exact(20) {
            assert_eq!(hidden.iter().sum::<f32>(), 16.0);
            for row in hidden.chunks_exact(5) {
                assert!(row[1..4].iter().all(|&m| m == 1.0), "{row:?}");
            }
        }
    }

    #[test]
    fn masks_are_seeded() {
        let x = ramp(2, 1, 16, 16);
        let kind = MaskKind::Rectangles {
            count: 2,
            min_side: 2,
            max_side: 6,
        };
        let draw = |seed| random_mask(&x, kind, 0.0, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7).mask, draw(8).mask);
    }

    #[test]
    fn bad_parameters_are_errors() {
        let x = ramp(1, 1, 4, 4);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        for kind in [
            MaskKind::Pixels { fraction: 1.5 },
            MaskKind::Pixels { fraction: f32::NAN },
            MaskKind::Pixels { fraction: -0.1 },
            MaskKind::Rectangles {
                count: 1,
                min_side: 0,
                max_side: 2,
            },
            MaskKind::Rectangles {
                count: 1,
                min_side: 5,
                max_side: 5,
            },
            MaskKind::Rectangles {
                count: 1,
                min_side: 3,
                max_side: 2,
            },
        ] {
            assert!(
                matches!(
                    random_mask(&x, kind, 0.0, &mut rng),
                    Err(ParamError::Invalid { .. })
                ),
                "{kind:?}"
            );
        }
        let flat = Images::new(1, 1, 0, 4, vec![]).unwrap();
        let err = random_mask(&flat, MaskKind::Pixels { fraction: 0.5 }, 0.0, &mut rng);
        assert!(matches!(err, Err(ParamError::Invalid { .. })));
    }
}
