//! The libtorch operations tch-rs does not bind, through the C++ shim
//! `torch_shim.cpp` that build.rs compiles against the same libtorch:
//! libtorch's fused Adam, the convolution's backward step, channels-last
//! copies, an operator census for the benchmarks, a CUDA stream per
//! training, and CUDA graphs.

use std::ffi::{CStr, c_char, c_void};
use std::ptr;

use torch_sys::C_tensor;

type TensorPtr = *const C_tensor;

unsafe extern "C" {
    fn nrun_fused_adam(
        params: *const TensorPtr,
        grads: *const TensorPtr,
        exp_avgs: *const TensorPtr,
        exp_avg_sqs: *const TensorPtr,
        steps: *const TensorPtr,
        n: usize,
        lr: TensorPtr,
        beta1: f64,
        beta2: f64,
        weight_decay: f64,
        eps: f64,
    ) -> *mut c_char;

    #[allow(clippy::too_many_arguments)]
    fn nrun_convolution_backward(
        grad_output: TensorPtr,
        input: TensorPtr,
        weight: TensorPtr,
        padding: i64,
        has_bias: bool,
        want_input: bool,
        want_weight: bool,
        want_bias: bool,
        grad_input: *mut *mut C_tensor,
        grad_weight: *mut *mut C_tensor,
        grad_bias: *mut *mut C_tensor,
    ) -> *mut c_char;

    fn nrun_channels_last(x: TensorPtr, out: *mut *mut C_tensor) -> *mut c_char;

    fn nrun_own_stream(device: i64, guard: *mut *mut c_void) -> *mut c_char;

    fn nrun_restore_stream(guard: *mut c_void);

    fn nrun_census_open(handle: *mut u64) -> *mut c_char;
    fn nrun_census_close(handle: u64, report: *mut *mut c_char) -> *mut c_char;

    fn nrun_graph_begin(graph: *mut *mut c_void) -> *mut c_char;
    fn nrun_graph_end(graph: *mut c_void) -> *mut c_char;
    fn nrun_graph_replay(graph: *mut c_void) -> *mut c_char;
    fn nrun_graph_free(graph: *mut c_void);
}

/// While alive, the calling thread's work on one GPU queues on a CUDA
/// stream of its own (from libtorch's pool) instead of the GPU's default
/// stream. Trainings sharing a GPU (`--slots-per-gpu`) then run their
/// kernels side by side, and each one's read-back waits for its own work
/// alone; on the shared default stream every read-back waits for every
/// training's queued work. Bound to its thread: dropping it there puts the
/// previous stream back.
pub struct OwnStream {
    guard: *mut c_void,
}

impl OwnStream {
    /// Fails where libtorch has no CUDA, or no GPU `ordinal`.
    pub fn new(ordinal: usize) -> Result<OwnStream, String> {
        let mut guard = ptr::null_mut();
        // SAFETY: the shim writes a guard it allocated, or returns an error.
        let error = unsafe { nrun_own_stream(ordinal as i64, &mut guard) };
        taken(error).map(|()| OwnStream { guard })
    }
}

impl Drop for OwnStream {
    fn drop(&mut self) {
        // SAFETY: a guard from `nrun_own_stream`, freed once, on the thread
        // that made it (the raw pointer keeps `OwnStream` off other threads).
        unsafe { nrun_restore_stream(self.guard) }
    }
}

/// A CUDA graph: the work the calling thread queued on its own stream
/// ([`OwnStream`]) while it was recorded, replayed at once with one launch,
/// on the same memory. What it reads and writes stays where it was while
/// recording: to run it on new inputs, copy them into the tensors it read.
pub struct CudaGraph {
    graph: *mut c_void,
}

