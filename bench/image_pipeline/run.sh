#!/usr/bin/env bash
# Runs the C++ image pipeline and the PIL + torchvision one on the same generated JPEGs, each
# on one pinned core, prints both throughputs and their ratio, then times list and JSON loading.
#   BUILD=build-dir SECONDS_EACH=10 [COUNT=200 WIDTH=500 HEIGHT=375] bench/image_pipeline/run.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common/lib.sh"
BUILD="${BUILD:-build}"
BENCH="${BENCH:-$BUILD/bench/image_pipeline/bench_image_pipeline}"
SECONDS_EACH="${SECONDS_EACH:-10}"
COUNT="${COUNT:-200}"
WIDTH="${WIDTH:-500}"
HEIGHT="${HEIGHT:-375}"
require_executable "$BENCH" "configure with -DTAILOR_BUILD_BENCH=ON and build bench_image_pipeline"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
pin=()
if command -v taskset >/dev/null 2>&1; then pin=(taskset -c 0); fi

"$BENCH" generate "$work" "$COUNT" "$WIDTH" "$HEIGHT"
cpp="$("${pin[@]}" "$BENCH" pipeline "$work" "$SECONDS_EACH" --dump "$work/eval_cpp.f32")"
cpp_exact="$("${pin[@]}" "$BENCH" pipeline "$work" "$SECONDS_EACH" --no-scaling)"
pil="$("${pin[@]}" /usr/bin/python3 "$here/bench_pil.py" "$work" --seconds "$SECONDS_EACH" \
  --compare "$work/eval_cpp.f32")"
echo "$cpp"
echo "$cpp_exact" | sed 's/^cpp /cpp (decode_scaling = false) /'
echo "$pil"
value() { echo "$1" | awk -v key="$2" '$0 ~ "^"key" " {print $(NF-1); exit}'; }
for t in train eval; do
  awk -v c="$(value "$cpp" "cpp $t")" -v e="$(value "$cpp_exact" "cpp $t")" \
      -v p="$(value "$pil" "pil $t")" -v t="$t" \
      'BEGIN {printf "ratio %s: cpp / pil = %.2fx (decode_scaling = false: %.2fx)\n", t, c / p, e / p}'
done
"$BENCH" lists "$work/lists"
"$BENCH" json "$work/json"
