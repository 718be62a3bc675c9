#!/usr/bin/env bash
# Times one NOT outer step of the seed's CNNs in nrun and in PyTorch, side
# by side, and prints nrun's speed relative to PyTorch per backend and
# device (higher is better; 1.0 = as fast as PyTorch eager).
#
#   bench/compare.sh                      # small nets (quick on a CPU)
#   bench/compare.sh --seed-cnn           # the seed's nets: batch 64 x 4, 128 channels
#
# Needs the PyTorch venv of scripts/setup-tch.sh ($NRUN_VENV, default
# ~/.cache/nrun-venv); uses the tch build too when it exists. nrun runs in
# the dev profile, whose dependencies (burn, libtorch) are optimised as in
# release: the network math is what is timed.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${NRUN_VENV:-$HOME/.cache/nrun-venv}"
if [ "${1:-}" = "--seed-cnn" ]; then
  shape=(--batch 64 --z 4 --channels 128 --layers 7 --steps 2)
else
  shape=(--batch 8 --z 4 --channels 32 --layers 4 --steps 5)
fi
out=$(mktemp)
"$venv/bin/python" bench/torch_step.py --device cpu "${shape[@]}" >>"$out"
if "$venv/bin/python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  "$venv/bin/python" bench/torch_step.py --device cuda "${shape[@]}" >>"$out"
fi
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/nrun-target}" cargo bench --quiet --profile dev --bench train_step -- "${shape[@]}" >>"$out"
if [ -x "$venv/bin/python" ] && [ -d "$HOME/.cache/nrun-target-tch" ]; then
  torch_lib=$("$venv/bin/python" -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
  LD_LIBRARY_PATH="$torch_lib:${LD_LIBRARY_PATH:-}" LIBTORCH_USE_PYTORCH=1 VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" \
    CARGO_TARGET_DIR="$HOME/.cache/nrun-target-tch" cargo bench --quiet --profile dev --features tch --bench train_step -- "${shape[@]}" \
    | grep -v '"flex cpu"' >>"$out"
fi
"$venv/bin/python" - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
ref = {r["device"]: r["seconds_per_step"] for r in rows if r["impl"] == "pytorch"}
print(f"{'implementation':<16}{'seconds/step':>14}{'vs PyTorch':>12}")
for r in rows:
    if r["impl"] == "pytorch":
        print(f"{'pytorch ' + r['device']:<16}{r['seconds_per_step']:>14.3f}{1.0:>12.2f}")
for r in rows:
    if r["impl"] == "nrun":
        base = ref.get("cuda" if "cuda" in r["device"] else "cpu")
        ratio = base / r["seconds_per_step"] if base else float("nan")
        print(f"{'nrun ' + r['device']:<16}{r['seconds_per_step']:>14.3f}{ratio:>12.2f}")
PY
rm -f "$out"
