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

# -- paired differences to a baseline row ------------------------------------------------------
if "$tailor" compare "$tmp/sw" --baseline loss.label_smoothing=0 --bootstrap 500 \
     --csv "$tmp/p.csv" --html "$tmp/p.html" > "$tmp/p.out" 2> "$tmp/p.err"; then
  grep -q "^| loss.label_smoothing=0 | 2 | .* | baseline |$" "$tmp/p.out" &&
    ok "compare --baseline marks the baseline row" || bad "baseline row: $(cat "$tmp/p.out")"
  grep -q "^| loss.label_smoothing=0.1 | 2 | [-+]" "$tmp/p.out" &&
    ok "compare --baseline: paired table over 2 seed pairs" || bad "paired table: $(cat "$tmp/p.out")"
  /usr/bin/python3 - "$tmp/p.csv" "$tmp/sw" <<'PY' && ok "paired difference is the mean of per-seed differences" || bad "paired difference"
import csv, json, sys
rows = {r["configuration"]: r for r in csv.DictReader(open(sys.argv[1]))}
diffs = []
for seed in (3, 4):
    t = [json.load(open(f"{sys.argv[2]}/tiny/loss.label_smoothing={ls}/seed{seed}/summary.json"))
         ["best_on_val"]["test"]["top1"] for ls in ("0.1", "0")]
    diffs.append(t[0] - t[1])
r = rows["loss.label_smoothing=0.1"]
assert abs(float(r["d_top1"]) - sum(diffs) / 2) < 1e-5, (r["d_top1"], diffs)
assert float(r["d_top1_low"]) <= float(r["d_top1"]) <= float(r["d_top1_high"]), r
assert 0 < float(r["p_holm_top1"]) <= 1, r
assert rows["loss.label_smoothing=0"]["d_top1"] == "", "the baseline has no difference"
PY
  grep -q "Per-class recall differences to loss.label_smoothing=0" "$tmp/p.html" &&
    ok "compare --html shows per-class differences" || bad "compare --html per-class differences"
else
  cat "$tmp/p.err"
  bad "compare --baseline failed"
fi

# -- long-tail subsamples as a second seed axis ----------------------------------------------
if "$tailor" sweep "$exp" "${root[@]}" --seeds 2 --data-seeds 2 --jobs 2 --max-epochs 1 \
     --out "$tmp/ds" > "$tmp/ds.log" 2>&1; then
  n=$(find "$tmp/ds" -name summary.json | wc -l)
  [[ "$n" == 4 && -f "$tmp/ds/tiny/data_seed1/seed4/summary.json" ]] &&
    ok "--data-seeds 2 x --seeds 2: four runs in data_seed<D>/seed<S>" || bad "data seeds layout: $(find "$tmp/ds" -name summary.json)"
  grep -q "^seed = 1$" "$tmp/ds/tiny/data_seed1/seed3/config.resolved.toml" &&
    ok "dataset.seed set by --data-seeds" || bad "dataset.seed not set"
  a="$tmp/ds/tiny/data_seed0/seed3/idx_lt_selection.csv"
  b="$tmp/ds/tiny/data_seed1/seed3/idx_lt_selection.csv"
  [[ -s "$a" && -s "$b" ]] && ! cmp -s "$a" "$b" && ok "the two subsamples differ" ||
    bad "the subsamples of dataset.seed 0 and 1 are the same (or missing)"
  "$tailor" compare "$tmp/ds" > "$tmp/ds.out" 2>&1
  grep -q "^| tiny | 4 |" "$tmp/ds.out" && grep -q "Where the spread of top-1 comes from" "$tmp/ds.out" &&
    ok "compare: subsamples and seeds are one row of 4, with the spread by source" ||
    bad "compare of data seeds: $(cat "$tmp/ds.out")"
else
  tail -5 "$tmp/ds.log"
  bad "--data-seeds sweep failed"
fi
# A dataset whose long tail is a fixed list has no subsample to vary.
mkdir -p "$tmp/lists/img"
for i in 0 1; do : > "$tmp/lists/img/$i.jpg"; done
printf 'img/0.jpg 0\nimg/1.jpg 1\n' > "$tmp/lists/train.txt"
cat > "$tmp/lists/exp.toml" <<TOML
[experiment]
name = "fixed_list"
[dataset]
plugin = "image_list"
root = "$tmp/lists"
train_list = "train.txt"
image_size = 8
[backbone]
plugin = "small_cnn"
[loss]
plugin = "ce"
TOML
"$tailor" sweep "$tmp/lists/exp.toml" --data-seeds 2 --out "$tmp/bad_ds" > "$tmp/err.log" 2>&1
[[ $? -ne 0 ]] && grep -q "dataset plugin 'image_list' .* has no \`seed\` option" "$tmp/err.log" &&
  ok "--data-seeds refused for a dataset without a seed option" || bad "--data-seeds refusal: $(tail -3 "$tmp/err.log")"
[[ ! -e "$tmp/bad_ds" ]] && ok "no sweep directory after the refusal" || bad "refused sweep left $tmp/bad_ds"

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
expect_error "grid over data seeds" "use --data-seeds" \
  "$tailor" sweep "$exp" "${root[@]}" --grid dataset.seed=1,2 --out "$tmp/bad5"
expect_error "compare --baseline unknown" "no row has that experiment name or label" \
  "$tailor" compare "$tmp/sw" --baseline nothing
"$tailor" run "$exp" --set "dataset.root=$tmp/other" --set train.max_steps_per_epoch=2 \
  --out "$tmp/other_run" > /dev/null 2>&1 || bad "run on the second dataset failed"
expect_error "compare across datasets" "different datasets.*dataset.root" \
  "$tailor" compare "$tmp/sw" "$tmp/other_run"
expect_error "compare of an empty folder" "no finished run under" "$tailor" compare "$tmp/data"
expect_error "compare --select" "expected best" "$tailor" compare "$tmp/sw" --select worst

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
