// The libtorch operations nrun's tch build calls that tch-rs does not bind
// (see torch_shim.rs, their Rust side). Compiled by build.rs against the
// libtorch torch-sys links. Each returns null, or a malloc'd message that
// the caller frees; tensors come and go as `at::Tensor*` (tch's C_tensor).
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/_foreach_add.h>
#include <ATen/ops/_fused_adam.h>
#include <ATen/ops/convolution_backward.h>
#include <ATen/ops/empty_like.h>
#include <ATen/record_function.h>
#ifdef NRUN_CUDA_GRAPHS
#include <ATen/core/CachingHostAllocator.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <torch/version.h>

#include <mutex>
#endif

#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using at::Tensor;

// `body`'s exception, if any, as the message the caller frees.
template <typename Body>
static char* caught(Body body) {
  try {
    body();
    return nullptr;
  } catch (const std::exception& e) {
    return strdup(e.what());
  } catch (...) {
    // No exception may unwind into Rust.
    return strdup("an unknown C++ exception");
  }
}

// One Adam step (PyTorch's semantics: L2 weight decay added to the
// gradient, bias-corrected moments, eps outside the square root) over `n`
// parameters at once, in place: parameters, first and second moments,
// and the step counts; the step counts and the learning rate are f32
// scalars on the parameters' device, read there (so a recorded CUDA graph
// takes the values they hold when it is replayed).
extern "C" char* nrun_fused_adam(Tensor* const* params, Tensor* const* grads,
                                 Tensor* const* exp_avgs, Tensor* const* exp_avg_sqs,
                                 Tensor* const* steps, size_t n, const Tensor* lr,
                                 double beta1, double beta2, double weight_decay, double eps) {
  return caught([&] {
    at::NoGradGuard no_grad;
    std::vector<Tensor> p, g, m, v, s;
    p.reserve(n), g.reserve(n), m.reserve(n), v.reserve(n), s.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const Tensor& param = *params[i];
      const Tensor& grad = *grads[i];
      p.push_back(param);
      // The kernel wants every list alike in dtype, device and strides,
      // strides of dimensions of size 1 aside (they order no elements: a
      // 1x1 weight's gradient may come back with others).
      bool alike = grad.scalar_type() == param.scalar_type() && grad.sizes() == param.sizes();
      for (int64_t d = 0; alike && d < param.dim(); ++d) {
        alike = param.size(d) == 1 || grad.stride(d) == param.stride(d);
      }
      g.push_back(alike ? grad : at::empty_like(param).copy_(grad));
      m.push_back(*exp_avgs[i]);
      v.push_back(*exp_avg_sqs[i]);
      s.push_back(*steps[i]);
    }
    // torch.optim.Adam(fused=True) counts the step before the kernel.
    at::_foreach_add_(s, 1);
    at::_fused_adam_(p, g, m, v, /*max_exp_avg_sqs=*/{}, s, *lr, beta1, beta2, weight_decay,
                     eps, /*amsgrad=*/false, /*maximize=*/false);
  });
}

// The gradients of a stride-1, zero-padded, ungrouped 2-D convolution
// with respect to the inputs `output_mask` asks for (x, weight, bias), in
// one call: what autograd would run for it, without autograd. Each wanted
// gradient comes back as a new tensor the caller owns; the others as null.
extern "C" char* nrun_convolution_backward(const Tensor* grad_output, const Tensor* input,
                                           const Tensor* weight, int64_t padding,
                                           bool has_bias, bool want_input, bool want_weight,
                                           bool want_bias, Tensor** grad_input,
                                           Tensor** grad_weight, Tensor** grad_bias) {
  return caught([&] {
    at::NoGradGuard no_grad;
    std::vector<int64_t> bias_sizes{weight->size(0)};
    auto [gx, gw, gb] = at::convolution_backward(
        *grad_output, *input, *weight,
        has_bias ? at::OptionalIntArrayRef(bias_sizes) : at::OptionalIntArrayRef(),
        /*stride=*/{1, 1}, /*padding=*/{padding, padding}, /*dilation=*/{1, 1},
        /*transposed=*/false, /*output_padding=*/{0, 0}, /*groups=*/1,
        {want_input, want_weight, want_bias && has_bias});
    *grad_input = want_input ? new Tensor(std::move(gx)) : nullptr;
    *grad_weight = want_weight ? new Tensor(std::move(gw)) : nullptr;
    *grad_bias = want_bias && has_bias ? new Tensor(std::move(gb)) : nullptr;
  });
}

