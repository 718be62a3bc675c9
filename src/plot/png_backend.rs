//! The bitmap backend used for PNGs, with its own text drawing.
// plotters 0.3.7's ab_glyph renderer places each glyph's bounding box at the
// pen position, dropping the glyph's left side bearing, so letters collide
// ("Tr") or drift apart ("t ="). Everything else is passed through to
// plotters' BitMapBackend unchanged.

use ab_glyph::{Font, ScaleFont, point};
use plotters::prelude::BitMapBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

use super::font;

/// An RGB bitmap backend drawing text with correct glyph spacing.
pub(crate) struct PngBackend<'a> {
    inner: BitMapBackend<'a>,
}

type Error<'a> = DrawingErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>;

impl<'a> PngBackend<'a> {
    /// Draws into `rgb`, which holds `w * h * 3` bytes.
    pub(crate) fn with_buffer(rgb: &'a mut [u8], size: (u32, u32)) -> PngBackend<'a> {
        PngBackend {
            inner: BitMapBackend::with_buffer(rgb, size),
        }
    }
}

fn font_error<'a>(e: super::error::PlotError) -> Error<'a> {
    DrawingErrorKind::FontError(Box::new(e))
}

impl<'a> DrawingBackend for PngBackend<'a> {
    type ErrorType = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), Error<'a>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), Error<'a>> {
        self.inner.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), Error<'a>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), Error<'a>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), Error<'a>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), Error<'a>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), Error<'a>> {
        font::measure(text, style.size()).map_err(font_error)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), Error<'a>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let (w, h) = font::measure(text, style.size()).map_err(font_error)?;
        let (w, h) = (w as i32, h as i32);
        // Offset of the text box's top-left corner from the anchor point.
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Center => -w / 2,
            HPos::Right => -w,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -h / 2,
            VPos::Bottom => -h,
        };
        let transform = style.transform();
        for (x, y, coverage) in coverage(text, style.size()).map_err(font_error)? {
            let (x, y) = transform.transform(x + dx, y + dy);
            let shade = BackendColor {
                alpha: color.alpha * f64::from(coverage),
                rgb: color.rgb,
            };
            self.inner.draw_pixel((pos.0 + x, pos.1 + y), shade)?;
        }
        Ok(())
    }
}

/// Anti-aliased pixels `(x, y, coverage)` of `text` set at `size`, relative
/// to the top-left of its box (ascent above the baseline).
fn coverage(text: &str, size: f64) -> Result<Vec<(i32, i32, f32)>, super::error::PlotError> {
    let face = font::face()?;
    let scale = font::em_scale(face, size);
    let scaled = face.as_scaled(scale);
    let mut pixels = Vec::new();
    let mut pen = 0.0;
    let mut prev = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            pen += scaled.kern(p, id);
        }
        let glyph = id.with_scale_and_position(scale, point(pen, scaled.ascent()));
        if let Some(outline) = face.outline_glyph(glyph) {
            let min = outline.px_bounds().min;
            outline.draw(|x, y, c| {
                if c > 0.0 {
                    pixels.push((min.x as i32 + x as i32, min.y as i32 + y as i32, c));
                }
            });
        }
        pen += scaled.h_advance(id);
        prev = Some(id);
    }
    Ok(pixels)
}

#[cfg(test)]
mod tests {
    use plotters::element::Text;
    use plotters::prelude::IntoDrawingArea;
    use plotters::style::text_anchor::Pos;

    use super::super::style;
    use super::*;

    /// Leftmost and rightmost inked columns of `text` drawn left-anchored at
    /// x = 10 with an em of 40 px.
    fn ink_columns(text: &str) -> (u32, u32) {
        // Not needed by this backend, but by plotters' own text path, so a
        // regression to it fails the assertions rather than the draw.
        super::super::font::ensure_registered().unwrap();
        let (w, h) = (600, 80);
        let mut rgb = vec![255u8; w * h * 3];
        {
            let root = PngBackend::with_buffer(&mut rgb, (w as u32, h as u32)).into_drawing_area();
            let style = style::text(40.0).pos(Pos::new(HPos::Left, VPos::Top));
            root.draw(&Text::new(text, (10, 10), style)).unwrap();
        }
        let inked: Vec<u32> = (0..w)
            .filter(|&x| (0..h).any(|y| rgb[(y * w + x) * 3] < 128))
            .map(|x| x as u32)
            .collect();
        (inked[0], inked[inked.len() - 1])
    }

    #[test]
    fn glyphs_keep_their_side_bearings() {
        // "=" has a left side bearing of about 3 px at this size; drawing
        // glyph boxes at the pen position would put ink at x = 10.
        let (left, right) = ink_columns("=");
        assert!(left >= 12, "'=' starts at {left}");
        // The ink ends within the measured advance width.
        let (advance, _) = style::text_size("=", 40.0).unwrap();
        assert!(
            right < 10 + advance,
            "'=' ends at {right}, advance {advance}"
        );
    }

    #[test]
    fn text_size_matches_drawn_width() {
        let text = "Training run (cost = L2)";
        let (left, right) = ink_columns(text);
        let (width, _) = style::text_size(text, 40.0).unwrap();
        let drawn = right - left + 1;
        assert!(
            drawn <= width && drawn + 8 >= width,
            "drawn {drawn}, measured {width}"
        );
    }
}
