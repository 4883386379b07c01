#!/usr/bin/env bash
# What a run writes for people to look at, on a real run of the tiny fixture: report.html
# (and `tailor report`), the predictions files, class_vectors.jsonl, TensorBoard event files
# read back by an independent Python reader, and headless Chromium screenshots of a run
# report and a comparison report that are not blank. Bad input to `tailor report` and
# [report] fails clearly.
# usage: report.sh <tailor binary> <source dir>
set -uo pipefail
tailor="$1"
src="$2"
py=/usr/bin/python3  # Debian's, with python3-protobuf and python3-crc32c
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tailor-report.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
ok() { echo "PASS $*"; passed=$((passed + 1)); }
bad() { echo "FAIL $*" >&2; failed=$((failed + 1)); }

"$py" "$src/tests/integration/make_idx_fixture.py" "$tmp/data" || exit 1
exp="$src/tests/integration/tiny.toml"
common=(--set "dataset.root=$tmp/data" --set experiment.threads=2)

# -- a run with every report output --------------------------------------------------------
if "$tailor" run "$exp" "${common[@]}" --set loss.plugin=class_balanced \
     --set report.tensorboard=true --set report.tensorboard_step_every=1 \
     --out "$tmp/run" > "$tmp/run.log" 2>&1; then
  ok "run with [report] tensorboard"
else
  tail -5 "$tmp/run.log"
  bad "run failed"
fi
run="$tmp/run"
[[ -s "$run/report.html" ]] && ok "report.html written at the end of the run" || bad "no report.html"
grep -q "report $run/report.html" "$run/log.txt" && ok "the log names the report" || bad "log: $(tail -2 "$run/log.txt")"
svgs=$(grep -o "<svg class=\"chart" "$run/report.html" | wc -l)
# 5 curve charts, per-class recall, reliability (all + the 2 non-empty groups), confusion
# heat map, the class-balanced weights.
[[ "$svgs" -eq 11 ]] && ok "report.html holds $svgs charts" || bad "report.html holds $svgs charts"
grep -q -e "http" -e "<script" "$run/report.html" && bad "report.html refers to something external" ||
  ok "report.html is self-contained"

# 100 test samples: a 32-byte header and 16 bytes per sample.
for which in last best; do
  size=$(stat -c %s "$run/predictions_test_$which.bin" 2>/dev/null || echo 0)
  [[ "$size" == 1632 ]] && ok "predictions_test_$which.bin: 1632 bytes" ||
    bad "predictions_test_$which.bin: $size bytes, expected 1632"
done
"$py" - "$run" <<'PY' && ok "predictions agree with the summary's top-1" || bad "predictions disagree with summary.json"
import json, struct, sys
run = sys.argv[1]
s = json.load(open(f"{run}/summary.json"))
for which, key in (("last", "last_epoch"), ("best", "best_on_val")):
    data = open(f"{run}/predictions_test_{which}.bin", "rb").read()
    assert data[:4] == b"TLPR"
    n, classes, epoch = struct.unpack("<QII", data[16:32])
    correct = sum(1 for i in range(n)
                  if struct.unpack("<ii", data[32 + 16 * i:40 + 16 * i])[0] ==
                  struct.unpack("<ii", data[32 + 16 * i:40 + 16 * i])[1])
    assert abs(correct / n - s[key]["test"]["top1"]) < 1e-12, (which, correct, n)
    if which == "best":
        assert epoch == s["best_on_val"]["epoch"], (epoch, s["best_on_val"])
PY
lines=$(wc -l < "$run/class_vectors.jsonl" 2>/dev/null || echo 0)
[[ "$lines" == 4 ]] && ok "class_vectors.jsonl: one line per epoch" || bad "class_vectors.jsonl has $lines lines"
grep -q '"vectors":{"weights":\[' "$run/class_vectors.jsonl" && ok "class_balanced reports its weights" ||
  bad "class_vectors.jsonl: $(head -c 200 "$run/class_vectors.jsonl")"

