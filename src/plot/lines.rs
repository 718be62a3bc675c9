//! Line charts of named series with error bars: one chart, or several panels
//! stacked vertically that share the x axis (training curves).

use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf64;
use plotters::element::{Circle, ErrorBar, PathElement, Text};
use plotters::prelude::{ChartBuilder, DrawingArea, DrawingBackend};
use plotters::style::Color;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::error::PlotError;
use super::legend::{self, Entry, Swatch};
use super::render::{self, DrawResult, Figure, RenderedFiles};
use super::series::{Line, Series};
use super::span::Span;
use super::style::{self, LABEL_SIZE};
use super::title;

/// One panel of a stacked figure: its own y axis, sharing x with the others.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    pub y_label: String,
    pub series: Vec<Series>,
}

/// Figure width, unless the legend leaves the plot narrower than `MIN_PLOT_W`.
const WIDTH: u32 = 800;
const MIN_PLOT_W: u32 = 560;
/// Height of the plot of a single chart, and of each panel in a stack.
const SINGLE_PANEL_H: u32 = 410;
const STACKED_PANEL_H: u32 = 200;
/// Room under the bottom panel for x tick labels and the x label.
const X_AXIS_H: u32 = 50;
const Y_AXIS_W: u32 = 75;
/// Beside the widest y tick number: its tick, the gap, the axis name.
const Y_NAME_ROOM: u32 = 42;
const MARGIN: u32 = 10;
/// Roughly one y tick label per this many pixels of panel height.
const PX_PER_Y_LABEL: u32 = 50;

/// Writes a line chart of `series` to `<stem>.png` and `<stem>.svg`.
///
/// Points whose `x` or `y` is not finite are skipped and break the line
/// there; a non-finite `y_err` draws no error bar. Series left with no point
/// are left out, legend included. Fails with [`PlotError::NoData`] when no
/// series has a finite point.
///
/// The figure is 800x500 pixels, wider only if the legend needs more than
/// 240 of them.
pub fn line_chart(
    stem: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<RenderedFiles, PlotError> {
    let panel = PanelData::new(y_label, series);
    LinesFigure::new(stem, title, x_label, vec![panel], SINGLE_PANEL_H)
        .and_then(|fig| render::render(stem, &fig))
}

/// Writes a chart with axes and no line, `note` in its middle: a figure
/// whose every cell had nothing to draw (each diverged) keeps its place in
/// a report, and says why it is empty.
pub fn empty_chart(
    stem: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    note: &str,
) -> Result<RenderedFiles, PlotError> {
    let figure = LinesFigure {
        title,
        x_label,
        panels: vec![PanelData {
            y_label,
            lines: Vec::new(),
            empty: note,
        }],
        x: Span { lo: 0.0, hi: 1.0 },
        panel_h: SINGLE_PANEL_H,
        legend_w: 0,
    };
    render::render(stem, &figure)
}

/// Writes `panels` stacked top to bottom, sharing the x axis, each with its
/// own y axis and legend. Only the bottom panel shows x tick labels.
///
/// Non-finite values are handled as in [`line_chart`]. A panel left with no
/// point shows "no finite data"; fails with [`PlotError::NoData`] when no
/// panel has a finite point.
///
/// The figure is 800 pixels wide (as [`line_chart`]) and 90 + 200 per
/// panel high.
pub fn panels(
    stem: &Path,
    title: &str,
    x_label: &str,
    panels: &[Panel],
) -> Result<RenderedFiles, PlotError> {
    let data = panels
        .iter()
        .map(|p| PanelData::new(&p.y_label, &p.series))
        .collect();
    LinesFigure::new(stem, title, x_label, data, STACKED_PANEL_H)
        .and_then(|fig| render::render(stem, &fig))
}

struct PanelData<'a> {
    y_label: &'a str,
    lines: Vec<Line<'a>>,
    /// What an empty panel says in its middle.
    empty: &'a str,
}

impl<'a> PanelData<'a> {
    fn new(y_label: &'a str, series: &'a [Series]) -> PanelData<'a> {
        // Colours follow the series' position, so a series keeps its colour
        // whether or not the ones before it had data.
        let lines = series
            .iter()
            .enumerate()
            .map(|(i, s)| Line::new(s, style::series_color(i)))
            .filter(|l| !l.runs.is_empty())
            .collect();
        PanelData {
            y_label,
            lines,
            empty: "no finite data",
        }
    }

    fn legend(&self) -> Vec<Entry<'a>> {
        self.lines
            .iter()
            .filter(|l| !l.name.is_empty())
            .map(|l| Entry {
                label: l.name,
                color: l.color,
                swatch: Swatch::Line,
            })
            .collect()
    }
}

struct LinesFigure<'a> {
    title: &'a str,
    x_label: &'a str,
    panels: Vec<PanelData<'a>>,
    x: Span,
    panel_h: u32,
    legend_w: u32,
}

