"""Side by side, the operators one NOT outer step runs in PyTorch and in
nrun, from the JSON lines `torch_step.py --count-ops` and nrun's
`train_step --count-ops` print (bench/compare.sh --count-ops and
scripts/gpu-run.sh run them).

Both count, by name, each libtorch operator that runs no other operator.
Such an operator launches one kernel on a GPU, except those that only
allocate or re-view memory (NOT_KERNELS): a kernel whose operator allocates
its output through the dispatcher is counted as that allocation. A value
read back to the host waits on a GPU for every kernel queued before it:
PyTorch's `.item()` runs `_local_scalar_dense`; nrun counts each copy from
a GPU into host memory as "aten::copy_ (to the host)" (PyTorch's profiler
cannot tell that copy from others).

    python3 bench/census.py rows.jsonl [more.jsonl ...]
"""

import json
import sys

NOT_KERNELS = {
    "aten::empty", "aten::empty_strided", "aten::resize_", "aten::view",
    "aten::as_strided", "aten::as_strided_", "aten::alias", "aten::detach",
    "detach", "aten::_nnpack_available", "aten::result_type", "aten::to",
    "aten::lift_fresh", "aten::_reshape_alias", "aten::unsqueeze", "aten::t",
    "aten::transpose", "aten::permute", "aten::expand", "aten::slice",
    "aten::select", "aten::squeeze", "aten::_unsafe_view", "aten::unfold",
    "aten::diagonal", "aten::narrow", "aten::split", "aten::chunk",
    "aten::unbind", "aten::_local_scalar_dense",
}
# A copy to the host launches a copy too, but it is counted as what it costs.
READ_BACK = {"aten::_local_scalar_dense", "aten::copy_ (to the host)"}
SHOWN = 24


def main(paths):
    columns = {}
    for path in paths:
        for line in open(path):
            if not line.startswith("{"):
                continue
            row = json.loads(line)
            if row.get("ops"):
                label = f"{row['impl']} {row['device']} {row.get('precision', 'f32')}"
                columns.setdefault(label, row["ops"])
    if not columns:
        print("no operator counts (run with --count-ops, on libtorch)")
        return
    labels = list(columns)
    width = max(14, *(len(label) + 2 for label in labels))
    names = sorted({n for ops in columns.values() for n in ops},
                   key=lambda n: (-max(ops.get(n, 0) for ops in columns.values()), n))

    def line(name, values):
        print(f"{name:<44}" + "".join(f"{v:>{width}}" for v in values))

    print("operators per outer step that run no other operator (bench/census.py)")
    line("", labels)
    line("launching a kernel (on a GPU)",
         [sum(c for n, c in ops.items() if n not in NOT_KERNELS | READ_BACK)
          for ops in columns.values()])
    line("reading a value back to the host",
         [sum(ops.get(n, 0) for n in READ_BACK) for ops in columns.values()])
    line("allocating or viewing memory",
         [sum(c for n, c in ops.items() if n in NOT_KERNELS - READ_BACK)
          for ops in columns.values()])
    for name in names[:SHOWN]:
        line(f"  {name}", [ops.get(name, 0) for ops in columns.values()])
    if len(names) > SHOWN:
        line(f"  {len(names) - SHOWN} others",
             [sum(ops.get(n, 0) for n in names[SHOWN:]) for ops in columns.values()])


if __name__ == "__main__":
    main(sys.argv[1:])
