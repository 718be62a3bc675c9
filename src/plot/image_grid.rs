//! A grid of small images with optional row and column labels, e.g. rows of
//! inputs x, several samples T(x, z) and the ground truth.

use std::path::Path;

use plotters::coord::Shift;
use plotters::element::{Rectangle, Text};
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, RGBColor};

use super::error::PlotError;
use super::render::{self, DrawResult, Figure, RenderedFiles};
use super::style::{self, LABEL_SIZE};
use super::tensor_image::Image;
use super::title;

const MARGIN: u32 = 10;
const GAP: u32 = 6;
/// Space between a label and the images it names.
const LABEL_GAP: u32 = 8;
const FRAME: RGBColor = RGBColor(200, 200, 200);

/// Writes a grid of `rows` to `<stem>.png` and `<stem>.svg`.
///
/// Each cell is an image or `None` for a blank. Values map to intensity as
/// `x * 0.5 + 0.5` clipped to `[0, 1]`; non-finite values are drawn
/// magenta. Each image is enlarged `scale` times, nearest neighbour, so
/// 32x32 digits stay crisp; every cell is as large as the largest image.
/// `row_labels` (left) and `col_labels` (top) may be empty or shorter than
/// the grid. The figure is just large enough for all of it.
///
/// Fails with [`PlotError::NoData`] when no cell holds an image, and with
/// [`PlotError::InvalidInput`] for a zero `scale`, an image whose `data`
/// does not match its shape, or more labels than rows or columns.
pub fn image_grid(
    stem: &Path,
    title: &str,
    rows: &[Vec<Option<Image>>],
    row_labels: &[String],
    col_labels: &[String],
    scale: u32,
) -> Result<RenderedFiles, PlotError> {
    let grid = Grid::new(stem, title, rows, row_labels, col_labels, scale)?;
    let layout = Layout::new(&grid)?;
    render::render(stem, &GridFigure { grid, layout })
}

/// The validated input.
struct Grid<'a> {
    title: &'a str,
    rows: &'a [Vec<Option<Image>>],
    row_labels: &'a [String],
    col_labels: &'a [String],
    scale: u32,
    cols: usize,
    /// Largest image height and width, before scaling.
    max_h: usize,
    max_w: usize,
}

impl<'a> Grid<'a> {
    /// Checks the input for the figure at `stem`.
    fn new(
        stem: &Path,
        title: &'a str,
        rows: &'a [Vec<Option<Image>>],
        row_labels: &'a [String],
        col_labels: &'a [String],
        scale: u32,
    ) -> Result<Grid<'a>, PlotError> {
        let invalid = |reason: String| PlotError::InvalidInput {
            path: stem.to_path_buf(),
            reason,
        };
        if scale == 0 {
            return Err(invalid("scale must be at least 1".into()));
        }
        let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
        if row_labels.len() > rows.len() {
            let (labels, rows) = (row_labels.len(), rows.len());
            return Err(invalid(format!("{labels} row labels for {rows} rows")));
        }
        if col_labels.len() > cols {
            let labels = col_labels.len();
            return Err(invalid(format!(
                "{labels} column labels for {cols} columns"
            )));
        }
        let (mut max_h, mut max_w) = (0, 0);
        for (r, row) in rows.iter().enumerate() {
            for (c, image) in row.iter().enumerate() {
                if let Some(image) = image {
                    let located = |e| invalid(format!("row {r}, column {c}: {e}"));
                    image.check().map_err(located)?;
                    max_h = max_h.max(image.h);
                    max_w = max_w.max(image.w);
                }
            }
        }
        if max_h == 0 {
            return Err(PlotError::NoData {
                path: stem.to_path_buf(),
                reason: "no cell holds an image".into(),
            });
        }
        Ok(Grid {
            title,
            rows,
            row_labels,
            col_labels,
            scale,
            cols,
            max_h,
            max_w,
        })
    }
}

/// Pixel positions of everything in the figure.
struct Layout {
    /// Top-left corner of the first cell.
    origin: (u32, u32),
    cell: (u32, u32),
    size: (u32, u32),
}

impl Layout {
    fn new(grid: &Grid) -> Result<Layout, PlotError> {
        let widest = |labels: &[String]| -> Result<(u32, u32), PlotError> {
            let mut max = (0, 0);
            for label in labels.iter().filter(|l| !l.is_empty()) {
                let (w, h) = style::text_size(label, LABEL_SIZE)?;
                max = (max.0.max(w), max.1.max(h));
            }
            Ok(max)
        };
        let (row_label_w, _) = widest(grid.row_labels)?;
        let (col_label_w, col_label_h) = widest(grid.col_labels)?;
        let gap_if = |len: u32| if len > 0 { len + LABEL_GAP } else { 0 };
        let title_h = title::band_height(grid.title);

        let scale = grid.scale as usize;
        let to_u32 = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        let cell_w = to_u32(grid.max_w.saturating_mul(scale)).max(col_label_w);
        let cell_h = to_u32(grid.max_h.saturating_mul(scale));
        let origin = (MARGIN + gap_if(row_label_w), title_h + gap_if(col_label_h));
        let span = |n: usize, cell: u32| {
            let n = to_u32(n);
            cell.saturating_mul(n)
                .saturating_add(GAP * n.saturating_sub(1))
        };
        let width = origin.0 + span(grid.cols, cell_w) + MARGIN;
        let height = origin.1 + span(grid.rows.len(), cell_h) + MARGIN;
        Ok(Layout {
            origin,
            cell: (cell_w, cell_h),
            size: (width, height),
        })
    }