# -- TensorBoard, read back independently ----------------------------------------------------
steps=$("$py" -c '
import json, math, sys
print(sum(math.ceil(json.loads(l)["samples"] / 16) for l in open(sys.argv[1]) if "\"train\"" in l))
' "$run/metrics.jsonl")
if "$py" "$src/tests/integration/read_events.py" "$run" "$src" "$steps" > "$tmp/events.log" 2>&1; then
  ok "event file decoded: $(cat "$tmp/events.log")"
else
  cat "$tmp/events.log"
  bad "event file"
fi

# -- tailor report ----------------------------------------------------------------------------
cp "$run/report.html" "$tmp/first.html"
rm "$run/report.html"
if "$tailor" report "$run" > "$tmp/report.out" 2>&1 && cmp -s "$run/report.html" "$tmp/first.html"; then
  ok "tailor report rewrites the same report.html"
else
  bad "tailor report: $(tail -2 "$tmp/report.out")"
fi
"$tailor" report "$tmp/data" > "$tmp/err.log" 2>&1
[[ $? -ne 0 ]] && grep -q "not a run directory with results (no metrics.jsonl)" "$tmp/err.log" &&
  ok "tailor report of a non-run directory fails clearly" || bad "tailor report non-run: $(cat "$tmp/err.log")"
"$tailor" run "$exp" "${common[@]}" --set report.tensorboard=maybe --out "$tmp/bad" > "$tmp/err.log" 2>&1
[[ $? -ne 0 ]] && grep -q "report.tensorboard" "$tmp/err.log" &&
  ok "a bad [report] value names its key" || bad "bad [report] value: $(tail -2 "$tmp/err.log")"
# The first run again without any report output: [report] never changes training.
"$tailor" run "$exp" "${common[@]}" --set loss.plugin=class_balanced --set report.html=false \
  --out "$tmp/nohtml" > /dev/null 2>&1
[[ -f "$tmp/nohtml/summary.json" && ! -e "$tmp/nohtml/report.html" && -z "$(ls "$tmp/nohtml" | grep tfevents)" ]] &&
  ok "report.html = false and no tensorboard: neither written" || bad "report.html = false: $(ls "$tmp/nohtml")"
cmp -s "$run/metrics.jsonl" "$tmp/nohtml/metrics.jsonl" &&
  ok "metrics.jsonl is byte-identical with and without [report] outputs" ||
  bad "[report] changed metrics.jsonl: $(diff "$run/metrics.jsonl" "$tmp/nohtml/metrics.jsonl" | head -3)"

# -- a comparison report ----------------------------------------------------------------------
"$tailor" run "$exp" "${common[@]}" --set experiment.seed=4 --set loss.plugin=class_balanced \
  --out "$tmp/run2" > /dev/null 2>&1 || bad "second run failed"
if "$tailor" compare "$run" "$tmp/run2" "$tmp/nohtml" --html "$tmp/compare.html" > "$tmp/cmp.out" 2>&1; then
  grep -q "class=\"errorbar\"" "$tmp/compare.html" && ok "compare --html draws intervals" ||
    bad "compare.html has no interval"
  # The three runs differ in experiment.seed and [report] only: one row of n = 3.
  [[ $(grep -c "^| tiny" "$tmp/cmp.out") == 1 ]] && grep -q "^| tiny | 3 |" "$tmp/cmp.out" &&
    ok "compare groups runs across [report] settings" || bad "compare rows: $(cat "$tmp/cmp.out")"
else
  cat "$tmp/cmp.out"
  bad "compare --html failed"
fi

# -- what a browser shows ---------------------------------------------------------------------
if command -v chromium > /dev/null; then
  for page in "$run/report.html" "$tmp/compare.html"; do
    shot="$tmp/$(basename "$page" .html).png"
    timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
      --user-data-dir="$tmp/chromium" --window-size=1100,1400 --screenshot="$shot" \
      "file://$page" > "$tmp/chromium.log" 2>&1
    if [[ -s "$shot" ]] && "$py" "$src/tests/integration/png_stats.py" "$shot" 0.03 16 > "$tmp/png.log" 2>&1; then
      ok "Chromium screenshot of $(basename "$page") is not blank: $(cat "$tmp/png.log")"
    else
      cat "$tmp/png.log" "$tmp/chromium.log" | tail -5
      bad "Chromium screenshot of $(basename "$page")"
    fi
  done
else
  echo "SKIP Chromium screenshots: chromium is not installed (scripts/install-deps.sh installs it)"
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
