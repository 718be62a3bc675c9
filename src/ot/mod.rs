//! Neural Optimal Transport: costs, networks and the trainer (see
//! docs/method.md).
//! No YAML and no files here; stages feed it data and persist its state.

pub mod adam;
pub mod apply;
pub mod backend;
mod conv_gemm;
pub mod cost;
pub mod draws;
#[cfg(feature = "tch")]
mod fused_adam;
pub mod gpu_levers;
pub mod layers;
pub mod nets;
pub mod pool;
pub mod precision;
pub mod reduce;
pub mod relu;
pub mod same_conv;
pub mod schedule;
pub mod step_graph;
#[cfg(test)]
mod test_tensors;
#[cfg(feature = "tch")]
mod torch_shim;
pub mod trainer;
mod unary;
pub mod variants;
