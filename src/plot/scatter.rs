//! 2-D maps: labelled point clouds (source, target, pushforward) with
//! optional displacement segments x -> T(x, z), at equal aspect ratio; one
//! map, or a row of small multiples (snapshots over training).

use std::path::Path;

use plotters::coord::Shift;
use plotters::element::{Circle, PathElement, Text};
use plotters::prelude::{ChartBuilder, DrawingArea, DrawingBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, RGBColor};

use super::cloud::{Map, ScatterPanel};
use super::error::PlotError;
use super::legend::{self, Entry, Swatch};
use super::render::{self, DrawResult, Figure, RenderedFiles};
use super::span::{Span, equal_aspect};
use super::style::{self, LABEL_SIZE};
use super::title;

const MARGIN: u32 = 10;
const X_AXIS_H: u32 = 30;
const Y_AXIS_W: u32 = 50;
const SEGMENT: RGBColor = RGBColor(90, 90, 90);

/// Sizes for one kind of map.
struct Look {
    /// Pixel size of one panel, its title included.
    panel: (u32, u32),
    /// Height of the panel's own title; 0 for none.
    panel_title_h: u32,
    point_radius: u32,
    /// Number of tick labels wanted on each axis.
    ticks: usize,
}

/// A lone map, titled by the figure title.
const SINGLE: Look = Look {
    panel: (620, 560),
    panel_title_h: 0,
    point_radius: 3,
    ticks: 8,
};

/// One of a row of small multiples, each under its own title.
const SMALL: Look = Look {
    panel: (300, 326),
    panel_title_h: 26,
    point_radius: 2,
    ticks: 5,
};

/// Writes one map to `<stem>.png` and `<stem>.svg`, titled with the panel's
/// title, legend on the right.
///
/// Points and segments with a non-finite coordinate are skipped; clouds left
/// empty are left out, legend included. Fails with [`PlotError::NoData`]
/// when nothing is left.
///
/// The figure is 620x600 pixels plus the legend column.
pub fn scatter(stem: &Path, panel: &ScatterPanel) -> Result<RenderedFiles, PlotError> {
    let figure = ScatterFigure::new(stem, &panel.title, std::slice::from_ref(panel), &SINGLE)?;
    render::render(stem, &figure)
}

/// Writes `panels` side by side under `title`, each with its own title, one
/// shared legend on the right. All panels share the same axis ranges, so
/// snapshots of one run can be compared by eye.
///
/// Non-finite values are handled as in [`scatter`]; a panel left empty
/// shows "no finite data". Fails with [`PlotError::NoData`] when no panel
/// has anything to draw.
///
/// The figure is 366 pixels high and 300 wide per panel, plus the legend.
pub fn scatter_row(
    stem: &Path,
    title: &str,
    panels: &[ScatterPanel],
) -> Result<RenderedFiles, PlotError> {
    let figure = ScatterFigure::new(stem, title, panels, &SMALL)?;
    render::render(stem, &figure)
}

struct ScatterFigure<'a> {
    title: &'a str,
    panels: Vec<Map<'a>>,
    look: &'static Look,
    x: Span,
    y: Span,
    legend_w: u32,
}

impl<'a> ScatterFigure<'a> {
    fn new(
        stem: &Path,
        title: &'a str,
        panels: &'a [ScatterPanel],
        look: &'static Look,
    ) -> Result<ScatterFigure<'a>, PlotError> {
        let panels: Vec<Map> = panels.iter().map(Map::new).collect();
        let x = Span::of(panels.iter().flat_map(|p| p.points().map(|p| p.0)));
        let y = Span::of(panels.iter().flat_map(|p| p.points().map(|p| p.1)));
        let (Some(x), Some(y)) = (x, y) else {
            return Err(PlotError::NoData {
                path: stem.to_path_buf(),
                reason: "no point or segment has finite coordinates".into(),
            });
        };
        let legend_w = legend::width(&legend_entries(&panels))?;
        Ok(ScatterFigure {
            title,
            panels,
            look,
            x: x.padded(0.05),
            y: y.padded(0.05),
            legend_w,
        })
    }

    /// Pixel size of each panel's plotting area.
    fn plot_size(&self) -> (u32, u32) {
        let (w, h) = self.look.panel;
        let h = h - self.look.panel_title_h;
        (w - 2 * MARGIN - Y_AXIS_W, h - 2 * MARGIN - X_AXIS_H)
    }
}

