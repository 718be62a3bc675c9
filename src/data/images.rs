//! The image batch type shared by loaders and transforms.

use super::error::ParamError;

/// A batch of images, row-major [n, c, h, w], values in [-1, 1] unless stated.
#[derive(Clone, Debug, PartialEq)]
pub struct Images {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub data: Vec<f32>,
}

impl Images {
    /// Builds a batch, checking that `data` holds exactly `n * c * h * w` values.
    pub fn new(n: usize, c: usize, h: usize, w: usize, data: Vec<f32>) -> Result<Self, ParamError> {
        let images = Self { n, c, h, w, data };
        images.check()?;
        Ok(images)
    }

    /// Converts 8-bit pixels laid out [n, c, h, w] to [-1, 1] as `p / 255 * 2 - 1`.
    pub fn from_u8(
        n: usize,
        c: usize,
        h: usize,
        w: usize,
        pixels: &[u8],
    ) -> Result<Self, ParamError> {
        Self::new(
            n,
            c,
            h,
            w,
            pixels.iter().map(|&p| u8_to_signed(p)).collect(),
        )
    }

    /// Checks that the fields agree with the length of `data`.
    pub fn check(&self) -> Result<(), ParamError> {
        let expected = [self.n, self.c, self.h, self.w]
            .into_iter()
            .try_fold(1usize, usize::checked_mul);
        if expected == Some(self.data.len()) {
            Ok(())
        } else {
            Err(ParamError::Shape {
                what: "image batch",
                dims: vec![self.n, self.c, self.h, self.w],
                found: self.data.len(),
            })
        }
    }

    /// Number of values in one image (`c * h * w`).
    pub fn image_len(&self) -> usize {
        // Saturating: fields that disagree with `data` must not overflow here.
        self.c.saturating_mul(self.h).saturating_mul(self.w)
    }

    /// The values of image `i`, or `None` past the end.
    pub fn image(&self, i: usize) -> Option<&[f32]> {
        let len = self.image_len();
        let start = i.checked_mul(len)?;
        self.data.get(start..start.checked_add(len)?)
    }
}

/// `p / 255 * 2 - 1`, the [-1, 1] convention of docs/README.md.
fn u8_to_signed(p: u8) -> f32 {
    f32::from(p) / 255.0 * 2.0 - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_u8_maps_to_signed_range() {
        let images = Images::from_u8(1, 1, 1, 3, &[0, 51, 255]).unwrap();
        // 51 / 255 = 0.2, so 0.4 - 1.
        assert_eq!(images.data[0], -1.0);
        assert!((images.data[1] + 0.6).abs() < 1e-6, "{}", images.data[1]);
        assert_eq!(images.data[2], 1.0);
    }

    #[test]
    fn new_rejects_a_length_mismatch() {
        let err = Images::new(2, 1, 2, 2, vec![0.0; 7]).unwrap_err();
        assert!(err.to_string().contains("[2, 1, 2, 2]"), "{err}");
    }

    #[test]
    fn image_slices_one_image_and_stops_at_the_end() {
        let images = Images::new(2, 1, 1, 2, vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(images.image(1), Some(&[3.0, 4.0][..]));
        assert_eq!(images.image(2), None);
    }
}
