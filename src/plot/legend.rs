//! A legend drawn in its own column beside the plot, so it never hides data.

use plotters::coord::Shift;
use plotters::element::{Circle, PathElement, Rectangle, Text};
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, RGBColor};

use super::error::PlotError;
use super::render::DrawResult;
use super::style::{self, LEGEND_SIZE};

/// How an entry's sample is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Swatch {
    /// A short line with a dot, for line series.
    Line,
    /// A dot alone, for point clouds.
    Marker,
}

/// One legend row.
pub(crate) struct Entry<'a> {
    pub label: &'a str,
    pub color: RGBColor,
    pub swatch: Swatch,
}

const SWATCH_W: i32 = 26;
const GAP: i32 = 8;
const PAD: i32 = 8;
const ROW_H: i32 = 22;
/// Space between the legend box and the plot on its left.
const OUTER: i32 = 10;

/// Pixel width of the legend column for `entries`; 0 when there are none.
pub(crate) fn width(entries: &[Entry]) -> Result<u32, PlotError> {
    let mut text = None;
    for e in entries {
        let w = style::text_size(e.label, LEGEND_SIZE)?.0;
        text = text.max(Some(w));
    }
    Ok(text.map_or(0, |t| t + (2 * OUTER + 2 * PAD + SWATCH_W + GAP) as u32))
}

/// Draws `entries` in a framed box at the top of `area`, `top` pixels down.
pub(crate) fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[Entry],
    top: i32,
) -> DrawResult<DB> {
    if entries.is_empty() {
        return Ok(());
    }
    let (w, _) = area.dim_in_pixel();
    let box_w = w as i32 - 2 * OUTER;
    let box_h = 2 * PAD + ROW_H * entries.len() as i32;
    let (x0, y0) = (OUTER, top);
    area.draw(&Rectangle::new(
        [(x0, y0), (x0 + box_w, y0 + box_h)],
        style::AXIS.stroke_width(1),
    ))?;
    let label_style = style::text(LEGEND_SIZE).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, entry) in entries.iter().enumerate() {
        let y = y0 + PAD + ROW_H * i as i32 + ROW_H / 2;
        let sx = x0 + PAD;
        if entry.swatch == Swatch::Line {
            area.draw(&PathElement::new(
                [(sx, y), (sx + SWATCH_W, y)],
                entry.color.stroke_width(2),
            ))?;
        }
        area.draw(&Circle::new(
            (sx + SWATCH_W / 2, y),
            4,
            entry.color.filled(),
        ))?;
        area.draw(&Text::new(
            entry.label,
            (sx + SWATCH_W + GAP, y),
            label_style.clone(),
        ))?;
    }
    Ok(())
}
