//! The error type shared by every metric.

use thiserror::Error;

/// Why a metric could not be computed from the data it was given.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MetricError {
    /// A buffer does not hold the number of values its shape implies.
    #[error("length mismatch: expected {expected} values, got {actual}")]
    LengthMismatch { expected: usize, actual: usize },

    /// An input (or a shape dimension) has no elements.
    #[error("{what} must not be empty")]
    Empty { what: &'static str },

    /// A flat buffer cannot be split into rows of the given width.
    #[error("buffer of length {len} is not a whole number of rows of width {dim}")]
    RaggedRows { len: usize, dim: usize },

    /// A statistic needs more samples than were supplied.
    #[error("{what} needs at least {needed} samples, got {actual}")]
    TooFewSamples {
        what: &'static str,
        needed: usize,
        actual: usize,
    },

    /// An image is smaller than the SSIM filter window.
    #[error("image of {height}x{width} is smaller than the {window}x{window} SSIM window")]
    ImageTooSmall {
        height: usize,
        width: usize,
        window: usize,
    },

    /// A scale parameter (data range, kernel bandwidth) is zero, negative or not finite.
    #[error("{what} must be positive and finite, got {value}")]
    NonPositive { what: &'static str, value: f64 },

    /// An input holds NaN or infinity where an algorithm cannot tolerate it.
    #[error("{what} contains a non-finite value")]
    NonFinite { what: &'static str },

    /// A matrix that must be square is not.
    #[error("matrix must be square, got {rows}x{cols}")]
    NotSquare { rows: usize, cols: usize },

    /// Two Gaussians (or matrices) live in different dimensions.
    #[error("dimension mismatch: {left} vs {right}")]
    DimensionMismatch { left: usize, right: usize },

    /// A covariance that must be inverted is (numerically) singular.
    #[error("covariance is not positive definite (smallest eigenvalue {min_eigenvalue})")]
    NotPositiveDefinite { min_eigenvalue: f64 },
}
