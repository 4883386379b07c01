#!/usr/bin/env bash
# The quickstart (small CNN + cross-entropy on Fashion-MNIST-LT from
# /usr/share/datasets/fashion-mnist), CPU: training throughput of `tailor run` and of the
# equivalent PyTorch script (bench/common/torch_train.py) with the same thread count, the data
# pipeline's share of tailor's step time, and the evaluation pass over the 10,000 test images.
#   [PY_MALLOC=1] BUILD=build-bench STEPS=200 WORKERS=0,1,2 bench/fmnist_small_cnn/run.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
source "$here/../common/lib.sh"
BUILD="${BUILD:-build-bench}"
TAILOR="${TAILOR:-$BUILD/host/tailor}"
STEPS="${STEPS:-200}"
WORKERS="${WORKERS:-0,1,2}"
ROOT="${ROOT:-/usr/share/datasets/fashion-mnist}"
require_executable "$TAILOR" "run make bench (or build with -DTAILOR_BUILD_BENCH=ON)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

tailor_run "$work/real" "$repo/experiments/quickstart.toml" --set "dataset.root=$ROOT"
tailor_run "$work/premade" "$here/premade.toml"
compare_training "small_cnn fmnist" 2 "$work/real" "$work/premade" fmnist --root "$ROOT" --warmup 10 --steps "$STEPS"
