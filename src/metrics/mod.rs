//! Evaluation metrics for Neural Optimal Transport experiments: image
//! fidelity (PSNR, SSIM), two-sample distances between point clouds, exact
//! discrete OT by linear assignment, Fréchet (FID-style) distances with the
//! Gaussian OT map, and sample diversity.

pub mod assignment;
pub mod distribution;
pub mod diversity;
pub mod error;
pub mod frechet;
pub mod gaussian;
mod gaussian_filter;
pub mod hue;
mod lapjv;
pub mod modes;
mod points;
pub mod psnr;
pub mod ssim;
pub mod uvp;

pub use error::MetricError;
