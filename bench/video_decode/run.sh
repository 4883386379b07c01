#!/usr/bin/env bash
# Decodes the same generated H.264 clips with the egtea plugin's FFmpeg path and with PyAV,
# each on one pinned core and one decoder thread, with the same TSN sampling; prints both
# throughputs (clips/s) and their ratio.
#   BUILD=build-dir SECONDS_EACH=5 [COUNT=8 FRAMES=84 WIDTH=640 HEIGHT=480 NF=10] bench/video_decode/run.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common/lib.sh"
BUILD="${BUILD:-build}"
BENCH="${BENCH:-$BUILD/bench/video_decode/bench_video_decode}"
SECONDS_EACH="${SECONDS_EACH:-5}"
COUNT="${COUNT:-8}"
FRAMES="${FRAMES:-84}"  # EGTEA clips average 3.48 s at 24 fps
WIDTH="${WIDTH:-640}"
HEIGHT="${HEIGHT:-480}"
NF="${NF:-10}"
require_executable "$BENCH" "configure with -DTAILOR_BUILD_BENCH=ON and build bench_video_decode"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
pin=()
if command -v taskset >/dev/null 2>&1; then pin=(taskset -c 0); fi

for i in $(seq 1 "$COUNT"); do
  ffmpeg -loglevel error -y -f lavfi -i "testsrc2=s=${WIDTH}x${HEIGHT}:r=24" \
    -f lavfi -i "nullsrc=s=${WIDTH}x${HEIGHT}:r=24,geq=random(1)*255:128:128" \
    -filter_complex "[0:v][1:v]blend=all_mode=overlay:all_opacity=0.1,hue=h=$((i * 40))" \
    -frames:v "$FRAMES" -c:v libx264 -preset medium -crf 23 -pix_fmt yuv420p \
    "$work/clip$i.mp4"
done
echo "clips: $COUNT x $FRAMES frames, ${WIDTH}x${HEIGHT}, H.264 yuv420p crf 23, $NF frames per clip"
cpp="$("${pin[@]}" "$BENCH" "$work" "$SECONDS_EACH" "$NF")"
py="$("${pin[@]}" /usr/bin/python3 "$here/bench_pyav.py" "$work" --seconds "$SECONDS_EACH" --frames "$NF")"
echo "$cpp"
echo "$py"
value() { echo "$1" | awk -v key="$2" '$0 ~ "^"key" " {print $(NF-1); exit}'; }
for t in eval train; do
  awk -v c="$(value "$cpp" "cpp decode $t")" -v p="$(value "$py" "pyav decode $t")" -v t="$t" \
      'BEGIN {printf "ratio decode %s: cpp / pyav = %.2fx\n", t, c / p}'
done
