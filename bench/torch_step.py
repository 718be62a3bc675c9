"""PyTorch reference of one NOT outer step, for nrun's speed comparison.

The same networks as nrun's `cnn_t` / `cnn_f` (the CNNs of the Weinreich &
Heurtel-Depeiges report; docs/method.md, section 9), the same step: K_T
updates of T (weak quadratic cost, f frozen), then one of f, Adam (betas
0.9/0.999, eps 1e-8, weight decay 1e-10). Prints one JSON line with the
median seconds per outer step after warm-up. Run by bench/compare.sh.
"""

import argparse
import json
import statistics
import time

import torch
from torch import nn


def cnn_t(channels, layers, c_in=2, c_out=1):
    mods = []
    for i in range(layers):
        a = c_in if i == 0 else channels
        b = c_out if i == layers - 1 else channels
        mods.append(nn.Conv2d(a, b, 5, padding=2))
        if i < layers - 1:
            mods.append(nn.ReLU())
    return nn.Sequential(*mods)


class CnnF(nn.Module):
    def __init__(self, channels, c_in=1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, channels, 5, padding=2), nn.ReLU(), nn.AvgPool2d(2),
            nn.Conv2d(channels, channels, 5, padding=2), nn.ReLU(), nn.AvgPool2d(2),
            nn.Conv2d(channels, channels, 5, padding=2), nn.ReLU(), nn.AvgPool2d(2),
            nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
            nn.Conv2d(channels, 1, 1),
        )

    def forward(self, y):
        return self.body(y).flatten(1).mean(1)


def mlp(d_in, hidden, d_out):
    mods, a = [], d_in
    for h in hidden:
        mods += [nn.Linear(a, h), nn.ReLU()]
        a = h
    mods.append(nn.Linear(a, d_out))
    return nn.Sequential(*mods)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cpu")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--z", type=int, default=4)
    p.add_argument("--channels", type=int, default=128)
    p.add_argument("--layers", type=int, default=7)
    p.add_argument("--mlp", type=str, default="",
                   help="widths of MLP hidden layers, e.g. 128,128,128: the 2-D toys' nets instead of the CNNs")
    p.add_argument("--t-steps", type=int, default=10)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--bf16", action="store_true", help="autocast the networks to bfloat16")
    p.add_argument("--count-ops", action="store_true",
                   help="count the operators of one more outer step, after the timed ones, as nrun's train_step does")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    # As nrun does on GPUs (src/ot/backend.rs): cuDNN autotunes per shape.
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    if a.mlp:
        hidden = [int(w) for w in a.mlp.split(",")]
        # 2-D points; T sees x beside a 2-D z, as in pipelines/toy2d.yaml.
        item, noise_shape = (2,), (2,)
        T = mlp(4, hidden, 2).to(dev)
        f_mlp = mlp(2, hidden, 1).to(dev)
        f = lambda y: f_mlp(y).squeeze(1)
        f.parameters = f_mlp.parameters
    else:
        item, noise_shape = (1, 32, 32), (1, 32, 32)
        T = cnn_t(a.channels, a.layers).to(dev)
        f = CnnF(a.channels).to(dev)
    opt = lambda m: torch.optim.Adam(m.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-10)
    t_opt, f_opt = opt(T), opt(f)
    b, z, gamma = a.batch, a.z, 0.25

    def autocast():
        return torch.autocast(dev.type, dtype=torch.bfloat16, enabled=a.bf16)

    def push(x):
        xz = x.unsqueeze(1).repeat(1, z, *[1] * len(item)).flatten(0, 1)
        noise = torch.randn(b * z, *noise_shape, device=dev)
        with autocast():
            return T(torch.cat([xz, noise], 1)).float()

    def score(y):
        with autocast():
            return f(y).float()

    def outer():
        for p_ in f.parameters():
            p_.requires_grad_(False)
        for _ in range(a.t_steps):
            x = torch.randn(b, *item, device=dev)
            t = push(x)
            tz = t.view(b, z, -1)
            quad = 0.5 * ((x.view(b, 1, -1) - tz) ** 2).sum(2).mean(1)
            var = ((tz - tz.mean(1, keepdim=True)) ** 2).sum(2).sum(1) / (z - 1)
            loss = (quad - gamma / 2 * var).mean() - score(t).mean()
            t_opt.zero_grad()
            loss.backward()
            t_opt.step()
        for p_ in f.parameters():
            p_.requires_grad_(True)
        with torch.no_grad():
            t = push(torch.randn(b, *item, device=dev))
        y = torch.randn(b, *item, device=dev)
        f_loss = score(t).mean() - score(y).mean()
        f_opt.zero_grad()
        f_loss.backward()
        f_opt.step()
        return f_loss

    times, issued = [], []
    ops = None
    for i in range(a.warmup + a.steps):
        if dev.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        f_loss = outer()
        issue = time.perf_counter() - start
        f_loss.item()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        if i >= a.warmup:
            times.append(time.perf_counter() - start)
            issued.append(issue)
    if a.count_ops:
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            outer().item()
        ops = leaf_operators(prof.events())
    print(json.dumps({"impl": "pytorch", "device": a.device, "torch": torch.__version__,
                      "precision": "bf16" if a.bf16 else "f32",
                      "seconds_per_step": statistics.median(times),
                      "issue_seconds_per_step": statistics.median(issued), "steps": a.steps,
                      "ops_per_step": sum(ops.values()) if ops else None, "ops": ops}))


def leaf_operators(events):
    """By name, most first, the operators (RecordFunction's FUNCTION scope,
    what libtorch's dispatcher runs) that run no other operator: what
    nrun's operator census counts (src/ot/torch_shim.cpp). Autograd's nodes
    and the optimiser's `record_function` scopes are not operators."""
    def is_op(e):
        return e.scope == 0 and not e.name.startswith("autograd::")
    counts = {}
    for e in events:
        if is_op(e) and not any(is_op(c) for c in e.cpu_children):
            counts[e.name] = counts.get(e.name, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


if __name__ == "__main__":
    main()
