#!/usr/bin/env bash
# Whether tailor uses every core it may by default: the thread count a run logs with its
# reason, under the full affinity mask and under `taskset -c 0`, and the CPU a training run
# actually got (/usr/bin/time's "Percent of CPU", 100% per busy core) against the cores usable.
#   BUILD=build-bench bench/threads/run.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common/lib.sh"
repo="$(cd "$here/../.." && pwd)"
BUILD="${BUILD:-build-bench}"
TAILOR="${TAILOR:-$BUILD/host/tailor}"
require_executable "$TAILOR" "run make bench (or build with -DTAILOR_BUILD_BENCH=ON)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export TAILOR_PLUGIN_PATH="$BUILD/bench/common/plugins"
tiny=("$TAILOR" run "$repo/bench/memory/tiny_small_cnn.toml")
logged() { sed -n 's/.*\(using [0-9]* intra-op thread.*\)/\1/p' "$1/log.txt" | head -1; }

"${tiny[@]}" --out "$work/all" >/dev/null 2>&1
echo "default ($(nproc) cores online, affinity $(taskset -p $$ | awk '{print $NF}')): $(logged "$work/all")"
if command -v taskset >/dev/null 2>&1; then
  taskset -c 0 "${tiny[@]}" --out "$work/one" >/dev/null 2>&1
  echo "taskset -c 0: $(logged "$work/one")"
fi
/usr/bin/time -v "$TAILOR" run "$repo/bench/fmnist_small_cnn/premade.toml" --out "$work/busy" \
  --set train.epochs=1 --set train.max_steps_per_epoch=60 --set eval.test_every=0 \
  >/dev/null 2>"$work/time.txt"
cpu="$(awk -F': ' '/Percent of CPU/ {print $2}' "$work/time.txt")"
echo "CPU used by 60 training steps + one test pass on pre-made tensors: $cpu of $(nproc)00%"