    /// Top-left corner of the cell at `row`, `col`.
    fn cell_at(&self, row: usize, col: usize) -> (i32, i32) {
        let x = self.origin.0 + col as u32 * (self.cell.0 + GAP);
        let y = self.origin.1 + row as u32 * (self.cell.1 + GAP);
        (x as i32, y as i32)
    }
}

struct GridFigure<'a> {
    grid: Grid<'a>,
    layout: Layout,
}

impl Figure for GridFigure<'_> {
    fn size(&self) -> (u32, u32) {
        self.layout.size
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (grid, layout) = (&self.grid, &self.layout);
        let (cell_w, cell_h) = (layout.cell.0 as i32, layout.cell.1 as i32);
        title::draw(root, grid.title, layout.size.0)?;
        let col_style = style::text(LABEL_SIZE).pos(Pos::new(HPos::Center, VPos::Bottom));
        for (c, label) in grid.col_labels.iter().enumerate() {
            let (x, y) = layout.cell_at(0, c);
            let anchor = (x + cell_w / 2, y - LABEL_GAP as i32);
            root.draw(&Text::new(label.as_str(), anchor, col_style.clone()))?;
        }
        let row_style = style::text(LABEL_SIZE).pos(Pos::new(HPos::Right, VPos::Center));
        for (r, label) in grid.row_labels.iter().enumerate() {
            let (x, y) = layout.cell_at(r, 0);
            let anchor = (x - LABEL_GAP as i32, y + cell_h / 2);
            root.draw(&Text::new(label.as_str(), anchor, row_style.clone()))?;
        }
        for (r, row) in grid.rows.iter().enumerate() {
            for (c, image) in row.iter().enumerate() {
                let Some(image) = image else { continue };
                let (x, y) = layout.cell_at(r, c);
                let scale = grid.scale as i32;
                // Centred in the cell, which may be wider for a long label.
                let left = x + (cell_w - image.w as i32 * scale) / 2;
                let top = y + (cell_h - image.h as i32 * scale) / 2;
                draw_image(root, image, (left, top), scale)?;
            }
        }
        Ok(())
    }
}

