"""PyTorch's side of `cargo bench --bench conv_passes`: median seconds of the
forward, input-gradient and weight-gradient passes of one 5x5 convolution
layer, the gradients as PyTorch's own autograd computes them."""

import json
import statistics
import time

import torch


def median_seconds(reps, fn):
    fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


for n, c in [(32, 32), (64, 128)]:
    x, dy = torch.randn(n, c, 32, 32), torch.randn(n, c, 32, 32)
    w = torch.randn(c, c, 5, 5)
    conv_backward = lambda mask: torch.ops.aten.convolution_backward(
        dy, x, w, None, [1, 1], [2, 2], [1, 1], False, [0, 0], 1, mask)
    print(json.dumps({
        "impl": "pytorch", "device": "cpu", "images": n, "channels": c,
        "forward": round(median_seconds(3, lambda: torch.nn.functional.conv2d(x, w, padding=2)), 4),
        "input_grad": round(median_seconds(3, lambda: conv_backward([True, False, False])), 4),
        "weight_grad": round(median_seconds(3, lambda: conv_backward([False, True, False])), 4),
    }))
