#!/usr/bin/env bash
# Times one NOT outer step of the report's CNNs in nrun and in PyTorch, side
# by side, and prints nrun's speed relative to PyTorch per backend and
# device (higher is better; 1.0 = as fast as PyTorch eager).
#
#   bench/compare.sh                      # small nets (quick on a CPU)
#   bench/compare.sh --seed-cnn           # Table 1's nets and batch: 16 x 4, 128 channels, 7 layers
#   bench/compare.sh --mlp                # the 2-D toys' MLPs (two hidden layers of 128), batch 64 x 4
#   bench/compare.sh --bf16               # both sides autocast to bfloat16 (GPUs)
#   bench/compare.sh --cuda-graphs        # nrun's tch build replays its steps from CUDA graphs (GPUs)
#   bench/compare.sh --count-ops          # and the operators one step runs, PyTorch beside nrun's tch
#                                         # build (bench/census.py: about one kernel launch each on a GPU)
#   ROUNDS=5 bench/compare.sh             # more rounds (default 3)
#
# Shared machines drift, so the implementations take turns: each round runs
# PyTorch and then every nrun backend, a ratio is taken within each round,
# and the median ratio over the rounds is printed beside its range.
#
# Needs the PyTorch venv of scripts/setup-tch.sh ($NRUN_VENV, default
# ~/.cache/nrun-venv); uses the tch build too when it exists. nrun runs in
# the dev profile, whose dependencies (burn, libtorch) are optimised as in
# release: the network math is what is timed.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${NRUN_VENV:-$HOME/.cache/nrun-venv}"
rounds="${ROUNDS:-3}"
size=(--batch 8 --z 4 --channels 32 --layers 4 --steps 5)
precision=() graphs=() census=()
for arg in "$@"; do
  case "$arg" in
    --seed-cnn) size=(--batch 16 --z 4 --channels 128 --layers 7 --steps 2) ;;
    --mlp) size=(--mlp 128,128 --batch 64 --z 4 --steps 100 --warmup 5) ;;
    --bf16) precision=(--bf16) ;;
    --cuda-graphs) graphs=(--cuda-graphs) ;;
    --count-ops) census=(--count-ops) ;;
    *) echo "compare.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
if [ ${#census[@]} -gt 0 ] && [ ${#graphs[@]} -gt 0 ]; then
  # A replayed step runs no operators: nothing to set beside PyTorch's.
  echo "compare.sh: --count-ops counts eager steps; drop --cuda-graphs" >&2; exit 2
fi
shape=("${size[@]}" "${precision[@]}" "${census[@]}")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
cpu_target="${CARGO_TARGET_DIR:-$HOME/.cache/nrun-target}"
tch_target="$HOME/.cache/nrun-target-tch"
has_cuda=$("$venv/bin/python" -c 'import torch; print(int(torch.cuda.is_available()))')
has_tch=0
if [ -d "$tch_target" ]; then
  has_tch=1
  torch_lib=$("$venv/bin/python" -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
fi
nrun_flex() {
  CARGO_TARGET_DIR="$cpu_target" cargo bench --quiet --profile dev --bench train_step -- "${shape[@]}" --device flex "$@"
}
nrun_tch() {
  LD_LIBRARY_PATH="$torch_lib:${LD_LIBRARY_PATH:-}" LIBTORCH_USE_PYTORCH=1 VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" \
    CARGO_TARGET_DIR="$tch_target" cargo bench --quiet --profile dev --features tch --bench train_step -- "${shape[@]}" --device tch "${graphs[@]}" "$@"
}
for round in $(seq "$rounds"); do
  {
    "$venv/bin/python" bench/torch_step.py --device cpu "${shape[@]}"
    if [ "$has_cuda" = 1 ]; then "$venv/bin/python" bench/torch_step.py --device cuda "${shape[@]}"; fi
    nrun_flex
    if [ "$has_tch" = 1 ]; then nrun_tch; fi
  } | sed "s/^{/{\"round\": $round, /" >>"$out"
done
"$venv/bin/python" - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
ref = {(r["round"], r["device"]): r["seconds_per_step"] for r in rows if r["impl"] == "pytorch"}
by_impl = {}
for r in rows:
    name = f"{r['impl']} {r['device']}"
    base = ref.get((r["round"], "cuda" if "cuda" in r["device"] else "cpu"))
    by_impl.setdefault(name, []).append((r["seconds_per_step"], base / r["seconds_per_step"]))
precision = rows[0].get("precision", "f32")
print(f"{'implementation':<16}{'seconds/step':>14}{'vs PyTorch':>12}{'range':>16}   ({len(set(r['round'] for r in rows))} rounds, medians, {precision})")
for name, xs in by_impl.items():
    secs = statistics.median(s for s, _ in xs)
    ratios = [q for _, q in xs]
    print(f"{name:<16}{secs:>14.3f}{statistics.median(ratios):>12.2f}{min(ratios):>8.2f} - {max(ratios):.2f}")
PY
if [ ${#census[@]} -gt 0 ]; then
  echo
  grep '"round": 1,' "$out" | "$venv/bin/python" bench/census.py /dev/stdin
fi
