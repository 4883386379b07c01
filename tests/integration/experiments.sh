#!/usr/bin/env bash
# Every experiment in experiments/fashion_mnist_lt/ trains on the real Fashion-MNIST-LT
# (Debian's dataset-fashion-mnist) for two short epochs per stage and learns something: the
# training loss falls from epoch 1 to epoch 2 and test top-1 beats a constant prediction
# (0.1). A smoke test of each method's file, not a benchmark.
# usage: experiments.sh <tailor binary> <source dir> [steps per epoch]
set -uo pipefail
tailor="$1"
src="$2"
steps="${3:-20}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tailor-exp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
if [[ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]]; then
  echo "dataset-fashion-mnist is not installed (make deps installs it)" >&2
  exit 1
fi
passed=0
failed=0
for exp in "$src"/experiments/fashion_mnist_lt/*.toml; do
  name="$(basename "$exp" .toml)"
  out="$tmp/$name"
  if ! "$tailor" run "$exp" --max-epochs 2 --set "train.max_steps_per_epoch=$steps" \
       --set experiment.threads=1 --set train.workers=1 --out "$out" > "$tmp/$name.log" 2>&1; then
    echo "FAIL $name: run failed" >&2
    tail -5 "$tmp/$name.log" >&2
    failed=$((failed + 1))
    continue
  fi
  if verdict=$(python3 - "$out" <<'PY'
import json, math, sys
out = sys.argv[1]
top1 = json.load(open(out + "/summary.json"))["last_epoch"]["test"]["top1"]
train = [json.loads(l) for l in open(out + "/metrics.jsonl") if '"split":"train"' in l]
l1, l2 = train[0]["loss"], train[1]["loss"]
ok = math.isfinite(l1) and math.isfinite(l2) and l2 < l1 and top1 > 0.1
print(f"train loss {l1:.3f} -> {l2:.3f}, test top-1 {top1:.4f}")
sys.exit(0 if ok else 1)
PY
  ); then
    echo "PASS $name: $verdict"
    passed=$((passed + 1))
  else
    echo "FAIL $name: $verdict (expected a falling loss and top-1 above 0.1)" >&2
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[[ $failed -eq 0 && $passed -gt 0 ]]
