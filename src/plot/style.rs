//! Shared look: text sizes, grid colours and the series palette.

use plotters::chart::MeshStyle;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::DrawingBackend;
use plotters::style::{FontDesc, IntoFont, RGBColor, TextStyle};

use super::error::PlotError;
use super::font::{self, FAMILY, SIZE_PER_EM};

// Text sizes are em heights in pixels, as an SVG `font-size` gives them.
pub(crate) const TITLE_SIZE: f64 = 22.0;
pub(crate) const LABEL_SIZE: f64 = 16.0;
pub(crate) const TICK_SIZE: f64 = 13.0;
pub(crate) const LEGEND_SIZE: f64 = 14.0;

pub(crate) const TEXT: RGBColor = RGBColor(30, 30, 30);
pub(crate) const AXIS: RGBColor = RGBColor(90, 90, 90);
pub(crate) const GRID: RGBColor = RGBColor(225, 225, 225);

/// Matplotlib's "tab10" colours: distinct, and familiar to readers of papers.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The colour of the `index`-th series, cycling through the palette.
pub(crate) fn series_color(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// Applies the shared axis look: short tick numbers, major grid lines only.
pub(crate) fn axes<DB: DrawingBackend>(
    mesh: &mut MeshStyle<'_, '_, RangedCoordf64, RangedCoordf64, DB>,
) {
    mesh.label_style(text(TICK_SIZE))
        .axis_desc_style(text(LABEL_SIZE))
        .axis_style(AXIS)
        .bold_line_style(GRID)
        .max_light_lines(0)
        .x_label_formatter(&number)
        .y_label_formatter(&number);
}

/// The font with an em of `size` pixels.
pub(crate) fn font(size: f64) -> FontDesc<'static> {
    (FAMILY, size * SIZE_PER_EM).into_font()
}

/// Dark text with an em of `size` pixels.
pub(crate) fn text(size: f64) -> TextStyle<'static> {
    font(size).color(&TEXT)
}

/// Pixel width and height of `text` with an em of `size` pixels.
pub(crate) fn text_size(text: &str, size: f64) -> Result<(u32, u32), PlotError> {
    font::measure(text, size * SIZE_PER_EM)
}

/// A tick label: at most six decimals, trailing zeros dropped, and
/// scientific notation for very large or very small magnitudes.
pub(crate) fn number(v: &f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e6).contains(&a) {
        return format!("{v:.2e}");
    }
    let fixed = format!("{v:.6}");
    let trimmed = fixed.trim_end_matches('0').trim_end_matches('.');
    // Rounding can leave "-0" for tiny negative values.
    if trimmed == "-0" {
        "0".into()
    } else {
        trimmed.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short() {
        assert_eq!(number(&200.0), "200");
        assert_eq!(number(&0.30000000000000004), "0.3");
        assert_eq!(number(&-1.5), "-1.5");
        assert_eq!(number(&0.0), "0");
        assert_eq!(number(&-0.0000001), "-1.00e-7");
        assert_eq!(number(&2.5e7), "2.50e7");
    }
}
