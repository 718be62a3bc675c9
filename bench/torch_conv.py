"""PyTorch's side of `cargo bench --bench conv_passes`: median seconds of the
forward, input-gradient and weight-gradient passes of one 5x5 convolution
layer with bias, timed as nrun times its own: the gradients as a forward and
backward pass through autograd with only x (only the weights) tracked, less
the forward pass."""

import json
import statistics
import time

import torch
import torch.nn.functional as F


def median_seconds(reps, fn):
    fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def with_backward(x, w, b):
    def run():
        F.conv2d(x, w, b, padding=2).sum().backward()
        grad = x.grad if x.requires_grad else w.grad
        x.grad = w.grad = None
        return grad.sum().item()
    return median_seconds(3, run)


for n, c in [(32, 32), (64, 128)]:
    x = torch.randn(n, c, 32, 32)
    w, b = 0.1 * torch.randn(c, c, 5, 5), torch.zeros(c)
    forward = median_seconds(3, lambda: F.conv2d(x, w, b, padding=2).sum().item())
    print(json.dumps({
        "impl": "pytorch", "device": "cpu", "images": n, "channels": c,
        "forward": round(forward, 4),
        "input_grad": round(with_backward(x.clone().requires_grad_(), w, b) - forward, 4),
        "weight_grad": round(with_backward(x, w.clone().requires_grad_(), b) - forward, 4),
    }))
