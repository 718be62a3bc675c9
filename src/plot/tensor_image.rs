//! Images as tensors hold them, and their display colours.

use plotters::style::RGBColor;

/// An image in channel-major `(c, h, w)` order, the layout of a tensor
/// slice, with values in `[-1, 1]`. `c` is 1 (grayscale) or 3 (RGB).
#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub data: Vec<f32>,
}

/// Drawn for non-finite values, which no valid pixel maps to.
const NOT_FINITE: RGBColor = RGBColor(255, 0, 255);

impl Image {
    /// Why the image cannot be drawn, if it cannot.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.c != 1 && self.c != 3 {
            return Err(format!("{} channels; expected 1 or 3", self.c));
        }
        if self.h == 0 || self.w == 0 {
            return Err(format!("empty image {}x{}", self.h, self.w));
        }
        let expected = self
            .c
            .checked_mul(self.h)
            .and_then(|n| n.checked_mul(self.w));
        if expected != Some(self.data.len()) {
            return Err(format!(
                "{} values for shape {}x{}x{}",
                self.data.len(),
                self.c,
                self.h,
                self.w
            ));
        }
        Ok(())
    }

    /// The display colour of the pixel at row `y`, column `x`.
    pub(crate) fn color_at(&self, y: usize, x: usize) -> RGBColor {
        let plane = self.h * self.w;
        let at = y * self.w + x;
        let channel = |k: usize| self.data[k * plane + at];
        let (r, g, b) = if self.c == 1 {
            let v = channel(0);
            (v, v, v)
        } else {
            (channel(0), channel(1), channel(2))
        };
        match (intensity(r), intensity(g), intensity(b)) {
            (Some(r), Some(g), Some(b)) => RGBColor(r, g, b),
            _ => NOT_FINITE,
        }
    }
}

/// Maps a value in `[-1, 1]` to a byte, or `None` if it is not finite.
fn intensity(v: f32) -> Option<u8> {
    v.is_finite()
        .then(|| ((v * 0.5 + 0.5).clamp(0.0, 1.0) * 255.0).round() as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intensity_maps_and_clips() {
        assert_eq!(intensity(-1.0), Some(0));
        assert_eq!(intensity(0.0), Some(128));
        assert_eq!(intensity(1.0), Some(255));
        assert_eq!(intensity(-7.0), Some(0));
        assert_eq!(intensity(3.0), Some(255));
        assert_eq!(intensity(f32::NAN), None);
    }

    #[test]
    fn pixel_reads_channel_major_rgb() {
        // 1x2 RGB: left pixel red, right pixel blue.
        let image = Image {
            c: 3,
            h: 1,
            w: 2,
            data: vec![1.0, -1.0, -1.0, -1.0, -1.0, 1.0],
        };
        assert_eq!(image.color_at(0, 0), RGBColor(255, 0, 0));
        assert_eq!(image.color_at(0, 1), RGBColor(0, 0, 255));
    }
}