impl<'a> LinesFigure<'a> {
    fn new(
        stem: &Path,
        title: &'a str,
        x_label: &'a str,
        panels: Vec<PanelData<'a>>,
        panel_h: u32,
    ) -> Result<LinesFigure<'a>, PlotError> {
        let xs = panels.iter().flat_map(|p| &p.lines).flat_map(Line::xs);
        let x = Span::of(xs).ok_or_else(|| PlotError::NoData {
            path: stem.to_path_buf(),
            reason: "no series has a point with finite x and y".into(),
        })?;
        let mut legend_w = 0;
        for p in &panels {
            legend_w = legend_w.max(legend::width(&p.legend())?);
        }
        Ok(LinesFigure {
            title,
            x_label,
            panels,
            x: x.padded(0.03),
            panel_h,
            legend_w,
        })
    }
}

impl Figure for LinesFigure<'_> {
    fn size(&self) -> (u32, u32) {
        let n = self.panels.len() as u32;
        let width = WIDTH.max(MIN_PLOT_W + self.legend_w);
        (
            width,
            title::band_height(self.title) + n * self.panel_h + X_AXIS_H,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (w, _) = self.size();
        title::draw(root, self.title, w - self.legend_w)?;
        let body = root.margin(title::band_height(self.title), 0, 0, 0);
        let (plots, legends) = body.split_horizontally(w - self.legend_w);
        // Every panel but the last gets the same height; the last also holds
        // the shared x axis.
        let breaks: Vec<i32> = (1..self.panels.len() as u32)
            .map(|i| (i * self.panel_h) as i32)
            .collect();
        let rows = plots.split_by_breakpoints::<i32, i32, _, _>([], &breaks);
        let legend_rows = legends.split_by_breakpoints::<i32, i32, _, _>([], &breaks);
        let last = self.panels.len() - 1;
        // One width for all panels, so that they share the x axis exactly.
        let y_axis_w = self
            .panels
            .iter()
            .map(|panel| y_axis_width(y_span(panel), self.y_labels()))
            .max()
            .unwrap_or(Y_AXIS_W);
        for (i, panel) in self.panels.iter().enumerate() {
            let x_label = (i == last).then_some(self.x_label);
            self.draw_panel(&rows[i], panel, x_label, y_axis_w)?;
            legend::draw(&legend_rows[i], &panel.legend(), MARGIN as i32)?;
        }
        Ok(())
    }
}

impl LinesFigure<'_> {
    /// How many numbers a panel's y axis shows.
    fn y_labels(&self) -> usize {
        (self.panel_h / PX_PER_Y_LABEL) as usize
    }

    /// Draws one panel; `x_label` is set only on the panel carrying the x axis.
    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        panel: &PanelData,
        x_label: Option<&str>,
        y_axis_w: u32,
    ) -> DrawResult<DB> {
        let y = y_span(panel);
        let y_labels = self.y_labels();
        let mut chart = ChartBuilder::on(area)
            .margin_top(MARGIN)
            .margin_left(MARGIN)
            .margin_right(MARGIN)
            .y_label_area_size(y_axis_w)
            .x_label_area_size(if x_label.is_some() { X_AXIS_H } else { 0 })
            .build_cartesian_2d(self.x.range(), y.range())?;
        let mut mesh = chart.configure_mesh();
        style::axes(&mut mesh);
        mesh.y_desc(panel.y_label).y_labels(y_labels);
        if let Some(x_label) = x_label {
            mesh.x_desc(x_label);
        }
        mesh.draw()?;

        if panel.lines.is_empty() {
            let style = style::text(LABEL_SIZE).pos(Pos::new(HPos::Center, VPos::Center));
            let centre = ((self.x.lo + self.x.hi) / 2.0, 0.5);
            chart.draw_series([Text::new(panel.empty.to_string(), centre, style)])?;
        }
        for line in &panel.lines {
            let stroke = line.color.stroke_width(2);
            for run in &line.runs {
                chart.draw_series([PathElement::new(run.clone(), stroke)])?;
            }
            let bar_style = line.color.stroke_width(1);
            chart.draw_series(
                line.bars
                    .iter()
                    .map(|&(x, lo, y, hi)| ErrorBar::new_vertical(x, lo, y, hi, bar_style, 8)),
            )?;
            if line.markers {
                let dots = line.runs.iter().flatten();
                chart.draw_series(dots.map(|&p| Circle::new(p, 3, line.color.filled())))?;
            }
        }
        Ok(())
    }
}

/// The y values a panel shows, with a margin above and below.
fn y_span(panel: &PanelData) -> Span {
    Span::of(panel.lines.iter().flat_map(Line::ys))
        .map_or(Span { lo: 0.0, hi: 1.0 }, |s| s.padded(0.06))
}

