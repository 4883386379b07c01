#!/usr/bin/env bash
# Peak resident memory (getrusage via /usr/bin/time -v) of two CPU runs against what they
# must hold: the dataset's uint8 pixels plus a fixed overhead, the peak of the same model,
# batch and optimizer on a tiny pre-made dataset (LibTorch, plugins, parameters, gradients,
# momentum, activations of one batch). Also the RSS of `tailor plugins list` (LibTorch and the
# host alone).
#   BUILD=build-bench STEPS=10 bench/memory/run.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common/lib.sh"
repo="$(cd "$here/../.." && pwd)"
BUILD="${BUILD:-build-bench}"
TAILOR="${TAILOR:-$BUILD/host/tailor}"
STEPS="${STEPS:-10}"
require_executable "$TAILOR" "run make bench (or build with -DTAILOR_BUILD_BENCH=ON)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$here/../common/make_cifar.py" "$work/cifar100" cifar100
export TAILOR_PLUGIN_PATH="$BUILD/bench/common/plugins"

peak_mb() {  # peak_mb <command...>: runs it, prints its maximum resident set size in MB
  /usr/bin/time -v "$@" 2>"$work/time.txt" >/dev/null || { cat "$work/time.txt" >&2; exit 1; }
  awk '/Maximum resident set size/ {printf "%.1f", $NF / 1024}' "$work/time.txt"
}
short=(--set "train.max_steps_per_epoch=$STEPS")
host="$(peak_mb "$TAILOR" plugins list)"
tiny_cnn="$(peak_mb "$TAILOR" run "$here/tiny_small_cnn.toml" --out "$work/t1")"
quick="$(peak_mb "$TAILOR" run "$repo/experiments/quickstart.toml" --out "$work/q" \
  --set experiment.device=cpu --set train.epochs=1 "${short[@]}")"
tiny_resnet="$(peak_mb "$TAILOR" run "$here/tiny_resnet32.toml" --out "$work/t2" \
  --set train.epochs=1)"
cifar="$(peak_mb "$TAILOR" run "$here/cifar100_lt.toml" --out "$work/c" \
  --set "dataset.root=$work/cifar100" --set train.epochs=1 "${short[@]}")"

# uint8 pixels held by the plugins: every train-file and test image.
fmnist_mb="$(awk 'BEGIN {printf "%.1f", 70000 * 784 / 1048576}')"
cifar_mb="$(awk 'BEGIN {printf "%.1f", 60000 * 3072 / 1048576}')"
echo "tailor plugins list (host + LibTorch): $host MB"
report() {  # report <name> <peak> <data> <overhead>
  awk -v n="$1" -v p="$2" -v d="$3" -v o="$4" 'BEGIN {
    printf "%s: peak RSS %.1f MB = dataset uint8 %.1f MB + fixed overhead %.1f MB + %.1f MB unexplained (%.1f%%)\n",
           n, p, d, o, p - d - o, 100 * (p - d - o) / p }'
}
report "quickstart (small_cnn, Fashion-MNIST-LT)" "$quick" "$fmnist_mb" "$tiny_cnn"
report "CIFAR-100-LT (resnet32_cifar, synthetic)" "$cifar" "$cifar_mb" "$tiny_resnet"
