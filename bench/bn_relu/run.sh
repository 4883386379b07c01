#!/usr/bin/env bash
# The fused BatchNorm (+ residual) + ReLU of backbones/common (resnet32_cifar, small_cnn
# fuse_bn_relu) against ATen's ops from C++ and torch's from Python, forward + backward at
# ResNet-32's activation shapes, on 1 and on 2 threads: time, the speedup of the fused node over
# each, and the float32 error of each against float64.
#   BUILD=build-bench THREADS="1 2" bench/bn_relu/run.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common/lib.sh"
BUILD="${BUILD:-build-bench}"
BENCH="${BENCH:-$BUILD/bench/bn_relu/bench_bn_relu}"
THREADS="${THREADS:-1 2}"
require_executable "$BENCH" "run make bench (or build with -DTAILOR_BUILD_BENCH=ON)"
for t in $THREADS; do
  echo "== $t thread(s)"
  cpp="$(OMP_NUM_THREADS="$t" "$BENCH" "$t")"
  py="$(python_side "$t" "$here/torch_bn_relu.py" --threads "$t")"
  echo "$cpp"
  echo "$py"
  # Side by side: the fused node vs ATen (C++) and vs torch (Python), and the three errors.
  paste -d' ' <(echo "$cpp") <(echo "$py") | awk '{
    for (i = 1; i <= NF; ++i) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "ratio C=%s HW=%s residual=%s fused vs aten %.2fx, vs torch %.2fx; dx error fused %s aten %s torch %s; dweight error fused %s aten %s torch %s\n",
      v["C"], v["HW"], v["residual"], v["aten_ms"] / v["fused_ms"], v["torch_ms"] / v["fused_ms"],
      v["fused_dx_err"], v["aten_dx_err"], v["torch_dx_err"], v["fused_dweight_err"],
      v["aten_dweight_err"], v["torch_dweight_err"]
  }'
done
