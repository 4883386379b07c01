#!/usr/bin/env bash
# Runs the C++ image pipeline and the PIL + torchvision one on the same generated JPEGs, each
# on one pinned core, prints both throughputs and their ratio; then the stages of the training
# transform (one core), the loader thread-scaling table (tailor's image_list batch() on N
# threads vs a torch DataLoader with N workers, each pinned to N cores, for N in THREADS), and
# list and JSON load times.
#   BUILD=build-dir SECONDS_EACH=10 [COUNT=200 WIDTH=500 HEIGHT=375] [THREADS="1 2"]
#     [BATCH=32] [SKIP_LOADS=1] bench/image_pipeline/run.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common/lib.sh"
BUILD="${BUILD:-build}"
BENCH="${BENCH:-$BUILD/bench/image_pipeline/bench_image_pipeline}"
SECONDS_EACH="${SECONDS_EACH:-10}"
COUNT="${COUNT:-200}"
WIDTH="${WIDTH:-500}"
HEIGHT="${HEIGHT:-375}"
THREADS="${THREADS:-1 2}"
BATCH="${BATCH:-32}"
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
"${pin[@]}" "$BENCH" stages "$work" "$SECONDS_EACH"

# Thread scaling: N loader threads (tailor) and N DataLoader workers (Python), each side
# pinned to the first N cores, training transform, batches of BATCH.
cores="$(nproc)"
echo "scaling: training transform, ${WIDTH}x${HEIGHT}, batch $BATCH, images/s on N pinned cores"
for n in $THREADS; do
  if ((n > cores)); then
    echo "scaling $n threads: skipped (only $cores cores)"
    continue
  fi
  cpus=()
  command -v taskset >/dev/null 2>&1 && cpus=(taskset -c "0-$((n - 1))")
  t="$("${cpus[@]}" "$BENCH" scaling "$work" "$SECONDS_EACH" --threads "$n" --batch "$BATCH" |
    awk '{print $(NF-1)}')"
  p="$("${cpus[@]}" /usr/bin/python3 "$here/bench_dataloader.py" "$work" --workers "$n" \
    --batch "$BATCH" --seconds "$SECONDS_EACH" | awk '{print $(NF-1)}')"
  awk -v n="$n" -v t="$t" -v p="$p" 'BEGIN {
    printf "scaling %d threads: tailor loader %.1f img/s (%.1f per thread), torch DataLoader %.1f img/s (%.1f per worker), ratio %.2fx\n",
           n, t, t / n, p, p / n, t / p }'
done
if [[ "${SKIP_LOADS:-0}" != 1 ]]; then
  "$BENCH" lists "$work/lists"
  "$BENCH" json "$work/json"
fi
