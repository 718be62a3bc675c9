//! The one error type of the report module.

use std::path::PathBuf;

/// Why a report could not be rendered or its figures copied. Each variant
/// names the figure, directory or table at fault.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{}: cannot read figure: {source}", path.display())]
    ReadFigure {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: figure is not a PNG file", path.display())]
    NotPng { path: PathBuf },
    #[error("{}: figure path has no file name", path.display())]
    NoFileName { path: PathBuf },
    #[error("{}: cannot create directory: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot copy figure {} to {}: {source}", from.display(), to.display())]
    CopyFigure {
        from: PathBuf,
        to: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("table `{caption}` is not a Markdown pipe table: {reason}")]
    Table { caption: String, reason: String },
}