impl CudaGraph {
    /// Records the libtorch work `body` queues on this thread's stream,
    /// without running it (replay it for that). Fails where there is no
    /// CUDA, on the GPU's default stream, or where `body` does what a
    /// graph cannot hold (a read back to the host, a pageable upload); a
    /// panic in `body` becomes the error, after the recording is dropped.
    pub fn record<R>(body: impl FnOnce() -> R) -> Result<(CudaGraph, R), String> {
        let mut graph = ptr::null_mut();
        // SAFETY: the shim writes a graph it allocated, or returns an error.
        taken(unsafe { nrun_graph_begin(&mut graph) })?;
        let recording = CudaGraph { graph };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
        // SAFETY: a graph from `nrun_graph_begin`, recording on this thread.
        let ended = taken(unsafe { nrun_graph_end(recording.graph) });
        match (result, ended) {
            (Ok(value), Ok(())) => Ok((recording, value)),
            (Err(panic), _) => Err(panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic while recording".into())),
            (Ok(_), Err(message)) => Err(message),
        }
    }

    /// Queues the recorded work again, on the current stream.
    pub fn replay(&self) -> Result<(), String> {
        // SAFETY: a recorded graph, alive while `self` is.
        taken(unsafe { nrun_graph_replay(self.graph) })
    }
}

impl Drop for CudaGraph {
    fn drop(&mut self) {
        // SAFETY: a graph from `nrun_graph_begin`, freed once.
        unsafe { nrun_graph_free(self.graph) }
    }
}

/// While open, counts by name every libtorch operator the calling thread
/// runs that runs no other operator: on a GPU each is about one kernel
/// launch, so the census tells what a training (which issues all its work
/// on its thread) asks of a GPU, on any machine. A copy from a GPU into
/// host memory, a read back that waits for the GPU, is counted as
/// "aten::copy_ (to the host)". One per thread; closed on the thread that
/// opened it.
/// PyTorch's profiler counts the same way (`bench/torch_step.py`).
pub struct OperatorCensus {
    handle: u64,
    /// Keeps the census on its thread.
    _thread: std::marker::PhantomData<*const ()>,
}

impl OperatorCensus {
    /// Fails where a census is open on this thread already.
    pub fn open() -> Result<OperatorCensus, String> {
        let mut handle = 0;
        // SAFETY: the shim writes its callback's handle, or returns an error.
        taken(unsafe { nrun_census_open(&mut handle) })?;
        Ok(OperatorCensus {
            handle,
            _thread: std::marker::PhantomData,
        })
    }

