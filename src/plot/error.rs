//! The one error type of the plotting module.

use std::path::PathBuf;

/// Why a figure could not be written. Every variant names the output it was
/// for, so a failed figure can be traced to its file.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The embedded font could not be parsed; no text can be drawn.
    #[error("embedded font could not be loaded")]
    Font,
    /// Nothing drawable was left once empty series and non-finite values
    /// were skipped.
    #[error("{path}: nothing to plot: {reason}")]
    NoData { path: PathBuf, reason: String },
    /// The input is malformed (an image whose data does not match its
    /// shape, a zero scale, more labels than rows, ...).
    #[error("{path}: invalid input: {reason}")]
    InvalidInput { path: PathBuf, reason: String },
    /// Plotters failed while drawing.
    #[error("{path}: drawing failed: {message}")]
    Draw { path: PathBuf, message: String },
    /// The PNG could not be encoded or written.
    #[error("{path}: writing PNG failed")]
    Png {
        path: PathBuf,
        #[source]
        source: image::ImageError,
    },
    /// A file or directory could not be written.
    #[error("{path}: I/O error")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