/// One legend row per distinct labelled cloud, in order of first appearance.
fn legend_entries<'a>(panels: &[Map<'a>]) -> Vec<Entry<'a>> {
    let mut entries: Vec<Entry> = Vec::new();
    for dots in panels.iter().flat_map(|p| &p.clouds) {
        let seen = entries
            .iter()
            .any(|e| e.label == dots.label && e.color == dots.color);
        if !dots.label.is_empty() && !seen {
            entries.push(Entry {
                label: dots.label,
                color: dots.color,
                swatch: Swatch::Marker,
            });
        }
    }
    entries
}

impl Figure for ScatterFigure<'_> {
    fn size(&self) -> (u32, u32) {
        let n = self.panels.len() as u32;
        let (w, h) = self.look.panel;
        (n * w + self.legend_w, title::band_height(self.title) + h)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (w, _) = self.size();
        title::draw(root, self.title, w - self.legend_w)?;
        let body = root.margin(title::band_height(self.title), 0, 0, 0);
        let (plots, legend_area) = body.split_horizontally(w - self.legend_w);
        let (x, y) = equal_aspect(self.x, self.y, self.plot_size());
        let panel_w = self.look.panel.0 as i32;
        let breaks: Vec<i32> = (1..self.panels.len() as i32).map(|i| i * panel_w).collect();
        let areas = plots.split_by_breakpoints::<i32, i32, _, _>(&breaks, []);
        for (panel, area) in self.panels.iter().zip(&areas) {
            self.draw_panel(area, panel, x, y)?;
        }
        let plot_top = (self.look.panel_title_h + MARGIN) as i32;
        legend::draw(&legend_area, &legend_entries(&self.panels), plot_top)
    }
}

