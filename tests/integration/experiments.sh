#!/usr/bin/env bash
# Every experiment in experiments/fashion_mnist_lt/ trains on the real Fashion-MNIST-LT
# (Debian's dataset-fashion-mnist) for two short epochs per stage and learns something:
# test top-1 at least twice chance. A smoke test of each method's file, not a benchmark.
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
  top1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["last_epoch"]["test"]["top1"])' "$out/summary.json")
  if python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 0.2 else 1)' "$top1"; then
    echo "PASS $name: test top-1 $top1"
    passed=$((passed + 1))
  else
    echo "FAIL $name: test top-1 $top1 is not above twice chance (0.2)" >&2
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[[ $failed -eq 0 && $passed -gt 0 ]]
