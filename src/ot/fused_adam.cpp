// libtorch's fused Adam for nrun's tch build (see fused_adam.rs): tch-rs
// binds neither `_fused_adam_` nor the `_foreach_` ops, so this calls them.
// Compiled by build.rs against the libtorch torch-sys links.
#include <ATen/core/Tensor.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/_foreach_add.h>
#include <ATen/ops/_fused_adam.h>
#include <ATen/ops/empty_like.h>

#include <cstring>
#include <exception>
#include <vector>

using at::Tensor;

// One Adam step (PyTorch's semantics: L2 weight decay added to the
// gradient, bias-corrected moments, eps outside the square root) over `n`
// parameters at once, in place: parameters, first and second moments,
// and the step counts (f32 scalars on the parameters' device). Returns
// null, or a malloc'd message that the caller frees.
extern "C" char* nrun_fused_adam(Tensor* const* params, Tensor* const* grads,
                                 Tensor* const* exp_avgs, Tensor* const* exp_avg_sqs,
                                 Tensor* const* steps, size_t n, double lr, double beta1,
                                 double beta2, double weight_decay, double eps) {
  try {
    at::NoGradGuard no_grad;
    std::vector<Tensor> p, g, m, v, s;
    p.reserve(n), g.reserve(n), m.reserve(n), v.reserve(n), s.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const Tensor& param = *params[i];
      const Tensor& grad = *grads[i];
      p.push_back(param);
      // The kernel wants every list alike in dtype, device and strides.
      bool alike = grad.scalar_type() == param.scalar_type() &&
                   grad.strides() == param.strides();
      g.push_back(alike ? grad : at::empty_like(param).copy_(grad));
      m.push_back(*exp_avgs[i]);
      v.push_back(*exp_avg_sqs[i]);
      s.push_back(*steps[i]);
    }
    // torch.optim.Adam(fused=True) counts the step before the kernel.
    at::_foreach_add_(s, 1);
    at::_fused_adam_(p, g, m, v, /*max_exp_avg_sqs=*/{}, s, lr, beta1, beta2, weight_decay,
                     eps, /*amsgrad=*/false, /*maximize=*/false);
    return nullptr;
  } catch (const std::exception& e) {
    return strdup(e.what());
  }
}