/// Room left of a panel for its y tick numbers and the axis name beside
/// them: the usual width, or more where the numbers are long (0.03465).
fn y_axis_width(y: Span, labels: usize) -> u32 {
    let coord: RangedCoordf64 = y.range().into();
    let widest = coord
        .key_points(labels)
        .iter()
        .filter_map(|v| style::text_size(&style::number(v), style::TICK_SIZE).ok())
        .map(|(w, _)| w)
        .max()
        .unwrap_or(0);
    Y_AXIS_W.max(widest + Y_NAME_ROOM)
}

#[cfg(test)]
mod tests {
    use super::super::series::Point;
    use super::super::test_support::{assert_rendered, ink, read_png};
    use super::*;

    fn point(x: f64, y: f64, y_err: Option<f64>) -> Point {
        Point { x, y, y_err }
    }

    fn series(name: &str, points: Vec<Point>) -> Series {
        Series {
            name: name.into(),
            points,
        }
    }

    fn costs() -> Vec<Series> {
        (0..3)
            .map(|c| {
                let points = (0..6)
                    .map(|i| point(i as f64 * 0.2, 20.0 + c as f64 + i as f64, Some(0.5)))
                    .collect();
                series(&format!("cost {c}"), points)
            })
            .collect()
    }

    #[test]
    fn line_chart_writes_png_and_svg() {
        let dir = tempfile::tempdir().unwrap();
        let files = line_chart(
            &dir.path().join("psnr"),
            "PSNR vs gamma",
            "gamma",
            "PSNR",
            &costs(),
        )
        .unwrap();
        assert_eq!(files.png, dir.path().join("psnr.png"));
        assert_eq!(files.svg, dir.path().join("psnr.svg"));
        let texts = ["PSNR vs gamma", "gamma", "PSNR", "cost 0", "cost 2"];
        assert_rendered(&files, (800, 500), &texts);
    }

    #[test]
    fn title_text_is_drawn() {
        let dir = tempfile::tempdir().unwrap();
        let title_ink = |title: &str| {
            let files = line_chart(&dir.path().join("t"), title, "x", "y", &costs()).unwrap();
            // The title band, right of the y axis and left of the legend.
            let img = read_png(&files.png);
            let band = image::imageops::crop_imm(&img, 100, 0, 400, title::TITLE_H).to_image();
            ink(&band, 0..title::TITLE_H)
        };
        let empty = title_ink("");
        let long = title_ink("A rather long title for this chart");
        assert!(
            long > empty + 800,
            "title ink {long} vs {empty} without title"
        );
    }

    #[test]
    fn non_finite_points_and_empty_series_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let nan = point(f64::NAN, 1.0, None);
        let data = [
            series("all nan", vec![nan, point(1.0, f64::INFINITY, None)]),
            series("empty", vec![]),
            series(
                "good",
                vec![point(0.0, 1.0, Some(f64::NAN)), nan, point(1.0, 2.0, None)],
            ),
        ];
        let files = line_chart(&dir.path().join("c"), "skips", "x", "y", &data).unwrap();
        let svg = std::fs::read_to_string(&files.svg).unwrap();
        assert!(svg.contains("\ngood\n"));
        assert!(!svg.contains("all nan") && !svg.contains("\nempty\n"));
    }

    #[test]
    fn only_non_finite_data_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("nothing");
        let data = [series("nan", vec![point(f64::NAN, f64::NAN, None)])];
        let err = line_chart(&stem, "t", "x", "y", &data).unwrap_err();
        assert!(matches!(err, PlotError::NoData { ref path, .. } if *path == stem));
        assert!(err.to_string().contains("nothing"), "{err}");
        assert!(!dir.path().join("nothing.png").exists());
        let err = panels(&stem, "t", "x", &[]).unwrap_err();
        assert!(matches!(err, PlotError::NoData { .. }), "{err}");
    }

    #[test]
    fn panels_stack_with_own_y_labels() {
        let dir = tempfile::tempdir().unwrap();
        let curve = |f: fn(f64) -> f64| {
            let points = (0..300)
                .map(|s| point(s as f64, f(s as f64), None))
                .collect();
            vec![series("train", points)]
        };
        let stack = [
            Panel {
                y_label: "f loss".into(),
                series: curve(|s| (-s / 50.0).exp()),
            },
            Panel {
                y_label: "T loss".into(),
                series: curve(|s| (s / 20.0).sin()),
            },
            Panel {
                y_label: "gamma".into(),
                series: vec![series("nan", vec![point(0.0, f64::NAN, None)])],
            },
        ];
        let stem = dir.path().join("curves");
        let files = panels(&stem, "Training", "step", &stack).unwrap();
        let texts = [
            "Training",
            "step",
            "f loss",
            "T loss",
            "gamma",
            "no finite data",
        ];
        assert_rendered(&files, (800, 40 + 3 * 200 + 50), &texts);
    }
}
