//! Figures for experiment reports, each written as a PNG and an SVG.
//!
//! Plain data in, files out: every function takes an output path stem such
//! as `out/psnr_vs_gamma`, writes `<stem>.png` and `<stem>.svg` (creating
//! the directory) and returns both paths. Text uses an embedded DejaVu Sans,
//! so rendering needs no installed fonts.

mod cloud;
mod error;
mod font;
mod gantt;
mod image_grid;
mod legend;
mod lines;
mod png_backend;
mod render;
mod scatter;
mod series;
mod span;
mod style;
mod tensor_image;
#[cfg(test)]
mod test_support;
mod title;

pub use cloud::{Cloud, ScatterPanel};
pub use error::PlotError;
pub use gantt::{GanttBar, GanttGroup, gantt};
pub use image_grid::image_grid;
pub use lines::{Panel, empty_chart, line_chart, panels};
pub use render::RenderedFiles;
pub use scatter::{scatter, scatter_row};
pub use series::{Point, Series};
pub use tensor_image::Image;
