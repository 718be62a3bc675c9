#!/usr/bin/env bash
# Runs nrun's tests: unit, end-to-end (the real binary), training
# correctness, the report's headless-browser check, and (when a one-node
# Slurm cluster can be started here) the Slurm executor's end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/nrun-target}"
# The target dir outlives the clones CI builds from, and once filled the
# disk (31 GB): the last run's incremental caches go (a fresh clone
# rebuilds nrun anyway), and so do nrun's own test and bench binaries
# older than a day (dependencies stay; these relink in seconds).
for dir in "$CARGO_TARGET_DIR/debug" "$HOME/.cache/nrun-target-tch/debug"; do
  [ -d "$dir/deps" ] || continue
  rm -rf "$dir/incremental"
  for name in nrun libnrun $(basename -s .rs tests/*.rs benches/*.rs); do
    find "$dir/deps" -maxdepth 1 -name "$name-*" -mtime +1 -delete
  done
done
# The browser test must not silently skip where Chromium was installed.
if command -v chromedriver >/dev/null; then export NRUN_REQUIRE_BROWSER=1; fi
state="${TMPDIR:-/tmp}/nrun-test-slurm"
if env_file=$(tests/slurm/start.sh "$state" 2>/tmp/nrun-slurm-start.log); then
  export NRUN_SLURM_ENV="$env_file"
  trap 'tests/slurm/stop.sh "$state" >/dev/null 2>&1 || true' EXIT
else
  echo "test.sh: no Slurm cluster ($(tail -n 1 /tmp/nrun-slurm-start.log)); the Slurm tests will skip" >&2
fi
# The GPU script's CPU test needs a Python with torch (the tch venv).
venv="${NRUN_VENV:-$HOME/.cache/nrun-venv}"
if [ -x "$venv/bin/python" ]; then export NRUN_PYTHON="$venv/bin/python"; fi
cargo test --locked "$@"
# The benchmarks are not run here, but they must keep building (in the
# dev profile they share the tests' compiled dependencies).
if [ $# -eq 0 ]; then cargo build --locked --profile dev --benches; fi
# The libtorch build, where its PyTorch venv exists (scripts/setup-tch.sh):
# unit tests and the flex / libtorch parity test.
if [ -x "$venv/bin/python" ] && [ $# -eq 0 ]; then
  (
    # shellcheck disable=SC1091
    source scripts/tch-env.sh
    cargo test --locked --features tch --lib --test parity
  )
fi
