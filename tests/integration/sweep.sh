#!/usr/bin/env bash
# `tailor sweep` and `tailor compare` end to end on the tiny fixture: a grid over seeds in
# parallel, the comparison table, an interrupted sweep that resumes running only what was
# not finished, and the bad inputs (unknown grid key, empty grid, runs of different datasets).
# usage: sweep.sh <tailor binary> <source dir>
set -uo pipefail
tailor="$1"
src="$2"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tailor-sweep.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
ok() { echo "PASS $*"; passed=$((passed + 1)); }
bad() { echo "FAIL $*" >&2; failed=$((failed + 1)); }

python3 "$src/tests/integration/make_idx_fixture.py" "$tmp/data" || exit 1
python3 "$src/tests/integration/make_idx_fixture.py" "$tmp/other" 12 || exit 1
exp="$src/tests/integration/tiny.toml"
root=(--set "dataset.root=$tmp/data" --set experiment.threads=0)

# -- a 2 x 2 sweep, two runs at a time ------------------------------------------------------
if "$tailor" sweep "$exp" "${root[@]}" --grid loss.label_smoothing=0,0.1 --seeds 2 --jobs 2 \
     --out "$tmp/sw" > "$tmp/sw.log" 2>&1; then
  n=$(find "$tmp/sw" -name summary.json | wc -l)
  [[ "$n" == 4 ]] && ok "sweep made 4 finished runs" || bad "sweep made $n finished runs, not 4"
  [[ -f "$tmp/sw/tiny/loss.label_smoothing=0.1/seed4/summary.json" ]] &&
    ok "run directories named by grid point and seed" || bad "unexpected run layout: $(ls -R "$tmp/sw" | head)"
  grep -q "seed = 4" "$tmp/sw/tiny/loss.label_smoothing=0/seed4/config.resolved.toml" &&
    ok "second seed is experiment.seed + 1" || bad "seed not applied"
  grep -q "TAILOR_THREADS" "$tmp/sw/tiny/loss.label_smoothing=0/seed3/log.txt" &&
    ok "runs share the cores (TAILOR_THREADS)" || bad "threads not split between jobs"
else
  cat "$tmp/sw.log"
  bad "sweep failed"
fi

# -- compare ------------------------------------------------------------------------------
if "$tailor" compare "$tmp/sw" --csv "$tmp/t.csv" --markdown "$tmp/t.md" > "$tmp/cmp.out" 2> "$tmp/cmp.err"; then
  rows=$(grep -c "^| loss.label_smoothing=" "$tmp/cmp.out")
  [[ "$rows" == 2 ]] && ok "compare: one row per grid point" || bad "compare rows: $rows; $(cat "$tmp/cmp.out")"
  grep -q "^| loss.label_smoothing=0.1 | 2 | [0-9.]* ± [0-9.]* |" "$tmp/cmp.out" &&
    ok "compare: mean ± std over 2 seeds" || bad "compare lacks mean ± std: $(cat "$tmp/cmp.out")"
  python3 - "$tmp/t.csv" "$tmp/sw" <<'PY' && ok "compare CSV matches the runs' summaries" || bad "CSV mismatch"
import csv, json, statistics, sys, glob
rows = {r["configuration"]: r for r in csv.DictReader(open(sys.argv[1]))}
assert len(rows) == 2, rows
for ls in ("0", "0.1"):
    tops = []
    for f in glob.glob(f"{sys.argv[2]}/tiny/loss.label_smoothing={ls}/seed*/summary.json"):
        s = json.load(open(f))
        tops.append(s["best_on_val"]["test"]["top1"])
    r = rows[f"loss.label_smoothing={ls}"]
    assert int(r["runs"]) == 2
    assert abs(float(r["top1_mean"]) - statistics.mean(tops)) < 1e-5, (r, tops)
    assert abs(float(r["top1_std"]) - statistics.stdev(tops)) < 1e-5, (r, tops)
PY
  cmp -s "$tmp/t.md" "$tmp/cmp.out" && ok "--markdown file equals stdout" || bad "--markdown differs"
else
  cat "$tmp/cmp.err"
  bad "compare failed"
fi