    /// Each operator's name and count, by name.
    pub fn close(self) -> Result<Vec<(String, u64)>, String> {
        let mut report = ptr::null_mut();
        let handle = self.handle;
        std::mem::forget(self);
        // SAFETY: the handle `open` got, on its thread, closed once (`self`
        // is consumed and its drop skipped).
        taken(unsafe { nrun_census_close(handle, &mut report) })?;
        // SAFETY: on success, the shim wrote a string from strdup.
        unsafe { owned_string(report) }
            .lines()
            .map(|line| {
                let (name, count) = line
                    .rsplit_once('\t')
                    .ok_or_else(|| format!("census line {line:?}"))?;
                let count = count.parse().map_err(|_| format!("census line {line:?}"))?;
                Ok((name.to_string(), count))
            })
            .collect()
    }
}

impl Drop for OperatorCensus {
    /// A census never closed (a panic, an early return) counts no more.
    fn drop(&mut self) {
        // SAFETY: the handle `open` got, on its thread, closed once.
        let error = unsafe { nrun_census_close(self.handle, ptr::null_mut()) };
        let _ = taken(error);
    }
}

/// `x` laid out channels-last (NHWC in memory, its shape still NCHW), as
/// cuDNN's and oneDNN's fastest convolutions want it; no copy if it
/// already is.
pub fn channels_last(x: &tch::Tensor) -> tch::Tensor {
    let mut out = ptr::null_mut();
    // SAFETY: a live tensor borrowed for the call; the shim writes a new
    // tensor we own (sharing `x`'s storage when no copy was needed).
    let error = unsafe { nrun_channels_last(x.as_ptr(), &mut out) };
    check(error, "a channels-last copy");
    // SAFETY: on success the shim wrote a tensor it allocated for us.
    unsafe { tch::Tensor::from_ptr(out) }
}

/// Adam's hyper-parameters for one step (PyTorch's meaning), but the
/// learning rate, which the kernel reads on the device.
pub struct AdamStep {
    pub betas: [f64; 2],
    pub weight_decay: f64,
    pub eps: f64,
}

/// One Adam step over every parameter at once, in place: parameters,
/// moments and step counts (f32 scalars, counted up here), at learning
/// rate `lr` (an f32 scalar on the parameters' device). The lists are
/// parallel: one entry per parameter.
pub fn fused_adam(
    params: &[&tch::Tensor],
    grads: &[&tch::Tensor],
    exp_avgs: &[&tch::Tensor],
    exp_avg_sqs: &[&tch::Tensor],
    steps: &[&tch::Tensor],
    lr: &tch::Tensor,
    hyper: &AdamStep,
) {
    let n = params.len();
    assert!(
        [grads.len(), exp_avgs.len(), exp_avg_sqs.len(), steps.len()]
            .iter()
            .all(|&len| len == n),
        "fused Adam takes one gradient, two moments and a step count per parameter"
    );
    let pointers = |ts: &[&tch::Tensor]| ts.iter().map(|t| t.as_ptr()).collect::<Vec<_>>();
    let (p, g, m, v, s) = (
        pointers(params),
        pointers(grads),
        pointers(exp_avgs),
        pointers(exp_avg_sqs),
        pointers(steps),
    );
    // SAFETY: five arrays of `n` live tensors and one more (`C_tensor` is `at::Tensor`),
    // borrowed for the call.
    let error = unsafe {
        nrun_fused_adam(
            p.as_ptr(),
            g.as_ptr(),
            m.as_ptr(),
            v.as_ptr(),
            s.as_ptr(),
            n,
            lr.as_ptr(),
            hyper.betas[0],
            hyper.betas[1],
            hyper.weight_decay,
            hyper.eps,
        )
    };
    check(error, "fused Adam");
}

/// Which gradients [`convolution_backward`] computes.
#[derive(Clone, Copy, Debug)]
pub struct Wanted {
    pub input: bool,
    pub weight: bool,
    pub bias: bool,
}

/// The wanted gradients of `conv2d(input, weight, bias?)` (stride 1,
/// `padding` zeros, no dilation, one group) for the output gradient
/// `grad_output`: libtorch's own backward kernels (oneDNN, cuDNN), in one
/// call and without its autograd engine.
pub fn convolution_backward(
    grad_output: &tch::Tensor,
    input: &tch::Tensor,
    weight: &tch::Tensor,
    padding: usize,
    has_bias: bool,
    wanted: Wanted,
) -> [Option<tch::Tensor>; 3] {
    let mut out = [ptr::null_mut(); 3];
    let [gx, gw, gb] = &mut out;
    // SAFETY: three live tensors borrowed for the call; the shim writes
    // three pointers, each null or a tensor we now own.
    let error = unsafe {
        nrun_convolution_backward(
            grad_output.as_ptr(),
            input.as_ptr(),
            weight.as_ptr(),
            padding as i64,
            has_bias,
            wanted.input,
            wanted.weight,
            wanted.bias,
            gx,
            gw,
            gb,
        )
    };
    check(error, "the convolution's backward step");
    // SAFETY: non-null pointers are tensors the shim allocated for us.
    out.map(|t| (!t.is_null()).then(|| unsafe { tch::Tensor::from_ptr(t) }))
}

/// Panics with the shim's message: only a libtorch bug, or a tensor nrun
/// built wrong, gets there.
fn check(error: *mut c_char, what: &str) {
    if let Err(message) = taken(error) {
        panic!("libtorch failed in {what}: {message}");
    }
}

/// The shim's error message, if any, taken over from C.
fn taken(error: *mut c_char) -> Result<(), String> {
    if error.is_null() {
        return Ok(());
    }
    // SAFETY: the shim's messages come from strdup.
    Err(unsafe { owned_string(error) })
}

/// A string the shim made, copied into Rust and freed.
///
/// # Safety
/// `s` is a NUL-terminated string from strdup (malloc), not freed before
/// nor after.
unsafe fn owned_string(s: *mut c_char) -> String {
    // SAFETY: the caller's promise.
    let text = unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned();
    unsafe { libc::free(s.cast()) };
    text
}

#[cfg(test)]
mod tests {
    use super::{CudaGraph, OperatorCensus, OwnStream};

