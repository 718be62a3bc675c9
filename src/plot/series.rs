//! Series of measurements, and their reduction to what a chart draws.

use plotters::style::RGBColor;

/// One measurement: `y` at `x`, with an optional symmetric error `y ± y_err`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub y_err: Option<f64>,
}

/// A named sequence of points, drawn as one line in the given order.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend text; an empty name keeps the series out of the legend.
    pub name: String,
    pub points: Vec<Point>,
}

/// Series longer than this are drawn without point markers, so dense
/// training curves stay readable lines.
const MARKER_MAX: usize = 60;

/// A series reduced to what is drawn.
pub(crate) struct Line<'a> {
    pub name: &'a str,
    pub color: RGBColor,
    /// Runs of consecutive finite points; a skipped point ends a run.
    pub runs: Vec<Vec<(f64, f64)>>,
    /// `(x, y - err, y, y + err)` for points with a finite error.
    pub bars: Vec<(f64, f64, f64, f64)>,
    /// Whether each point gets a marker (short series only).
    pub markers: bool,
}

impl<'a> Line<'a> {
    /// Keeps the points with finite `x` and `y`, and the finite errors.
    pub fn new(series: &'a Series, color: RGBColor) -> Line<'a> {
        let mut runs = vec![Vec::new()];
        let mut bars = Vec::new();
        let mut count = 0;
        for p in &series.points {
            if !(p.x.is_finite() && p.y.is_finite()) {
                runs.push(Vec::new());
                continue;
            }
            count += 1;
            if let Some(last) = runs.last_mut() {
                last.push((p.x, p.y));
            }
            if let Some(err) = p.y_err.filter(|e| e.is_finite() && *e != 0.0) {
                let err = err.abs();
                bars.push((p.x, p.y - err, p.y, p.y + err));
            }
        }
        runs.retain(|r| !r.is_empty());
        Line {
            name: &series.name,
            color,
            runs,
            bars,
            markers: count <= MARKER_MAX,
        }
    }

    /// The x of every kept point.
    pub fn xs(&self) -> impl Iterator<Item = f64> + '_ {
        self.runs.iter().flatten().map(|p| p.0)
    }

    /// The y of every kept point and error bar end.
    pub fn ys(&self) -> impl Iterator<Item = f64> + '_ {
        let points = self.runs.iter().flatten().map(|p| p.1);
        let bars = self.bars.iter().flat_map(|b| [b.1, b.3]);
        points.chain(bars)
    }
}

#[cfg(test)]
mod tests {
    use super::super::span::Span;
    use super::super::style;
    use super::*;

    fn point(x: f64, y: f64, y_err: Option<f64>) -> Point {
        Point { x, y, y_err }
    }

    #[test]
    fn line_breaks_at_skipped_points_and_keeps_finite_errors() {
        let s = Series {
            name: "s".into(),
            points: vec![
                point(0.0, 1.0, Some(-0.5)),
                point(1.0, f64::NAN, Some(1.0)),
                point(2.0, 3.0, Some(f64::INFINITY)),
                point(3.0, 4.0, None),
            ],
        };
        let line = Line::new(&s, style::series_color(0));
        assert_eq!(
            line.runs,
            vec![vec![(0.0, 1.0)], vec![(2.0, 3.0), (3.0, 4.0)]]
        );
        assert_eq!(line.bars, vec![(0.0, 0.5, 1.0, 1.5)]);
        assert_eq!(Span::of(line.ys()), Some(Span { lo: 0.5, hi: 4.0 }));
    }
}