# -- interrupt and resume -----------------------------------------------------------------
"$tailor" sweep "$exp" "${root[@]}" --seeds 3 --out "$tmp/int" > "$tmp/int1.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  [[ -n "$(find "$tmp/int" -name summary.json 2>/dev/null)" ]] && break
  sleep 0.1
done
kill -INT "$pid"
wait "$pid"
code=$?
first=$(find "$tmp/int" -name summary.json | head -1)
done_before=$(find "$tmp/int" -name summary.json | wc -l)
if [[ "$code" == 130 && "$done_before" -ge 1 && "$done_before" -lt 3 ]]; then
  ok "interrupted sweep exits 130 with $done_before of 3 runs finished"
else
  bad "interrupt: exit $code, $done_before runs finished; $(tail -3 "$tmp/int1.log")"
fi
stamp=$(stat -c %Y.%s "$first" 2>/dev/null)
first_id=${first#"$tmp/int/"}
first_id=${first_id%/summary.json}
if "$tailor" sweep "$exp" "${root[@]}" --seeds 3 --out "$tmp/int" > "$tmp/int2.log" 2>&1; then
  n=$(find "$tmp/int" -name summary.json | wc -l)
  [[ "$n" == 3 ]] && ok "rerun finished the sweep" || bad "rerun left $n of 3 runs"
  grep -q "start $first_id" "$tmp/int2.log" && bad "rerun ran the finished $first_id again" ||
    ok "rerun skipped the finished run"
  [[ "$(stat -c %Y.%s "$first")" == "$stamp" ]] && ok "finished run untouched" || bad "finished run rewritten"
  grep -q "$done_before finished" "$tmp/int2.log" && ok "rerun reports the finished runs" ||
    bad "rerun log: $(head -3 "$tmp/int2.log")"
else
  cat "$tmp/int2.log"
  bad "resumed sweep failed"
fi
# A different plan in the same directory is refused.
"$tailor" sweep "$exp" "${root[@]}" --seeds 2 --out "$tmp/int" > "$tmp/diff.log" 2>&1
[[ $? -ne 0 ]] && grep -q "holds a different sweep" "$tmp/diff.log" && ok "different plan refused" ||
  bad "different plan: $(tail -2 "$tmp/diff.log")"

# -- bad input ----------------------------------------------------------------------------
expect_error() {  # expect_error <name> <pattern> <command...>
  local name="$1" pattern="$2"
  shift 2
  "$@" > "$tmp/err.log" 2>&1
  local code=$?
  if [[ $code -ne 0 ]] && grep -q -- "$pattern" "$tmp/err.log"; then
    ok "$name"
  else
    bad "$name: exit $code; $(tail -3 "$tmp/err.log")"
  fi
}
expect_error "unknown grid key" "no such key in the resolved configuration.*did you mean 'loss.label_smoothing'" \
  "$tailor" sweep "$exp" "${root[@]}" --grid loss.label_smothing=0,1 --out "$tmp/bad1"
[[ ! -e "$tmp/bad1" ]] && ok "no sweep directory after a bad grid key" || bad "bad grid key left $tmp/bad1"
expect_error "empty grid" "empty value for loss.label_smoothing" \
  "$tailor" sweep "$exp" "${root[@]}" --grid loss.label_smoothing= --out "$tmp/bad2"
expect_error "grid without values" "expected KEY=V1,V2" \
  "$tailor" sweep "$exp" "${root[@]}" --grid loss.label_smoothing --out "$tmp/bad3"
expect_error "grid over seeds" "use --seeds" \
  "$tailor" sweep "$exp" "${root[@]}" --grid experiment.seed=1,2 --out "$tmp/bad4"
"$tailor" run "$exp" --set "dataset.root=$tmp/other" --set train.max_steps_per_epoch=2 \
  --out "$tmp/other_run" > /dev/null 2>&1 || bad "run on the second dataset failed"
expect_error "compare across datasets" "different datasets.*dataset.root" \
  "$tailor" compare "$tmp/sw" "$tmp/other_run"
expect_error "compare of an empty folder" "no finished run under" "$tailor" compare "$tmp/data"
expect_error "compare --select" "expected best" "$tailor" compare "$tmp/sw" --select worst

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