/// Draws `image` enlarged `scale` times with its top-left at `at`, framed.
fn draw_image<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    image: &Image,
    at: (i32, i32),
    scale: i32,
) -> DrawResult<DB> {
    let (w, h) = (image.w as i32 * scale, image.h as i32 * scale);
    root.draw(&Rectangle::new(
        [(at.0 - 1, at.1 - 1), (at.0 + w, at.1 + h)],
        FRAME.stroke_width(1),
    ))?;
    for y in 0..image.h {
        // One rectangle per run of equal pixels keeps the SVG small.
        let mut x = 0;
        while x < image.w {
            let color = image.color_at(y, x);
            let mut end = x + 1;
            while end < image.w && image.color_at(y, end) == color {
                end += 1;
            }
            let x0 = at.0 + x as i32 * scale;
            let y0 = at.1 + y as i32 * scale;
            let x1 = at.0 + end as i32 * scale;
            root.draw(&Rectangle::new(
                [(x0, y0), (x1, y0 + scale)],
                color.filled(),
            ))?;
            x = end;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_rendered, ink, read_png};
    use super::*;

    fn gray(h: usize, w: usize, value: f32) -> Image {
        Image {
            c: 1,
            h,
            w,
            data: vec![value; h * w],
        }
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn grid_with_labels_writes_png_and_svg() {
        let dir = tempfile::tempdir().unwrap();
        let ramp = Image {
            c: 1,
            h: 32,
            w: 32,
            data: (0..1024).map(|i| i as f32 / 512.0 - 1.0).collect(),
        };
        let rows = vec![
            vec![Some(ramp.clone()), Some(gray(32, 32, 0.5)), None],
            vec![None, Some(ramp), Some(gray(32, 32, -1.0))],
        ];
        let files = image_grid(
            &dir.path().join("grid"),
            "Samples",
            &rows,
            &strings(&["input x", "T(x, z)"]),
            &strings(&["a", "b", "ground truth"]),
            3,
        )
        .unwrap();
        let img = read_png(&files.png);
        let texts = ["Samples", "input x", "T(x, z)", "ground truth"];
        assert_rendered(&files, img.dimensions(), &texts);
        // Three columns as wide as the 96-pixel images or the widest column
        // label, right of the row labels; two rows under the title and the
        // column labels.
        let (row_label_w, _) = ["input x", "T(x, z)"]
            .map(|l| style::text_size(l, LABEL_SIZE).unwrap())
            .into_iter()
            .max()
            .unwrap();
        let (col_label_w, col_label_h) = style::text_size("ground truth", LABEL_SIZE).unwrap();
        let cell_w = col_label_w.max(96);
        let width = MARGIN + row_label_w + LABEL_GAP + 3 * cell_w + 2 * GAP + MARGIN;
        let height = title::TITLE_H + col_label_h + LABEL_GAP + 2 * 96 + GAP + MARGIN;
        assert_eq!(img.dimensions(), (width, height));
    }

    #[test]
    fn pixels_are_mapped_and_enlarged_nearest_neighbour() {
        let dir = tempfile::tempdir().unwrap();
        // One row of 3 pixels: black, white, non-finite; then mid grey.
        let image = Image {
            c: 1,
            h: 2,
            w: 3,
            data: vec![-1.0, 1.0, f32::NAN, 0.0, 0.0, 0.0],
        };
        let files = image_grid(
            &dir.path().join("px"),
            "",
            &[vec![Some(image)]],
            &[],
            &[],
            4,
        )
        .unwrap();
        let img = read_png(&files.png);
        assert_eq!(img.dimensions(), (2 * MARGIN + 12, 2 * MARGIN + 8));
        let at = |x: u32, y: u32| img.get_pixel(MARGIN + x, MARGIN + y).0;
        for y in 0..4 {
            for x in 0..4 {
                assert_eq!(at(x, y), [0, 0, 0]);
                assert_eq!(at(4 + x, y), [255, 255, 255]);
                assert_eq!(at(8 + x, y), [255, 0, 255]);
                assert_eq!(at(x, 4 + y), [128, 128, 128]);
            }
        }
        // The frame sits just outside the image, the margin stays white.
        assert_eq!(img.get_pixel(MARGIN - 1, MARGIN + 2).0, [200, 200, 200]);
        assert_eq!(img.get_pixel(MARGIN - 3, MARGIN + 2).0, [255, 255, 255]);
    }

    #[test]
    fn row_labels_are_drawn_left_of_the_images() {
        let dir = tempfile::tempdir().unwrap();
        let rows = [vec![Some(gray(8, 8, 1.0))]];
        let label_ink = |labels: &[String]| {
            let files = image_grid(&dir.path().join("l"), "", &rows, labels, &[], 2).unwrap();
            let img = read_png(&files.png);
            let width = img.width() - MARGIN - 16 - 1;
            let left = image::imageops::crop_imm(&img, 0, 0, width, img.height()).to_image();
            ink(&left, 0..img.height())
        };
        assert_eq!(label_ink(&[]), 0);
        assert!(label_ink(&strings(&["ground truth"])) > 100);
    }

    #[test]
    fn bad_input_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("bad");
        let short = Image {
            c: 1,
            h: 4,
            w: 4,
            data: vec![0.0; 15],
        };
        let two_channels = Image {
            c: 2,
            h: 1,
            w: 1,
            data: vec![0.0; 2],
        };
        let ok = || Some(gray(4, 4, 0.0));
        let invalid =
            |rows: &[Vec<Option<Image>>], rl: &[String], cl: &[String], scale| match image_grid(
                &stem, "", rows, rl, cl, scale,
            ) {
                Err(PlotError::InvalidInput { path, reason }) => {
                    assert_eq!(path, stem);
                    reason
                }
                other => panic!("expected InvalidInput, got {other:?}"),
            };
        let reason = invalid(&[vec![ok(), Some(short)]], &[], &[], 2);
        assert!(
            reason.contains("row 0, column 1") && reason.contains("15 values"),
            "{reason}"
        );
        let reason = invalid(&[vec![Some(two_channels)]], &[], &[], 2);
        assert!(reason.contains("2 channels"), "{reason}");
        let reason = invalid(&[vec![ok()]], &[], &[], 0);
        assert!(reason.contains("scale"), "{reason}");
        let reason = invalid(&[vec![ok()]], &strings(&["a", "b"]), &[], 1);
        assert!(reason.contains("2 row labels for 1 rows"), "{reason}");
        let reason = invalid(&[vec![ok()]], &[], &strings(&["a", "b"]), 1);
        assert!(reason.contains("2 column labels for 1 columns"), "{reason}");
        let reason = invalid(&[vec![ok()]], &[], &[], 100_000);
        assert!(reason.contains("pixels"), "{reason}");

        let err = image_grid(&stem, "", &[vec![None, None]], &[], &[], 2).unwrap_err();
        assert!(matches!(err, PlotError::NoData { .. }), "{err}");
        let err = image_grid(&stem, "", &[], &[], &[], 2).unwrap_err();
        assert!(matches!(err, PlotError::NoData { .. }), "{err}");
    }
}
