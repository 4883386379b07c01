#!/usr/bin/env bash
# ResNet-32 on CIFAR-10-LT (synthetic CIFAR-10 in the binary format), CPU: training
# throughput of `tailor run` and of the equivalent PyTorch script (bench/common/torch_train.py)
# with the same thread count, the data pipeline's share of tailor's step time (the same run
# on pre-made tensors), and the evaluation pass over the 10,000 test images.
#   [PY_MALLOC=1] BUILD=build-bench STEPS=30 WORKERS=0,2 bench/cifar_resnet32/run.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common/lib.sh"
BUILD="${BUILD:-build-bench}"
TAILOR="${TAILOR:-$BUILD/host/tailor}"
STEPS="${STEPS:-30}"
WORKERS="${WORKERS:-0,2}"
require_executable "$TAILOR" "run make bench (or build with -DTAILOR_BUILD_BENCH=ON)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$here/../common/make_cifar.py" "$work/cifar10" cifar10

tailor_run "$work/real" "$here/resnet32_cifar10_lt.toml" --set "dataset.root=$work/cifar10"
tailor_run "$work/premade" "$here/premade.toml"
compare_training "resnet32 cifar" 1.3 "$work/real" "$work/premade" cifar --root "$work/cifar10" --steps "$STEPS"