// CUDA graphs: the kernels one thread queues on its (non-default)
// stream between `nrun_graph_begin` and `nrun_graph_end` are recorded, not
// run, with the memory they allocate taken from a pool of the graph's own;
// `nrun_graph_replay` then launches them all again at once, on the same
// memory. Built only where CUDA's headers were found beside libtorch
// (build.rs defines NRUN_CUDA_GRAPHS); elsewhere each call says so.
#ifdef NRUN_CUDA_GRAPHS
// Trainings sharing a GPU record, replay and free their graphs in turn:
// some libtorch versions keep state about graphs that no lock guards.
static std::mutex graphs;

// A graph whose recording may fail. When ending it fails (a recording the
// driver invalidated), libtorch's `capture_end` throws before it takes the
// thread's allocations back out of the graph's memory pool, and the
// destructor frees the pool only after a successful end; `abandon` does
// both, each step only if the failure came before it.
struct Recording : at::cuda::CUDAGraph {
  void abandon() {
    if (capture_ended_) {
      return;  // Failed after the end (instantiating): the destructor frees all.
    }
    auto quietly = [](auto step) {
      try {
        step();
      } catch (...) {
        // Already done before the failure.
      }
    };
    namespace allocator = c10::cuda::CUDACachingAllocator;
    quietly([&] { allocator::endAllocateToPool(capture_dev_, mempool_id_); });
    quietly([&] { allocator::releasePool(capture_dev_, mempool_id_); });
#if TORCH_VERSION_MAJOR > 2 || TORCH_VERSION_MINOR >= 11
    // Pinned host memory is pooled for graphs too since then.
    quietly([&] { at::getHostAllocator(at::kCUDA)->end_allocate_to_pool(mempool_id_); });
    quietly([&] { at::getHostAllocator(at::kCUDA)->release_pool(mempool_id_); });
#endif
  }
};

extern "C" char* nrun_graph_begin(void** graph) {
  return caught([&] {
    std::lock_guard<std::mutex> turn(graphs);
    auto recording = std::make_unique<Recording>();
    // Thread-local: other threads' trainings on the same GPU go on
    // untouched while this one records.
    recording->capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
    *graph = recording.release();
  });
}

extern "C" char* nrun_graph_end(void* graph) {
  auto recording = static_cast<Recording*>(graph);
  std::lock_guard<std::mutex> turn(graphs);
  char* error = caught([&] { recording->capture_end(); });
  if (error != nullptr) {
    recording->abandon();
  }
  return error;
}

extern "C" char* nrun_graph_replay(void* graph) {
  return caught([&] {
    std::lock_guard<std::mutex> turn(graphs);
    static_cast<Recording*>(graph)->replay();
  });
}

extern "C" void nrun_graph_free(void* graph) {
  std::lock_guard<std::mutex> turn(graphs);
  delete static_cast<Recording*>(graph);
}
#else
static char* no_graphs() {
  return strdup(
      "this nrun was built without CUDA graphs (no CUDA headers beside libtorch when it was "
      "built)");
}
extern "C" char* nrun_graph_begin(void**) { return no_graphs(); }
extern "C" char* nrun_graph_end(void*) { return no_graphs(); }
extern "C" char* nrun_graph_replay(void*) { return no_graphs(); }
extern "C" void nrun_graph_free(void*) {}
#endif

