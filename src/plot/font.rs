//! The embedded font: registered once with plotters (SVG layout, axis
//! labels) and measured here for layouts and PNG text.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use plotters::style::{FontStyle, register_font};

use super::error::PlotError;

/// The family name every text style uses. It is plotters' own default
/// family, so styles built from plain `(family, size)` pairs find the font.
pub(crate) const FAMILY: &str = "sans-serif";

/// DejaVu Sans from Debian's fonts-dejavu-core (licence next to the file).
// Embedded rather than looked up so text renders on headless machines that
// have no fonts and no fontconfig.
static DEJAVU_SANS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/DejaVuSans.ttf"
));

/// Registers the embedded font with plotters under [`FAMILY`]; later calls
/// only return the first call's outcome.
pub(crate) fn ensure_registered() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    // Bold and other styles fall back to the normal face inside plotters.
    let ok =
        *REGISTERED.get_or_init(|| register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok());
    if ok { Ok(()) } else { Err(PlotError::Font) }
}

/// The parsed embedded font.
pub(crate) fn face() -> Result<&'static FontRef<'static>, PlotError> {
    static FACE: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FACE.get_or_init(|| FontRef::try_from_slice(DEJAVU_SANS).ok())
        .as_ref()
        .ok_or(PlotError::Font)
}

/// Plotters font sizes per pixel of em: its SVG backend writes
/// `font-size = size / 1.24`.
pub(crate) const SIZE_PER_EM: f64 = 1.24;

/// The ab_glyph scale for plotters font size `size`, giving PNG text the
/// em the SVG gets.
// ab_glyph's plain `PxScale::from(size)` sets ascent-to-descent rather than
// the em, which would draw PNG text at a different size from the SVG's.
pub(crate) fn em_scale(face: &FontRef, size: f64) -> PxScale {
    let units_per_em = face.units_per_em().unwrap_or(2048.0);
    let em = size / SIZE_PER_EM;
    PxScale::from(em as f32 * face.height_unscaled() / units_per_em)
}

/// Width (advances and kerning) and height (ascent to descent) in pixels of
/// `text` at plotters font size `size`.
pub(crate) fn measure(text: &str, size: f64) -> Result<(u32, u32), PlotError> {
    let face = face()?;
    let scaled = face.as_scaled(em_scale(face, size));
    let mut width = 0.0;
    let mut prev = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            width += scaled.kern(p, id);
        }
        width += scaled.h_advance(id);
        prev = Some(id);
    }
    let height = scaled.ascent() - scaled.descent();
    Ok((width.ceil() as u32, height.ceil() as u32))
}

#[cfg(test)]
mod tests {
    use plotters::style::IntoFont;

    use super::*;

    #[test]
    fn plotters_finds_the_registered_font() {
        ensure_registered().unwrap();
        let (w, h) = (FAMILY, 20.0).into_font().box_size("abc").unwrap();
        assert!(w > 0 && h > 0);
    }

    #[test]
    fn measure_grows_with_text_and_size() {
        let (short, h) = measure("ab", 14.0 * SIZE_PER_EM).unwrap();
        let (long, _) = measure("abababab", 14.0 * SIZE_PER_EM).unwrap();
        let (_, big_h) = measure("ab", 28.0 * SIZE_PER_EM).unwrap();
        assert!(long > 3 * short, "{short} vs {long}");
        // DejaVu's ascent-to-descent is 1.16 em.
        assert!((16..=17).contains(&h), "height {h} at 14 px em");
        assert!(big_h >= 2 * h - 1, "{h} vs {big_h}");
    }
}
