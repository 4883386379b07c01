#!/usr/bin/env bash
# Behaviour check for refactors: trains a fixed list of experiments with two tailor binaries
# (a reference build, e.g. of main, and the build under test) and requires every run's
# metrics.jsonl to be byte-identical. CPU only; each run is short (2 epochs per stage,
# 30 steps per epoch) but goes through every code path of its method: the quickstart,
# one experiment per loss plugin, and each stage kind (cRT, tau-norm, LWS, DRW, post-hoc).
#
# usage: tests/regression/metrics_identical.sh REFERENCE_TAILOR CANDIDATE_TAILOR [FILE...]
#   e.g. git worktree add /tmp/ref main && make -C /tmp/ref build &&
#        tests/regression/metrics_identical.sh /tmp/ref/build/host/tailor build/host/tailor
set -uo pipefail
ref="$1"
cand="$2"
shift 2
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ $# -gt 0 ]]; then
  files=("$@")
else
  files=("$src/experiments/quickstart.toml")
  for name in balanced_softmax cb_focal cb_softmax cdb_dynamic ce crt difficulty_net dro_lt \
              focal ldam_drw logit_adjustment logit_adjustment_posthoc lws tau_norm; do
    files+=("$src/experiments/fashion_mnist_lt/$name.toml")
  done
fi
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tailor-identical.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
failed=0
for file in "${files[@]}"; do
  name="$(basename "$file" .toml)"
  for side in ref cand; do
    bin="$ref"
    [[ $side == cand ]] && bin="$cand"
    if ! "$bin" run "$file" --out "$tmp/$side/$name" --max-epochs 2 \
         --set train.max_steps_per_epoch=30 --set experiment.threads=2 \
         > "$tmp/$side-$name.log" 2>&1; then
      echo "FAIL $name: the $side binary failed:" >&2
      tail -5 "$tmp/$side-$name.log" >&2
      failed=1
      continue 2
    fi
  done
  if cmp -s "$tmp/ref/$name/metrics.jsonl" "$tmp/cand/$name/metrics.jsonl"; then
    echo "PASS $name: metrics.jsonl identical ($(wc -l < "$tmp/cand/$name/metrics.jsonl") lines)"
  else
    echo "FAIL $name: metrics.jsonl differs"
    diff <(tr ',' '\n' < "$tmp/ref/$name/metrics.jsonl") \
         <(tr ',' '\n' < "$tmp/cand/$name/metrics.jsonl") | head -6
    failed=1
  fi
done
exit $failed
