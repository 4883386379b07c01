#!/usr/bin/env bash
# The results workflow in small: `tailor sweep` over every experiment in
# experiments/fashion_mnist_lt/ on the real Fashion-MNIST-LT (Debian's dataset-fashion-mnist),
# each file as it is (rho = 100), one seed, two full epochs per stage, then `tailor compare`.
# Checks that the table has one row per method and that every method learned: its training
# loss fell from epoch 1 to 2 and its test top-1 is at least three times chance (0.3 against
# 0.1). A smoke test of each method's file, not a benchmark: docs/results.md has the
# full-length table.
# usage: experiments.sh <tailor binary> <source dir> [steps per epoch, 0 = all]
set -uo pipefail
tailor="$1"
src="$2"
steps="${3:-0}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tailor-exp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
if [[ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]]; then
  echo "dataset-fashion-mnist is not installed (make deps installs it)" >&2
  exit 1
fi
experiments=("$src"/experiments/fashion_mnist_lt/*.toml)
if ! "$tailor" sweep "${experiments[@]}" --seeds 1 --max-epochs 2 --jobs 2 \
     --set "train.max_steps_per_epoch=$steps" --set train.workers=1 --out "$tmp/sweep" \
     > "$tmp/sweep.log" 2>&1; then
  tail -20 "$tmp/sweep.log" >&2
  for log in "$tmp"/sweep/logs/*.log; do
    grep -q "error" "$log" && { echo "--- $log" >&2; tail -5 "$log" >&2; }
  done
  echo "FAIL the sweep did not finish" >&2
  exit 1
fi
if ! "$tailor" compare "$tmp/sweep" --select last --csv "$tmp/table.csv" > "$tmp/table.md" 2> "$tmp/compare.log"; then
  cat "$tmp/compare.log" >&2
  echo "FAIL compare" >&2
  exit 1
fi
cat "$tmp/table.md"
python3 - "$tmp/sweep" "$tmp/table.csv" "${#experiments[@]}" <<'PY'
import csv, json, math, sys
sweep, table, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = list(csv.DictReader(open(table)))
failed = 0
if len(rows) != expected:
    print(f"FAIL the table has {len(rows)} rows, expected one per experiment ({expected})")
    failed += 1
for run in json.load(open(sweep + "/sweep.json"))["runs"]:
    out = sweep + "/" + run["id"]
    s = json.load(open(out + "/summary.json"))
    top1 = s["last_epoch"]["test"]["top1"]
    train = [json.loads(l) for l in open(out + "/metrics.jsonl") if '"split":"train"' in l]
    l1, l2 = train[0]["loss"], train[1]["loss"]
    ok = math.isfinite(l1) and math.isfinite(l2) and l2 < l1 and top1 > 0.3
    verdict = f"{s['experiment']}: train loss {l1:.3f} -> {l2:.3f}, test top-1 {top1:.4f}"
    print(("PASS " if ok else "FAIL ") + verdict + ("" if ok else " (expected a falling loss and top-1 > 0.3)"))
    failed += not ok
sys.exit(1 if failed else 0)
PY
