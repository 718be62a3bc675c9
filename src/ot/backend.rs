//! Turning a [`DeviceChoice`] into a burn device.
//!
//! The default build computes on burn-flex (pure Rust, CPU). Built with the
//! `tch` feature, nrun also has libtorch: its CPU kernels, and CUDA GPUs.

use burn::tensor::Device;

use crate::device::DeviceChoice;

/// The device for a stage: `choice`, with `auto` resolved to the granted
/// GPU slot (`gpu`, an in-process ordinal) when there is one.
pub fn device(choice: DeviceChoice, gpu: Option<usize>) -> Result<Device, String> {
    match choice {
        DeviceChoice::Flex => Ok(Device::flex()),
        DeviceChoice::Cpu => Ok(best_cpu()),
        DeviceChoice::Cuda(n) => cuda(n),
        DeviceChoice::Auto => match gpu {
            Some(n) => cuda(n),
            None if gpu_count() > 0 => cuda(0),
            None => Ok(best_cpu()),
        },
    }
}

/// Every device this build computes on here, named "flex cpu", "tch cpu"
/// and "tch cuda:N": burn-flex, and with `tch` libtorch's CPU and each GPU
/// libtorch sees. For the benchmarks and the backend tests.
pub fn devices(with_gpus: bool) -> Vec<(String, Device)> {
    let mut out = vec![("flex cpu".to_string(), Device::flex())];
    if cfg!(feature = "tch") {
        out.push(("tch cpu".into(), best_cpu()));
        let gpus = if with_gpus { gpu_count() } else { 0 };
        out.extend((0..gpus).filter_map(|n| Some((format!("tch cuda:{n}"), cuda(n).ok()?))));
    }
    out
}

/// The compute backends this nrun was built with.
pub fn compiled() -> &'static str {
    if cfg!(feature = "tch") {
        "burn 0.22.1: flex (CPU) and tch (libtorch CPU/CUDA)"
    } else {
        "burn 0.22.1: flex (CPU)"
    }
}

/// A short description for logs and reports.
pub fn describe(device: &Device) -> String {
    if *device == Device::flex() {
        return "burn-flex (CPU)".into();
    }
    #[cfg(feature = "tch")]
    {
        if let Some(n) = cuda_ordinal(device) {
            return format!("libtorch cuda:{n}");
        }
        if *device == best_cpu() {
            return "libtorch (CPU)".into();
        }
    }
    format!("{device:?}")
}

#[cfg(not(feature = "tch"))]
fn best_cpu() -> Device {
    Device::flex()
}

#[cfg(not(feature = "tch"))]
fn cuda(_n: usize) -> Result<Device, String> {
    Err(
        "this nrun was built without GPU support; rebuild with `--features tch` (see README)"
            .into(),
    )
}

#[cfg(not(feature = "tch"))]
pub fn gpu_count() -> usize {
    0
}

/// Without libtorch there are no GPUs, hence no streams.
#[cfg(not(feature = "tch"))]
pub enum OwnStream {}

#[cfg(not(feature = "tch"))]
pub fn own_stream(_device: &Device) -> Result<Option<OwnStream>, String> {
    Ok(None)
}

/// Without libtorch there is no dispatcher to count operators in: never
/// made (its field is private, so callers need no unreachable arms).
#[cfg(not(feature = "tch"))]
pub struct OperatorCensus {
    never: std::convert::Infallible,
}

#[cfg(not(feature = "tch"))]
impl OperatorCensus {
    pub fn open() -> Result<OperatorCensus, String> {
        Err("counting libtorch's operators needs the tch build".into())
    }

    pub fn close(self) -> Result<Vec<(String, u64)>, String> {
        match self.never {}
    }
}

/// How many GPUs libtorch sees and the CUDA runtime and cuDNN versions it
/// was built with, as numbers (`13000`, `91900`); `None` without GPUs.
#[cfg(not(feature = "tch"))]
pub fn cuda_versions() -> Option<(usize, i64, i64)> {
    None
}

#[cfg(feature = "tch")]
pub fn cuda_versions() -> Option<(usize, i64, i64)> {
    let count = gpu_count();
    (count > 0).then(|| {
        (
            count,
            tch::utils::version_cudart(),
            tch::utils::version_cudnn(),
        )
    })
}

#[cfg(feature = "tch")]
#[allow(deprecated)]
fn best_cpu() -> Device {
    Device::libtorch()
}

#[cfg(feature = "tch")]
#[allow(deprecated)]
fn cuda(n: usize) -> Result<Device, String> {
    let count = gpu_count();
    if n >= count {
        return Err(format!(
            "cuda:{n} asked for, but libtorch sees {count} GPU(s)"
        ));
    }
    // cuDNN times its algorithms for each convolution shape on first use and
    // keeps the fastest (PyTorch's `torch.backends.cudnn.benchmark = True`).
    // The nets' shapes are fixed, so the search pays once, and
    // bench/torch_step.py turns it on too, so the comparison stays like for
    // like. Its choice may differ between runs: GPU runs are not
    // bit-reproducible anyway.
    tch::Cuda::cudnn_set_benchmark(true);
    Ok(Device::libtorch_cuda(n))
}

#[cfg(feature = "tch")]
pub fn gpu_count() -> usize {
    Device::enumerate(burn::tensor::DeviceType::LibTorch).len()
}

#[cfg(feature = "tch")]
pub use super::torch_shim::{OperatorCensus, OwnStream};

/// Whether `device` is one of libtorch's GPUs.
#[cfg(feature = "tch")]
pub fn is_cuda(device: &Device) -> bool {
    cuda_ordinal(device).is_some()
}

/// Which of libtorch's GPUs `device` is, if it is one.
#[cfg(feature = "tch")]
#[allow(deprecated)]
fn cuda_ordinal(device: &Device) -> Option<usize> {
    (0..gpu_count()).find(|&n| *device == Device::libtorch_cuda(n))
}

#[cfg(not(feature = "tch"))]
pub fn is_cuda(_device: &Device) -> bool {
    false
}

/// A stream of its own for the calling thread's work on `device`, while
/// the returned guard lives, when `device` is a GPU (see
/// [`OwnStream`]); `None` elsewhere, where there are no streams.
#[cfg(feature = "tch")]
pub fn own_stream(device: &Device) -> Result<Option<OwnStream>, String> {
    match cuda_ordinal(device) {
        Some(n) => OwnStream::new(n).map(Some),
        None => Ok(None),
    }
}
