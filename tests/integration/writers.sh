#!/usr/bin/env bash
# One writer per run directory: `tailor run --resume` of a run that is still training is
# refused naming the holder's pid; a sweep's runs die with the sweep (SIGKILL of the sweep),
# and a rerun of the sweep waits for a run another process still holds, then finishes it
# with the metrics of an uninterrupted run.
# usage: writers.sh <tailor binary> <source dir>
set -uo pipefail
tailor="$1"
src="$2"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tailor-writers.XXXXXX")"
children=()
cleanup() {
  for pid in "${children[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
passed=0
failed=0
ok() { echo "PASS $*"; passed=$((passed + 1)); }
bad() { echo "FAIL $*" >&2; failed=$((failed + 1)); }

python3 "$src/tests/integration/make_idx_fixture.py" "$tmp/data" || exit 1
exp="$src/tests/integration/tiny.toml"
root=(--set "dataset.root=$tmp/data")

# wait_for FILE PATTERN: until FILE holds PATTERN (at most 60 s).
wait_for() {
  for _ in $(seq 1 600); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
# Every (epoch, split) line of a metrics.jsonl appears once, epochs in order.
metrics_sane() {
  python3 - "$1" <<'PY'
import json, sys
seen, last = set(), 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    key = (r["epoch"], r["split"])
    assert key not in seen, f"duplicate {key}"
    assert r["epoch"] >= last, f"epoch {r['epoch']} after {last}"
    seen.add(key)
    last = r["epoch"]
PY
}

# -- a second writer of a training run -------------------------------------------------------
"$tailor" run "$exp" "${root[@]}" --set 'stage[0].epochs=500' --out "$tmp/busy" > "$tmp/busy.log" 2>&1 &
busy=$!
children+=("$busy")
if wait_for "$tmp/busy/metrics.jsonl" '"split":"train"'; then
  if "$tailor" run --resume "$tmp/busy" > "$tmp/second.log" 2>&1; then
    bad "a second writer of a training run was accepted"
  elif grep -q "is in use: process $busy is writing it" "$tmp/second.log" &&
       grep -q "kill -INT $busy" "$tmp/second.log"; then
    ok "a second writer is refused, naming the holder's pid and the fix"
  else
    bad "second writer: $(tail -1 "$tmp/second.log")"
  fi
else
  bad "the background run did not start: $(tail -2 "$tmp/busy.log")"
fi
kill -INT "$busy" 2>/dev/null
wait "$busy"
code=$?
[[ $code -eq 130 ]] && ok "SIGINT exits 130" || bad "SIGINT: exit $code"
metrics_sane "$tmp/busy/metrics.jsonl" && ok "metrics.jsonl has no duplicated epochs" ||
  bad "metrics.jsonl of the contested run is damaged"

# -- a killed sweep ----------------------------------------------------------------------------
# The uninterrupted reference of the sweep's one run.
set6=(--set 'stage[0].epochs=6')
"$tailor" run "$exp" "${root[@]}" "${set6[@]}" --set experiment.seed=3 --out "$tmp/reference" \
  > "$tmp/reference.log" 2>&1 || bad "reference run failed"
"$tailor" sweep "$exp" "${root[@]}" "${set6[@]}" --out "$tmp/sweep" > "$tmp/sweep1.log" 2>&1 &
sweep=$!
children+=("$sweep")
run="$tmp/sweep/tiny/seed3"
if wait_for "$run/metrics.jsonl" '"split":"train"'; then
  child=$(head -1 "$run/.tailor-lock")
  [[ -n "$child" && ! -e "$run/summary.json" ]] && kill -0 "$child" 2>/dev/null ||
    bad "the run finished before the sweep could be killed; nothing was tested"
  kill -KILL "$sweep"
  wait "$sweep" 2>/dev/null
  gone=0
  for _ in $(seq 1 300); do
    kill -0 "$child" 2>/dev/null || { gone=1; break; }
    sleep 0.1
  done
  [[ $gone -eq 1 ]] && ok "the sweep's run stops when the sweep is killed" ||
    { bad "run $child outlived its sweep"; kill -KILL "$child" 2>/dev/null; }
else
  bad "the sweep's run did not start: $(tail -2 "$tmp/sweep1.log")"
fi
# Another process holds the run until the rerun says it waits (no fixed delay, which a loaded
# machine outlasts): the rerun waits for it, then finishes the run.
flock "$run/.tailor-lock" bash -c 'touch "$1/held"; while [[ ! -e "$1/release" ]]; do sleep 0.1; done' \
  _ "$tmp" &
holder=$!
children+=("$holder")
wait_for_file() { for _ in $(seq 1 600); do [[ -e "$1" ]] && return 0; sleep 0.1; done; return 1; }
wait_for_file "$tmp/held" || bad "the holder did not take the lock"
"$tailor" sweep "$exp" "${root[@]}" "${set6[@]}" --out "$tmp/sweep" > "$tmp/sweep2.log" 2>&1 &
rerun=$!
children+=("$rerun")
if wait_for "$tmp/sweep2.log" "tiny/seed3 is being written by another process; waiting"; then
  ok "the rerun waits for a run another process holds"
  [[ -e "$run/summary.json" ]] && bad "the rerun did not wait: the run finished while held"
else
  bad "no wait: $(head -3 "$tmp/sweep2.log")"
fi
touch "$tmp/release"
if wait "$rerun"; then
  metrics_sane "$run/metrics.jsonl" && ok "the sweep's metrics.jsonl has no duplicated epochs" ||
    bad "the sweep's metrics.jsonl is damaged"
  cmp -s "$tmp/reference/metrics.jsonl" "$run/metrics.jsonl" &&
    ok "killed sweep + rerun: metrics of the uninterrupted run" ||
    bad "killed sweep + rerun: metrics differ from the uninterrupted run"
else
  bad "the rerun of the sweep failed: $(tail -3 "$tmp/sweep2.log")"
fi
wait "$holder" 2>/dev/null

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
