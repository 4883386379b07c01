#!/usr/bin/env bash
# Soak test (not in CI): SIGKILL a two-stage run at random moments, resume it after each kill,
# and require the result to be the uninterrupted run's, byte for byte. Kills land anywhere:
# during start-up, a training step, an evaluation, a metrics append or a checkpoint save.
# After every kill the run directory must hold no half-trusted state: metrics.jsonl is a
# prefix of the reference (a torn last line aside, which the resume drops) and every
# checkpoint on disk passes its checksum (the next resume reads it).
#
# usage: tests/soak/kill_resume.sh [TAILOR] [KILLS]   (defaults: build/host/tailor, 50)
# Seeded by SOAK_SEED (default: the time), printed so a failure can be replayed.
set -uo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tailor="$(realpath "${1:-$src/build/host/tailor}")"
kills="${2:-50}"
seed="${SOAK_SEED:-$(date +%s)}"
RANDOM=$seed
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tailor-soak.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "soak: $kills random SIGKILLs, seed $seed, $tailor"

python3 "$src/tests/integration/make_idx_fixture.py" "$tmp/data" || exit 1
# tiny.toml with longer stages: 6 epochs of representation learning, then 4 of cRT.
args=("$src/tests/integration/tiny.toml" --set "dataset.root=$tmp/data"
      --set 'stage[0].epochs=6' --set 'stage[1].epochs=4' --set train.checkpoint_every=2)
t0=${EPOCHREALTIME/./}
"$tailor" run "${args[@]}" --out "$tmp/reference" > "$tmp/reference.log" 2>&1 ||
  { cat "$tmp/reference.log"; exit 1; }
# Kills land uniformly within the uninterrupted run's duration, measured here, so that they
# reach training on a slow or loaded machine too (a fixed window ends during start-up there).
span_ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
echo "the uninterrupted run takes $span_ms ms; kills land 50 ms to that after each start"

prefix_of_reference() {
  python3 - "$tmp/reference/metrics.jsonl" "$1" <<'PY'
import sys
ref = open(sys.argv[1], "rb").read().split(b"\n")
got = open(sys.argv[2], "rb").read().split(b"\n")
for i, line in enumerate(got):
    last = i == len(got) - 1
    if last and ref[i].startswith(line):
        continue  # a line torn by the kill, or the empty remainder after the final newline
    if line != ref[i]:
        sys.exit(f"line {i + 1} differs from the reference")
PY
}

run="$tmp/run"
declare -A landed
done_kills=0
starts=0
while [[ $done_kills -lt $kills ]]; do
  if [[ -e "$run/summary.json" ]]; then  # finished between kills: start over in a new directory
    cmp -s "$tmp/reference/metrics.jsonl" "$run/metrics.jsonl" ||
      { echo "FAIL: a finished run differs from the reference after $done_kills kills"; exit 1; }
    mv "$run" "$tmp/finished-$starts"
  fi
  if [[ -e "$run/config.resolved.toml" ]]; then
    "$tailor" run --resume "$run" > "$tmp/attempt.log" 2>&1 &
  else
    rm -rf "$run"
    "$tailor" run "${args[@]}" --out "$run" > "$tmp/attempt.log" 2>&1 &
  fi
  pid=$!
  starts=$((starts + 1))
  delay_ms=$(( 50 + (RANDOM * 32768 + RANDOM) % span_ms ))
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  if kill -KILL "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null
    done_kills=$((done_kills + 1))
    # Where the kill landed: the last epoch metrics.jsonl records (0: before any).
    at=$(grep -o '"epoch":[0-9]*' "$run/metrics.jsonl" 2>/dev/null | tail -1 | cut -d: -f2)
    landed["${at:-0}"]=$(( ${landed["${at:-0}"]:-0} + 1 ))
  else
    wait "$pid"
    code=$?
    if [[ $code -ne 0 ]]; then
      echo "FAIL: attempt $starts exited $code without being killed:"
      tail -5 "$tmp/attempt.log"
      exit 1
    fi
  fi
  [[ -e "$run/metrics.jsonl" ]] && ! prefix_of_reference "$run/metrics.jsonl" &&
    { echo "FAIL after kill $done_kills: metrics.jsonl is not a prefix of the reference"; exit 1; }
done
# The last kill may have landed before the run directory held its configuration: start anew.
if [[ -e "$run/config.resolved.toml" ]]; then
  "$tailor" run --resume "$run" > "$tmp/final.log" 2>&1
else
  rm -rf "$run"
  "$tailor" run "${args[@]}" --out "$run" > "$tmp/final.log" 2>&1
fi || { [[ -e "$run/summary.json" ]] || { tail -5 "$tmp/final.log"; echo "FAIL: final run"; exit 1; }; }
for f in metrics.jsonl per_class.csv confusion_test_last.csv idx_lt_selection.csv; do
  cmp -s "$tmp/reference/$f" "$run/$f" || { echo "FAIL: $f differs from the reference"; exit 1; }
done
finished=$(ls -d "$tmp"/finished-* 2>/dev/null | wc -l)
histogram=""
for epoch in $(printf '%s\n' "${!landed[@]}" | sort -n); do
  histogram="$histogram ${landed[$epoch]}@$epoch"
done
echo "kills by the last epoch recorded in metrics.jsonl (count@epoch, 0: none yet):$histogram"
echo "PASS: $done_kills SIGKILLs over $starts starts ($finished runs finished in between and" \
     "matched); every resumed run equals the uninterrupted one byte for byte"
