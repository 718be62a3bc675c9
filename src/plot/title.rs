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
    let (title, size) = fitted(title, width.saturating_sub(2 * SIDE), TITLE_SIZE);
    let style = style::text(size).pos(Pos::new(HPos::Center, VPos::Center));
    let centre = (width as i32 / 2, TITLE_H as i32 / 2);
    root.draw(&Text::new(title, centre, style))?;
    Ok(())
}

/// Room kept clear on each side of a title.
const SIDE: u32 = 8;
/// The smallest a long title's letters shrink to before it is shortened.
const SMALLEST: f64 = 12.0;

/// `title` and a font size at which it fits `room` pixels: `size`, else
/// smaller, else the smallest with its end cut to an ellipsis (a title
/// wider than its figure lost both ends).
pub(crate) fn fitted(title: &str, room: u32, size: f64) -> (String, f64) {
    let fits = |text: &str, size: f64| style::text_size(text, size).is_ok_and(|(w, _)| w <= room);
    let mut size = size;
    loop {
        if fits(title, size) {
            return (title.to_string(), size);
        }
        if size <= SMALLEST {
            break;
        }
        size = (size - 1.0).max(SMALLEST);
    }
    let mut chars: Vec<char> = title.chars().collect();
    loop {
        chars.pop();
        let text: String = chars.iter().chain(['…'].iter()).collect();
        if chars.is_empty() || fits(&text, SMALLEST) {
            return (text, SMALLEST);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_title_shrinks_then_is_cut() {
        assert_eq!(
            fitted("Short", 400, TITLE_SIZE),
            ("Short".to_string(), TITLE_SIZE)
        );
        let long = "Noisy super-resolution (noise=0.2 cost=weak_quadratic gamma=0.5)";
        let (text, size) = fitted(long, 420, TITLE_SIZE);
        assert!((SMALLEST..TITLE_SIZE).contains(&size), "{size}");
        assert!(style::text_size(&text, size).unwrap().0 <= 420);
        let (cut, size) = fitted(long, 200, TITLE_SIZE);
        assert_eq!(size, SMALLEST);
        assert!(
            cut.ends_with('…') && long.starts_with(cut.trim_end_matches('…')),
            "{cut}"
        );
        assert!(style::text_size(&cut, size).unwrap().0 <= 200);
    }
}
