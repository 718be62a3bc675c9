#!/usr/bin/env bash
# Runs nrun's tests: unit, end-to-end (the real binary), training
# correctness, and the report's headless-browser check.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/nrun-target}"
# The browser test must not silently skip where Chromium was installed.
if command -v chromedriver >/dev/null; then export NRUN_REQUIRE_BROWSER=1; fi
cargo test --locked "$@"
