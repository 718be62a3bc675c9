//! Bars on lanes over time (a run's timeline): one row per lane, each bar
//! coloured by its group, with the groups in a legend. A white edge keeps
//! back-to-back bars on one lane apart.

use std::path::Path;

use plotters::coord::Shift;
use plotters::element::Rectangle;
use plotters::prelude::{ChartBuilder, DrawingArea, DrawingBackend};
use plotters::style::{Color, RGBColor, WHITE};

use super::error::PlotError;
use super::legend::{self, Entry, Swatch};
use super::render::{self, DrawResult, Figure, RenderedFiles};
use super::style;

/// A legend entry; a muted group (e.g. "other stages") is drawn grey.
#[derive(Clone, Debug, PartialEq)]
pub struct GanttGroup {
    pub name: String,
    pub muted: bool,
}

/// One bar: on lane `lane` (an index into the lanes), from `start` to `end`,
/// coloured as group `group` (an index into the groups).
#[derive(Clone, Debug, PartialEq)]
pub struct GanttBar {
    pub lane: usize,
    pub group: usize,
    pub start: f64,
    pub end: f64,
}

const WIDTH: u32 = 800;
const LANE_H: u32 = 22;
const AXES_H: u32 = 70;
const Y_AXIS_W: u32 = 75;
const MARGIN: u32 = 10;
/// The palette's grey.
const MUTED: RGBColor = RGBColor(127, 127, 127);

/// Writes the bars on `lanes` (top to bottom) to `<stem>.png` and
/// `<stem>.svg`, the x axis from 0 to `span` (seconds). Fails with
/// [`PlotError::NoData`] when there is no bar.
pub fn gantt(
    stem: &Path,
    title: &str,
    x_label: &str,
    lanes: &[String],
    groups: &[GanttGroup],
    bars: &[GanttBar],
    span: f64,
) -> Result<RenderedFiles, PlotError> {
    if bars.is_empty() {
        return Err(PlotError::NoData {
            path: stem.to_path_buf(),
            reason: "no bar to draw".into(),
        });
    }
    // Colours in order, skipping the palette's grey, which muted groups take.
    let mut next = (0..).filter(|&i| style::series_color(i) != MUTED);
    let colors: Vec<RGBColor> = groups
        .iter()
        .map(|g| {
            if g.muted {
                MUTED
            } else {
                style::series_color(next.next().expect("endless"))
            }
        })
        .collect();
    let entries: Vec<Entry> = groups
        .iter()
        .zip(&colors)
        .map(|(g, &color)| Entry {
            label: &g.name,
            color,
            swatch: Swatch::Marker,
        })
        .collect();
    let figure = Gantt {
        title,
        x_label,
        lanes,
        bars,
        span: span.max(bars.iter().map(|b| b.end).fold(0.0, f64::max)),
        legend_w: legend::width(&entries)?,
        entries,
        colors,
    };
    render::render(stem, &figure)
}

struct Gantt<'a> {
    title: &'a str,
    x_label: &'a str,
    lanes: &'a [String],
    bars: &'a [GanttBar],
    span: f64,
    entries: Vec<Entry<'a>>,
    colors: Vec<RGBColor>,
    legend_w: u32,
}

impl Figure for Gantt<'_> {
    fn size(&self) -> (u32, u32) {
        let legend_h = 22 * self.entries.len() as u32 + 40;
        let plot_h = (LANE_H * self.lanes.len() as u32).max(legend_h).max(120);
        (
            WIDTH + self.legend_w,
            super::title::band_height(self.title) + plot_h + AXES_H,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (w, _) = self.size();
        super::title::draw(root, self.title, w - self.legend_w)?;
        let body = root.margin(super::title::band_height(self.title), 0, 0, 0);
        let (plot, legend_area) = body.split_horizontally(w - self.legend_w);
        let n = self.lanes.len();
        // Lane k is drawn at y = n - 1 - k, so the first lane is on top.
        let lane_name = |y: &f64| {
            let k = n as f64 - 1.0 - y;
            if (k - k.round()).abs() < 1e-6 && k >= -0.5 && k < n as f64 - 0.5 {
                self.lanes[k.round() as usize].clone()
            } else {
                String::new()
            }
        };
        let mut chart = ChartBuilder::on(&plot)
            .margin_top(MARGIN)
            .margin_left(MARGIN)
            .margin_right(MARGIN)
            .y_label_area_size(Y_AXIS_W)
            .x_label_area_size(AXES_H - MARGIN)
            .build_cartesian_2d(0.0..self.span * 1.01, -0.5..n as f64 - 0.5)?;
        let mut mesh = chart.configure_mesh();
        style::axes(&mut mesh);
        mesh.x_desc(self.x_label)
            .y_labels(n)
            .y_label_formatter(&lane_name)
            .disable_y_mesh();
        mesh.draw()?;
        let corners = |b: &GanttBar| {
            let y = (n - 1 - b.lane) as f64;
            // At least a pixel wide at this scale, so short instances show.
            let end = b.end.max(b.start + self.span / WIDTH as f64);
            [(b.start, y - 0.35), (end, y + 0.35)]
        };
        chart.draw_series(
            self.bars
                .iter()
                .map(|b| Rectangle::new(corners(b), self.colors[b.group].filled())),
        )?;
        chart.draw_series(
            self.bars
                .iter()
                .map(|b| Rectangle::new(corners(b), WHITE.stroke_width(1))),
        )?;
        legend::draw(&legend_area, &self.entries, MARGIN as i32)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_rendered, read_png};
    use super::*;

    #[test]
    fn bars_land_on_their_lanes_in_their_group_colour() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("timeline");
        let lanes = vec!["cpu 1".to_string(), "gpu 0:0".to_string()];
        let group = |name: &str| GanttGroup {
            name: name.into(),
            muted: false,
        };
        let groups = vec![group("data"), group("train")];
        let bars = [
            GanttBar {
                lane: 0,
                group: 0,
                start: 0.0,
                end: 1.0,
            },
            GanttBar {
                lane: 1,
                group: 1,
                start: 1.0,
                end: 10.0,
            },
        ];
        let files = gantt(&stem, "Timeline", "seconds", &lanes, &groups, &bars, 10.0).unwrap();
        let img = read_png(&files.png);
        assert_rendered(
            &files,
            img.dimensions(),
            &["Timeline", "cpu 1", "gpu 0:0", "data", "train", "seconds"],
        );
        // Where each colour's pixels are: the train bar is nine times as
        // long as the data bar, and below it.
        let of = |c: plotters::style::RGBColor| -> Vec<(u32, u32)> {
            img.enumerate_pixels()
                .filter(|(_, _, p)| p.0 == [c.0, c.1, c.2])
                .map(|(x, y, _)| (x, y))
                .collect()
        };
        let (data, train) = (of(style::series_color(0)), of(style::series_color(1)));
        let mean_y =
            |px: &[(u32, u32)]| px.iter().map(|p| p.1 as f64).sum::<f64>() / px.len() as f64;
        assert!(
            train.len() > 6 * data.len() && !data.is_empty(),
            "{} {}",
            train.len(),
            data.len()
        );
        assert!(mean_y(&train) > mean_y(&data) + 10.0);
        let empty = gantt(&stem, "Timeline", "seconds", &lanes, &groups, &[], 10.0);
        assert!(matches!(empty, Err(PlotError::NoData { .. })));
    }
}
