#!/usr/bin/env bash
# A run killed with SIGKILL mid-epoch, or stopped with SIGINT, and then resumed, writes
# the same metrics.jsonl, byte for byte, as an uninterrupted run (CPU).
# usage: resume.sh <tailor binary> <source dir>
set -euo pipefail
tailor="$1"
src="$2"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tailor-resume.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

python3 "$src/tests/integration/make_idx_fixture.py" "$tmp/data"
exp="$src/tests/integration/tiny.toml"
set_root=(--set "dataset.root=$tmp/data")

"$tailor" run "$exp" "${set_root[@]}" --out "$tmp/full" > "$tmp/full.log" 2>&1 ||
  { cat "$tmp/full.log"; fail "uninterrupted run failed"; }
echo "PASS uninterrupted run"

# SIGKILL in epoch 2 (stage 1): resumes from the end-of-epoch-1 checkpoint.
set +e
TAILOR_FAULT_AT="KILL@2:3" "$tailor" run "$exp" "${set_root[@]}" --out "$tmp/killed" > "$tmp/killed.log" 2>&1
code=$?
set -e
[[ $code -eq 137 ]] || { cat "$tmp/killed.log"; fail "expected exit 137 after SIGKILL, got $code"; }
[[ ! -f "$tmp/killed/summary.json" ]] || fail "a killed run must not have a summary"
"$tailor" run --resume "$tmp/killed" > "$tmp/killed-resume.log" 2>&1 ||
  { cat "$tmp/killed-resume.log"; fail "resume after SIGKILL failed"; }
cmp "$tmp/full/metrics.jsonl" "$tmp/killed/metrics.jsonl" ||
  { diff "$tmp/full/metrics.jsonl" "$tmp/killed/metrics.jsonl" | head -5; fail "metrics differ after SIGKILL + resume"; }
cmp "$tmp/full/per_class.csv" "$tmp/killed/per_class.csv" || fail "per_class.csv differs after SIGKILL + resume"
echo "PASS SIGKILL mid-epoch + resume is bit-identical"

# SIGINT in epoch 3 (stage 2, cRT): a mid-epoch checkpoint, exit 130, resume mid-epoch.
set +e
TAILOR_FAULT_AT="INT@3:2" "$tailor" run "$exp" "${set_root[@]}" --out "$tmp/interrupted" > "$tmp/int.log" 2>&1
code=$?
set -e
[[ $code -eq 130 ]] || { cat "$tmp/int.log"; fail "expected exit 130 after SIGINT, got $code"; }
grep -q "Resume with: tailor run --resume" "$tmp/int.log" || fail "SIGINT message lacks the resume hint"
"$tailor" run --resume "$tmp/interrupted" > "$tmp/int-resume.log" 2>&1 ||
  { cat "$tmp/int-resume.log"; fail "resume after SIGINT failed"; }
cmp "$tmp/full/metrics.jsonl" "$tmp/interrupted/metrics.jsonl" ||
  { diff "$tmp/full/metrics.jsonl" "$tmp/interrupted/metrics.jsonl" | head -5; fail "metrics differ after SIGINT + resume"; }
echo "PASS SIGINT mid-epoch checkpoint + resume is bit-identical"

# Resuming with a different experiment is refused.
if "$tailor" run "$exp" "${set_root[@]}" --set optimizer.lr=0.01 --resume "$tmp/full" > "$tmp/other.log" 2>&1; then
  fail "resume with a different experiment was accepted"
fi
grep -q "made by a different experiment" "$tmp/other.log" || { cat "$tmp/other.log"; fail "unclear message"; }
echo "PASS resume with a different experiment is refused"
echo "4 passed, 0 failed"