// `x` laid out channels-last (NHWC in memory, NCHW in shape), as cuDNN's
// and oneDNN's fastest convolution kernels want it: `x` itself if it
// already is, else a copy the caller owns.
extern "C" char* nrun_channels_last(const Tensor* x, Tensor** out) {
  return caught([&] { *out = new Tensor(x->contiguous(at::MemoryFormat::ChannelsLast)); });
}

// The operator census: while one is open on a thread, every operator
// libtorch's dispatcher runs there that runs no other operator (a leaf: on
// a GPU, about one kernel launch) is counted by name. Both trainings
// compared with PyTorch run through this dispatcher, so counting there
// compares what each asks of a GPU without one at hand. A copy from a GPU
// into host memory (a read back, which waits for the GPU) is counted under
// its own name. One thread's census sees no other thread's operators: a
// training issues all of its own on its thread.
namespace census {
static thread_local bool counting = false;
static thread_local std::map<std::string, uint64_t> leaves;
// For each operator running on this thread: whether it has run another,
// and whether it reads back (known only at its start, from its inputs).
// Operators open before the census are not on it.
struct Open {
  bool ran_another;
  bool reads_back;
};
static thread_local std::vector<Open> open;

static const char* const kReadBack = "aten::copy_ (to the host)";

// Whether `op`, a copy_, writes host memory from a GPU's.
static bool reads_back(const at::RecordFunction& op) {
  if (std::strcmp(op.name(), "aten::copy_") != 0) return false;
  auto inputs = op.inputs();
  return inputs.size() >= 2 && inputs[0].isTensor() && inputs[1].isTensor() &&
         inputs[0].toTensor().is_cpu() && inputs[1].toTensor().is_cuda();
}

static std::unique_ptr<at::ObserverContext> enter(const at::RecordFunction& op) {
  if (!open.empty()) open.back().ran_another = true;
  open.push_back({false, reads_back(op)});
  return nullptr;
}

static void leave(const at::RecordFunction& op, at::ObserverContext*) {
  if (open.empty()) return;
  Open done = open.back();
  open.pop_back();
  if (!done.ran_another) ++leaves[done.reads_back ? kReadBack : op.name()];
}
}  // namespace census

extern "C" char* nrun_census_open(uint64_t* handle) {
  return caught([&] {
    if (census::counting) throw std::runtime_error("a census is open on this thread already");
    census::leaves.clear();
    census::open.clear();
    *handle = at::addThreadLocalCallback(at::RecordFunctionCallback(census::enter, census::leave)
                                             .needsInputs(true)
                                             .scopes({at::RecordScope::FUNCTION}));
    census::counting = true;
  });
}

// Closes the census `handle` opened, on the thread that opened it; unless
// `report` is null, `*report` (malloc'd, the caller frees it) is one
// "name<TAB>count" line per leaf operator.
extern "C" char* nrun_census_close(uint64_t handle, char** report) {
  return caught([&] {
    at::removeCallback(handle);
    census::counting = false;
    if (report == nullptr) return;
    std::ostringstream lines;
    for (const auto& [name, count] : census::leaves) lines << name << '\t' << count << '\n';
    *report = strdup(lines.str().c_str());
  });
}

// From here until `nrun_restore_stream(*guard)` on the same thread, the
// calling thread's work on CUDA device `device` queues on a stream of its
// own from libtorch's pool (created non-blocking) rather than the device's
// default stream, which every thread shares and whose synchronisations
// wait for every thread's work. Goes through the device-generic guard
// interface, so this function needs no CUDA headers (only the graphs do);
// without CUDA it fails.
extern "C" char* nrun_own_stream(int64_t device, void** guard) {
  return caught([&] {
    c10::Device gpu(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(device));
    c10::impl::VirtualGuardImpl cuda(c10::DeviceType::CUDA);
    *guard = new c10::StreamGuard(cuda.getStreamFromGlobalPool(gpu, /*isHighPriority=*/false));
  });
}

// Puts back the stream (and device) current before `nrun_own_stream`.
extern "C" void nrun_restore_stream(void* guard) {
  delete static_cast<c10::StreamGuard*>(guard);
}
