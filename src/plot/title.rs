//! The title band at the top of every figure.

use plotters::coord::Shift;
use plotters::element::Text;
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::render::DrawResult;
use super::style::{self, TITLE_SIZE};

/// Height of the band holding a title.
pub(crate) const TITLE_H: u32 = 40;
/// Height of the band when there is no title: just a margin.
const UNTITLED_H: u32 = 10;

/// Height of the band above a figure's content for `title`.
pub(crate) fn band_height(title: &str) -> u32 {
    if title.is_empty() {
        UNTITLED_H
    } else {
        TITLE_H
    }
}

/// Draws `title` centred over the first `width` pixels of `root`'s top band.
pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    width: u32,
) -> DrawResult<DB> {
    if title.is_empty() {
        return Ok(());
    }
    let style = style::text(TITLE_SIZE).pos(Pos::new(HPos::Center, VPos::Center));
    let centre = (width as i32 / 2, TITLE_H as i32 / 2);
    root.draw(&Text::new(title, centre, style))?;
    Ok(())
}
