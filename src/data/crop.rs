//! Cropping a window out of every image of a batch.

use super::error::ParamError;
use super::images::Images;

/// A crop window of `h` x `w` pixels whose position is the centred one moved
/// down by `dy` and right by `dx` pixels (negative: up / left).
///
/// Sudakov's report crops anime faces to 256x256 "14 px above the centre":
/// `CropBox { h: 256, w: 256, dy: -14, dx: 0 }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CropBox {
    pub h: usize,
    pub w: usize,
    pub dy: i64,
    pub dx: i64,
}

impl CropBox {
    /// The centred window of `h` x `w` pixels.
    pub fn centered(h: usize, w: usize) -> Self {
        Self { h, w, dy: 0, dx: 0 }
    }

    /// Crops every image; the window must lie inside the images (no padding).
    pub fn apply(&self, images: &Images) -> Result<Images, ParamError> {
        let (top, left) = self.origin(images.h, images.w)?;
        images.check()?;
        let data = crop_planes(&images.data, images.h, images.w, top, left, self.h, self.w);
        Ok(Images {
            h: self.h,
            w: self.w,
            data,
            ..*images
        })
    }

    /// The window's top-left corner in an `h` x `w` image, if it fits.
    pub(super) fn origin(&self, h: usize, w: usize) -> Result<(usize, usize), ParamError> {
        let top = centered_start(h, self.h).saturating_add(self.dy);
        let left = centered_start(w, self.w).saturating_add(self.dx);
        let fits = |start: i64, len: usize, size: usize| {
            len > 0
                && usize::try_from(start)
                    .is_ok_and(|s| s.checked_add(len).is_some_and(|e| e <= size))
        };
        if fits(top, self.h, h) && fits(left, self.w, w) {
            Ok((top as usize, left as usize))
        } else {
            Err(ParamError::CropOutside {
                top,
                left,
                crop_h: self.h,
                crop_w: self.w,
                h,
                w,
            })
        }
    }
}

/// The `crop_h` x `crop_w` window at (`top`, `left`) of every `h` x `w` plane
/// of `data`; the window must fit.
pub(super) fn crop_planes<T: Copy>(
    data: &[T],
    h: usize,
    w: usize,
    top: usize,
    left: usize,
    crop_h: usize,
    crop_w: usize,
) -> Vec<T> {
    let mut out = Vec::with_capacity(data.len() / (h * w).max(1) * crop_h * crop_w);
    for plane in data.chunks_exact((h * w).max(1)) {
        for row in plane.chunks_exact(w.max(1)).skip(top).take(crop_h) {
            out.extend_from_slice(&row[left..left + crop_w]);
        }
    }
    out
}

/// Start of a centred window, `round((size - window) / 2)` with ties to even
/// as torchvision's `center_crop` computes it with Python's `round`.
fn centered_start(size: usize, window: usize) -> i64 {
    // Saturating: absurd sizes must yield an out-of-image error, not overflow.
    let diff = i64::try_from(size)
        .unwrap_or(i64::MAX)
        .saturating_sub(i64::try_from(window).unwrap_or(i64::MAX));
    let half = diff.div_euclid(2);
    if diff.rem_euclid(2) == 1 && half.rem_euclid(2) == 1 {
        half + 1
    } else {
        half
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One 1-channel image whose pixel (r, c) is 10 r + c.
    fn grid(h: usize, w: usize) -> Images {
        let data = (0..h)
            .flat_map(|r| (0..w).map(move |c| (10 * r + c) as f32))
            .collect();
        Images::new(1, 1, h, w, data).unwrap()
    }

    #[test]
    fn centred_crop_by_hand() {
        let out = CropBox::centered(2, 2).apply(&grid(4, 6)).unwrap();
        assert_eq!((out.h, out.w), (2, 2));
        assert_eq!(out.data, vec![12.0, 13.0, 22.0, 23.0]);
    }

    #[test]
    fn odd_margins_round_half_to_even_like_torchvision() {
        // (5 - 2) / 2 = 1.5 -> 2; (7 - 2) / 2 = 2.5 -> 2.
        let out = CropBox::centered(2, 2).apply(&grid(5, 7)).unwrap();
        assert_eq!(out.data, vec![22.0, 23.0, 32.0, 33.0]);
    }

    #[test]
    fn offset_moves_the_window() {
        // Centred top is 3; 2 px up gives top 1; 1 px right gives left 4.
        let out = CropBox {
            h: 2,
            w: 2,
            dy: -2,
            dx: 1,
        }
        .apply(&grid(8, 8))
        .unwrap();
        assert_eq!(out.data, vec![14.0, 15.0, 24.0, 25.0]);
    }

    #[test]
    fn seed_003_anime_crop_position() {
        // 512x512 -> 256x256 at 14 px above the centre: top 114, left 128.
        let image =
            Images::new(1, 1, 512, 512, (0..512 * 512).map(|v| v as f32).collect()).unwrap();
        let out = CropBox {
            h: 256,
            w: 256,
            dy: -14,
            dx: 0,
        }
        .apply(&image)
        .unwrap();
        assert_eq!(out.data[0], (114 * 512 + 128) as f32);
    }

    #[test]
    fn every_plane_is_cropped() {
        let two = Images::new(2, 2, 3, 3, (0..36).map(|v| v as f32).collect()).unwrap();
        let out = CropBox::centered(1, 1).apply(&two).unwrap();
        assert_eq!(out.data, vec![4.0, 13.0, 22.0, 31.0]);
    }

    #[test]
    fn windows_outside_the_image_are_errors() {
        let image = grid(4, 4);
        for crop in [
            CropBox::centered(5, 2),
            CropBox {
                h: 2,
                w: 2,
                dy: -2,
                dx: 0,
            },
            CropBox {
                h: 2,
                w: 2,
                dy: 0,
                dx: 2,
            },
            CropBox::centered(0, 2),
            CropBox::centered(usize::MAX, 1),
            CropBox {
                h: 1,
                w: 1,
                dy: i64::MAX,
                dx: i64::MIN,
            },
        ] {
            let err = crop.apply(&image).unwrap_err();
            assert!(
                matches!(err, ParamError::CropOutside { .. }),
                "{crop:?}: {err:?}"
            );
        }
    }
}
