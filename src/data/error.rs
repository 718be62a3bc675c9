//! Typed errors of the data module: `LoadError` for files (always naming the
//! file), `ParamError` for invalid arguments or inconsistent in-memory shapes.

use std::io;
use std::path::{Path, PathBuf};

/// A dataset file or folder could not be turned into images or labels.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: corrupt gzip data: {source}")]
    Gzip {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: cannot list: {source}")]
    Walk {
        path: PathBuf,
        #[source]
        source: walkdir::Error,
    },
    #[error("{path}: wrong magic number {found} (expected {expected}, {what})")]
    BadMagic {
        path: PathBuf,
        expected: u32,
        found: u32,
        what: &'static str,
    },
    #[error("{path}: truncated: the {what} needs {expected} bytes but the file has {found}")]
    Truncated {
        path: PathBuf,
        what: &'static str,
        expected: u64,
        found: u64,
    },
    #[error("{path}: {found} bytes where the header announces {expected}: trailing data")]
    TrailingBytes {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
    #[error("{path}: bad dimensions: {what}")]
    BadDims { path: PathBuf, what: String },
    #[error(
        "label count mismatch: {images} holds {n_images} images but {labels} holds {n_labels} labels"
    )]
    CountMismatch {
        images: PathBuf,
        labels: PathBuf,
        n_images: usize,
        n_labels: usize,
    },
    #[error("{path}: {len} bytes is not a whole number of {record}-byte records")]
    RecordSize {
        path: PathBuf,
        len: u64,
        record: u64,
    },
    #[error("{path}: record {index} has label {label}, outside 0..={max}")]
    BadLabel {
        path: PathBuf,
        index: usize,
        label: i64,
        max: i64,
    },
    #[error("{path}: invalid JSON: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: {what}")]
    BadData { path: PathBuf, what: String },
    #[error("{dir}: there is no digit {digit} (expected 0..=9)")]
    UnknownDigit { dir: PathBuf, digit: u8 },
    #[error("{path}: undecodable image: {source}")]
    Decode {
        path: PathBuf,
        #[source]
        source: image::ImageError,
    },
    #[error("{path}: empty folder: no .png, .jpg or .jpeg image in it")]
    EmptyFolder { path: PathBuf },
    #[error("{path}: image file at the top level beside class folders")]
    MixedLayout { path: PathBuf },
    #[error(
        "{path}: inconsistent image sizes: {found_h}x{found_w}, earlier images are {h}x{w} \
         (give a target size to resize)"
    )]
    SizeMismatch {
        path: PathBuf,
        h: usize,
        w: usize,
        found_h: usize,
        found_w: usize,
    },
    #[error("{path}: {source}")]
    Transform {
        path: PathBuf,
        #[source]
        source: ParamError,
    },
    #[error("no input files given")]
    NoFiles,
}

impl LoadError {
    /// The file or folder at fault, if one is.
    pub fn path(&self) -> Option<&Path> {
        use LoadError::*;
        match self {
            Io { path, .. }
            | Gzip { path, .. }
            | Walk { path, .. }
            | BadMagic { path, .. }
            | Truncated { path, .. }
            | TrailingBytes { path, .. }
            | BadDims { path, .. }
            | RecordSize { path, .. }
            | BadLabel { path, .. }
            | Json { path, .. }
            | BadData { path, .. }
            | Decode { path, .. }
            | EmptyFolder { path }
            | MixedLayout { path }
            | SizeMismatch { path, .. }
            | Transform { path, .. } => Some(path),
            UnknownDigit { dir, .. } => Some(dir),
            CountMismatch { labels, .. } => Some(labels),
            NoFiles => None,
        }
    }
}

/// An argument is out of range, or a batch's fields disagree with its data.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ParamError {
    #[error("{what} of shape {dims:?} does not match its {found} values")]
    Shape {
        what: &'static str,
        dims: Vec<usize>,
        found: usize,
    },
    #[error("{name} = {value}: must be {expected}")]
    Invalid {
        name: &'static str,
        value: f64,
        expected: &'static str,
    },
    #[error("{op} needs {expected} channel(s), got {found}")]
    Channels {
        op: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("{op} needs {expected}-dimensional points, got {found}")]
    Dim {
        op: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("crop of {crop_h}x{crop_w} at top {top}, left {left} leaves the {h}x{w} image")]
    CropOutside {
        top: i64,
        left: i64,
        crop_h: usize,
        crop_w: usize,
        h: usize,
        w: usize,
    },
    #[error("{what}")]
    Unsupported { what: &'static str },
}

impl ParamError {
    /// A count that must be at least 1.
    pub fn at_least_one(name: &'static str, value: usize) -> Result<(), ParamError> {
        if value == 0 {
            return Err(ParamError::Invalid {
                name,
                value: 0.0,
                expected: "at least 1",
            });
        }
        Ok(())
    }
}