    #[test]
    fn the_census_counts_this_threads_operators_that_launch_work_not_those_that_wrap_it() {
        let x = tch::Tensor::ones([3, 4], (tch::Kind::Float, tch::Device::Cpu));
        let census = OperatorCensus::open().unwrap();
        assert!(OperatorCensus::open().is_err(), "one census per thread");
        let y = (&x + 1.0).relu();
        // `linear` runs `t` and `addmm` (or `matmul`'s kernels): it is
        // not a leaf, what it runs is.
        let _ = y.linear(&x, None::<tch::Tensor>);
        // Another thread's operators are its own.
        std::thread::spawn(|| {
            let _ = tch::Tensor::ones([2], (tch::Kind::Float, tch::Device::Cpu)).relu();
        })
        .join()
        .unwrap();
        // A copy within host memory reads nothing back.
        let _ = x.copy();
        let counts = census.close().unwrap();
        let count = |name: &str| counts.iter().find(|(n, _)| n == name).map(|(_, c)| *c);
        assert_eq!(count("aten::relu"), None, "relu runs clamp_min: {counts:?}");
        assert_eq!(count("aten::clamp_min"), Some(1), "{counts:?}");
        assert_eq!(count("aten::linear"), None, "{counts:?}");
        assert!(count("aten::copy_").is_some(), "{counts:?}");
        assert_eq!(count("aten::copy_ (to the host)"), None, "{counts:?}");
        assert!(counts.iter().all(|(_, c)| *c > 0));
        // Closed, or dropped, it counts no more, and another may open.
        drop(OperatorCensus::open().unwrap());
        let census = OperatorCensus::open().unwrap();
        assert_eq!(census.close().unwrap(), vec![]);
    }

    #[test]
    fn a_graph_records_on_a_gpu_and_elsewhere_is_an_error_not_a_crash() {
        if tch::Cuda::device_count() == 0 {
            let Err(message) = CudaGraph::record(|| ()) else {
                panic!("a CUDA graph recorded without a GPU");
            };
            eprintln!("without a GPU: {message}");
            assert!(!message.is_empty());
            return;
        }
        let _stream = OwnStream::new(0).expect("a stream on GPU 0");
        let gpu = tch::Device::Cuda(0);
        let x = tch::Tensor::zeros([4], (tch::Kind::Float, gpu));
        let (graph, ()) = CudaGraph::record(|| {
            let _ = x.shallow_clone().g_add_scalar_(1.0);
        })
        .expect("a graph of one kernel");
        assert_eq!(
            x.sum(tch::Kind::Float).double_value(&[]),
            0.0,
            "recording runs nothing"
        );
        graph.replay().unwrap();
        graph.replay().unwrap();
        assert_eq!(
            x.sum(tch::Kind::Float).double_value(&[]),
            8.0,
            "each replay adds 1"
        );
        // A panic while recording is the error, and the stream records no more.
        let no_step = || -> () { panic!("no step today") };
        let Err(message) = CudaGraph::record(no_step) else {
            panic!("a recording that panicked");
        };
        assert_eq!(message, "no step today");
        assert_eq!(x.sum(tch::Kind::Float).double_value(&[]), 8.0);
    }

    #[test]
    fn a_stream_on_a_gpu_libtorch_cannot_reach_is_an_error_not_a_crash() {
        let gpus = tch::Cuda::device_count() as usize;
        // GPU `gpus` does not exist, with or without CUDA: libtorch throws,
        // and the shim hands its message over instead of unwinding.
        let Err(message) = OwnStream::new(gpus) else {
            panic!("a stream on GPU {gpus} of {gpus}");
        };
        assert!(!message.is_empty());
        if gpus > 0 {
            // And on a real one the guard comes and goes.
            drop(OwnStream::new(0).expect("a stream on GPU 0"));
        }
    }
}
