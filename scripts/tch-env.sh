# Source this to build or run nrun's `tch` build:
#   source scripts/tch-env.sh && cargo build --release --features tch
venv="${NRUN_VENV:-$HOME/.cache/nrun-venv}"
export VIRTUAL_ENV="$venv"
export PATH="$venv/bin:$PATH"
export LIBTORCH_USE_PYTORCH=1
# Separate from the default build's, so the two builds do not evict each other.
export CARGO_TARGET_DIR="${NRUN_TCH_TARGET:-$HOME/.cache/nrun-target-tch}"
torch_lib="$("$venv/bin/python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
