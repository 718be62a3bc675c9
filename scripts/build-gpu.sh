#!/usr/bin/env bash
# Builds the kit for a GPU machine (see scripts/gpu-run.sh): nrun's tch
# build and its speed benchmark, linked against the PyTorch that machine
# has (PyPI torch 2.11.0 by default; its CUDA 13 build runs the same
# libtorch API), stripped, and packed with the data and the pipelines.
#
#   scripts/build-gpu.sh [KIT]          default: gpu-kit/ (git-ignored)
#   NRUN_GPU_TORCH=2.11.0               the GPU machine's torch version
#
# Then, on the GPU machine, with the kit (and, for a kit inside this
# checkout, the checkout: the kit reads the earlier export it keeps):
#   KIT/gpu-run.sh OUT --minutes 9
set -euo pipefail
cd "$(dirname "$0")/.."
kit="${1:-gpu-kit}"
torch="${NRUN_GPU_TORCH:-2.11.0}"
export NRUN_VENV="${NRUN_GPU_VENV:-$HOME/.cache/nrun-venv-gpu}"
NRUN_TORCH="$torch" scripts/setup-tch.sh
# Its own target folder: a libtorch other than the tests' 2.9.
export NRUN_TCH_TARGET="${NRUN_GPU_TARGET:-$HOME/.cache/nrun-target-gpu}"
# shellcheck disable=SC1091
source scripts/tch-env.sh
export LIBTORCH_BYPASS_VERSION_CHECK=1
cargo build --locked --release --features tch --bin nrun
bench=$(cargo bench --locked --no-run --features tch --bench train_step --message-format=json 2>/dev/null \
  | "$NRUN_VENV/bin/python" -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "train_step" and m.get("executable"):
        print(m["executable"])')
stripped="$CARGO_TARGET_DIR/gpu-strip"
mkdir -p "$stripped"
strip -o "$stripped/nrun" "$CARGO_TARGET_DIR/release/nrun"
strip -o "$stripped/train_step" "$bench"
scripts/pack-gpu-kit.sh "$kit" "$stripped/nrun" "$stripped/train_step"
# What travels to the GPU machine: the kit and, for a kit inside this
# checkout, the checkout's files that git does not ignore (the export the
# kit names among them).
size=$(du -sb "$kit" | cut -f1)
what="$kit"
case "$(cd "$kit" && pwd -P)/" in
  "$(pwd -P)"/*)
    # (`du` skips, and complains of, tracked files deleted here.)
    tree=$(git ls-files -z --cached --others --exclude-standard \
           | { du -cb --files0-from=- 2>/dev/null || true; } | tail -1 | cut -f1)
    size=$(( size + tree ))
    what="$kit with the checkout's files" ;;
esac
if [ "$size" -gt $(( 64 * 1048576 )) ]; then
  echo "build-gpu: $what come to $(numfmt --to=iec "$size"), over the 64 MiB that travels to a GPU machine" >&2
  exit 1
fi
echo "build-gpu: $what travel as $(numfmt --to=iec "$size") of 64 MiB"
