#!/usr/bin/env bash
# Prepares the `tch` build (burn-tch over libtorch): a Python venv with the
# pinned PyTorch, whose libtorch nrun links against (LIBTORCH_USE_PYTORCH=1).
# About 4 GB to download and 7 GB on disk, once; reused afterwards.
#
#   ./scripts/setup-tch.sh           CPU/CUDA torch 2.9.0 from PyPI (the version burn-tch 0.22 expects)
#   source scripts/tch-env.sh        the build and run environment it needs
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${NRUN_VENV:-$HOME/.cache/nrun-venv}"
torch_version="${NRUN_TORCH:-2.9.0}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import torch, sys; sys.exit(0 if torch.__version__.split('+')[0] == '$torch_version' else 1)" 2>/dev/null; then
  echo "setup-tch: installing torch==$torch_version into $venv (about 4 GB)"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet "torch==$torch_version" numpy
fi
echo "setup-tch: $("$venv/bin/python" -c 'import torch; print("torch", torch.__version__, "cuda" if torch.cuda.is_available() else "cpu")') in $venv"
