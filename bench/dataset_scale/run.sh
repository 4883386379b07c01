#!/usr/bin/env bash
# Construction time of the imagenet_lt and inaturalist datasets on synthetic split files of
# the real sizes (ImageNet-LT: 185,846 list lines; iNaturalist 2018: 437,513 + 24,426 JSON
# images), on one pinned core. Target: under 1-2 s each.
#   BUILD=build-bench REPEATS=3 bench/dataset_scale/run.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../common/lib.sh"
BUILD="${BUILD:-build-bench}"
BENCH="${BENCH:-$BUILD/bench/dataset_scale/bench_dataset_scale}"
REPEATS="${REPEATS:-3}"
require_executable "$BENCH" "run make bench (or build with -DTAILOR_BUILD_BENCH=ON)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
pin=()
if command -v taskset >/dev/null 2>&1; then pin=(taskset -c 0); fi
"${pin[@]}" "$BENCH" imagenet_lt "$work/imagenet_lt" "$REPEATS" 2>/dev/null
"${pin[@]}" "$BENCH" inaturalist "$work/inaturalist" "$REPEATS" 2>/dev/null