impl ScatterFigure<'_> {
    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        panel: &Map,
        x: Span,
        y: Span,
    ) -> DrawResult<DB> {
        let title_h = self.look.panel_title_h;
        if title_h > 0 {
            let (w, _) = area.dim_in_pixel();
            // Centred over the plot, not over the plot and its y axis.
            let plot_w = w.saturating_sub(Y_AXIS_W + 2 * MARGIN);
            let (text, size) = title::fitted(panel.title, plot_w, LABEL_SIZE);
            let style = style::text(size).pos(Pos::new(HPos::Center, VPos::Center));
            let centre = ((MARGIN + Y_AXIS_W + w) as i32 / 2, title_h as i32 / 2);
            area.draw(&Text::new(text, centre, style))?;
        }
        let area = area.margin(title_h, 0, 0, 0);
        let mut chart = ChartBuilder::on(&area)
            .margin(MARGIN)
            .x_label_area_size(X_AXIS_H)
            .y_label_area_size(Y_AXIS_W)
            .build_cartesian_2d(x.range(), y.range())?;
        let mut mesh = chart.configure_mesh();
        style::axes(&mut mesh);
        mesh.x_labels(self.look.ticks)
            .y_labels(self.look.ticks)
            .draw()?;

        if panel.clouds.is_empty() && panel.segments.is_empty() {
            let style = style::text(LABEL_SIZE).pos(Pos::new(HPos::Center, VPos::Center));
            let centre = ((x.lo + x.hi) / 2.0, (y.lo + y.hi) / 2.0);
            chart.draw_series([Text::new("no finite data", centre, style)])?;
        }
        let segment = SEGMENT.mix(0.3).stroke_width(1);
        chart.draw_series(
            panel
                .segments
                .iter()
                .map(|s| PathElement::new(s.to_vec(), segment)),
        )?;
        let radius = self.look.point_radius;
        for dots in &panel.clouds {
            // Slightly transparent so overlapping clouds stay visible.
            let fill = dots.color.mix(0.8).filled();
            chart.draw_series(dots.points.iter().map(|&p| Circle::new(p, radius, fill)))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::cloud::Cloud;
    use super::super::test_support::{assert_rendered, read_png};
    use super::*;

    fn cloud(label: &str, points: Vec<[f64; 2]>, color: Option<[u8; 3]>) -> Cloud {
        Cloud {
            label: label.into(),
            points,
            color,
        }
    }

    fn ring(n: usize, r: f64, cx: f64) -> Vec<[f64; 2]> {
        (0..n)
            .map(|i| {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                [cx + r * a.cos(), r * a.sin()]
            })
            .collect()
    }

    fn map(title: &str) -> ScatterPanel {
        let source = ring(100, 1.0, -2.0);
        let pushed = ring(100, 1.5, 2.0);
        ScatterPanel {
            title: title.into(),
            segments: source.iter().zip(&pushed).map(|(&a, &b)| [a, b]).collect(),
            clouds: vec![
                cloud("source", source, None),
                cloud("target", ring(100, 1.4, 2.0), None),
                cloud("pushforward", pushed, None),
            ],
        }
    }

    #[test]
    fn scatter_writes_png_and_svg() {
        let dir = tempfile::tempdir().unwrap();
        let files = scatter(&dir.path().join("map"), &map("Gaussian to ring")).unwrap();
        let legend_w = legend::width(&[Entry {
            label: "pushforward",
            color: style::series_color(0),
            swatch: Swatch::Marker,
        }])
        .unwrap();
        let size = (SINGLE.panel.0 + legend_w, title::TITLE_H + SINGLE.panel.1);
        let texts = ["Gaussian to ring", "source", "target", "pushforward"];
        assert_rendered(&files, size, &texts);
    }

    #[test]
    fn axes_have_equal_aspect() {
        // Three single points of pure colours on a wide, flat layout: one
        // data unit must span as many pixels across as up.
        let dir = tempfile::tempdir().unwrap();
        let panel = ScatterPanel {
            title: "aspect".into(),
            segments: vec![],
            clouds: vec![
                cloud("", vec![[0.0, 0.0]], Some([255, 0, 0])),
                cloud("", vec![[4.0, 0.0]], Some([0, 0, 255])),
                cloud("", vec![[0.0, 1.0]], Some([0, 160, 0])),
            ],
        };
        let files = scatter(&dir.path().join("aspect"), &panel).unwrap();
        let img = read_png(&files.png);
        let centre = |want: [u8; 3]| {
            let hits: Vec<(f64, f64)> = img
                .enumerate_pixels()
                .filter(|(_, _, p)| p.0.iter().zip(want).all(|(&a, b)| a.abs_diff(b) < 60))
                .map(|(x, y, _)| (f64::from(x), f64::from(y)))
                .collect();
            assert!(!hits.is_empty(), "no pixel of {want:?}");
            let n = hits.len() as f64;
            let sum = hits.iter().fold((0.0, 0.0), |a, h| (a.0 + h.0, a.1 + h.1));
            (sum.0 / n, sum.1 / n)
        };
        let (origin, right, up) = (
            centre([255, 0, 0]),
            centre([0, 0, 255]),
            centre([0, 160, 0]),
        );
        let per_unit_x = (right.0 - origin.0) / 4.0;
        let per_unit_y = origin.1 - up.1;
        assert!(per_unit_x > 20.0, "{per_unit_x}");
        assert!(
            (per_unit_x - per_unit_y).abs() < 2.0,
            "{per_unit_x} vs {per_unit_y}"
        );
    }

    #[test]
    fn segments_are_drawn() {
        let dir = tempfile::tempdir().unwrap();
        let grey = |panel: &ScatterPanel| {
            let files = scatter(&dir.path().join("s"), panel).unwrap();
            read_png(&files.png)
                .pixels()
                .filter(|p| {
                    let [r, g, b] = p.0;
                    r == g && g == b && (150..240).contains(&r)
                })
                .count()
        };
        let with = map("m");
        let without = ScatterPanel {
            segments: vec![],
            ..with.clone()
        };
        assert!(grey(&with) > grey(&without) + 1000);
    }

    #[test]
    fn row_shares_one_legend_and_shows_empty_panels() {
        let dir = tempfile::tempdir().unwrap();
        let empty = ScatterPanel {
            title: "step 0".into(),
            segments: vec![[[f64::NAN, 0.0], [1.0, 1.0]]],
            clouds: vec![cloud("source", vec![[f64::NAN, 1.0]], None)],
        };
        let panels = [empty, map("step 500"), map("step 1000")];
        let files = scatter_row(&dir.path().join("row"), "Snapshots", &panels).unwrap();
        let img = read_png(&files.png);
        assert_eq!(
            img.width() - 3 * SMALL.panel.0,
            legend::width(&legend_entries(&[Map::new(&panels[1])])).unwrap()
        );
        let texts = [
            "Snapshots",
            "step 0",
            "step 500",
            "step 1000",
            "no finite data",
        ];
        assert_rendered(
            &files,
            (img.width(), title::TITLE_H + SMALL.panel.1),
            &texts,
        );
        let svg = std::fs::read_to_string(&files.svg).unwrap();
        assert_eq!(svg.matches("\nsource\n").count(), 1);
    }

    #[test]
    fn nothing_finite_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("none");
        let panel = ScatterPanel {
            title: "t".into(),
            segments: vec![[[f64::NAN, 0.0], [0.0, 0.0]]],
            clouds: vec![
                cloud("a", vec![[f64::INFINITY, 0.0]], None),
                cloud("b", vec![], None),
            ],
        };
        let err = scatter(&stem, &panel).unwrap_err();
        assert!(
            matches!(err, PlotError::NoData { ref path, .. } if *path == stem),
            "{err}"
        );
        let err = scatter_row(&stem, "t", &[]).unwrap_err();
        assert!(matches!(err, PlotError::NoData { .. }), "{err}");
    }
}
