#!/usr/bin/env bash
# Difficulty-Net's meta-gradient end to end, over 3 epochs (the first sees all-zero
# accuracies, so φ gets no meta-gradient there in any mode):
#  - default (bilevel) mode: the meta loss reaches φ, so runs that differ only in the meta
#    batch size learn different class weights once accuracies are measured;
#  - official mode (detach_weights_in_virtual_step = true): the meta loss's gradient to φ is
#    exactly zero, so the same two runs are identical file for file;
#  - [meta] bn = "train" (official, scope head) lets the meta batch move BatchNorm's running
#    statistics, "eval" does not; bn = "eval" with scope "full" is refused.
# usage: meta_gradient.sh <tailor binary> <source dir>
set -uo pipefail
tailor="$1"
src="$2"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tailor-meta.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
ok() { echo "PASS $*"; passed=$((passed + 1)); }
bad() { echo "FAIL $*" >&2; failed=$((failed + 1)); }

python3 "$src/tests/integration/make_idx_fixture.py" "$tmp/data" || exit 1
cat > "$tmp/dn.toml" <<EOF
[experiment]
name = "meta"
seed = 5
threads = 1

[dataset]
plugin = "idx_lt"
root = "$tmp/data"
class_names = []
imbalance_ratio = 5.0
val_per_class = 4
augment = "none"

[backbone]
plugin = "small_cnn"
width = 8

[loss]
plugin = "difficulty_net"
hidden = 16
lr = 1e-2

[meta]
scope = "full"

[train]
batch_size = 16
workers = 1
log_every = 0

[optimizer]
lr = 0.1

[[stage]]
name = "dn"
epochs = 3
EOF

run() {  # run NAME ARGS...
  local name="$1"
  shift
  "$tailor" run "$tmp/dn.toml" --out "$tmp/$name" "$@" > "$tmp/$name.log" 2>&1 ||
    { tail -5 "$tmp/$name.log" >&2; bad "$name: tailor run failed"; }
}
# The "weights" vector class_vectors.jsonl holds after epoch N.
weights() { python3 -c 'import json,sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["epoch"] == int(sys.argv[2]): print(r["vectors"]["weights"])' "$tmp/$1/class_vectors.jsonl" "$2"; }

run bilevel_20 --set meta.batch_size=20
run bilevel_40 --set meta.batch_size=40
[[ "$(weights bilevel_20 1)" == "$(weights bilevel_40 1)" && -n "$(weights bilevel_20 1)" ]] &&
  ok "epoch 1 (accuracies all zero): no meta-gradient, the same weights" ||
  bad "epoch 1 weights differ with the meta batch size or are missing"
[[ "$(weights bilevel_20 3)" != "$(weights bilevel_40 3)" ]] &&
  ok "default mode: the meta batch changes the learned weights by epoch 3 (non-zero meta-gradient)" ||
  bad "default mode: the weights do not depend on the meta batch: the meta-gradient is zero"

run official_20 --set meta.batch_size=20 --set loss.detach_weights_in_virtual_step=true
run official_40 --set meta.batch_size=40 --set loss.detach_weights_in_virtual_step=true
cmp -s "$tmp/official_20/class_vectors.jsonl" "$tmp/official_40/class_vectors.jsonl" &&
  cmp -s "$tmp/official_20/metrics.jsonl" "$tmp/official_40/metrics.jsonl" &&
  ok "official mode: the meta loss has zero gradient, runs do not depend on the meta batch" ||
  bad "official mode: the meta batch changed the run"
[[ "$(weights official_20 3)" != "$(weights bilevel_20 3)" ]] &&
  ok "official and default modes learn different weights" || bad "official == default mode"

run head_train --set meta.scope=head --set loss.detach_weights_in_virtual_step=true
run head_eval --set meta.scope=head --set meta.bn=eval --set loss.detach_weights_in_virtual_step=true
# With detached weights nothing but the meta batch's BatchNorm can tell the two apart.
cmp -s "$tmp/head_train/metrics.jsonl" "$tmp/head_eval/metrics.jsonl" &&
  bad "bn = train and bn = eval gave the same run" ||
  ok "bn = train moves the running statistics (a different run), bn = eval does not"
run head_eval_b --set meta.scope=head --set meta.bn=eval --set meta.batch_size=40 \
  --set loss.detach_weights_in_virtual_step=true
cmp -s "$tmp/head_eval/metrics.jsonl" "$tmp/head_eval_b/metrics.jsonl" &&
  ok "bn = eval: the meta batch touches nothing the run keeps" ||
  bad "bn = eval: the meta batch changed the run"

if "$tailor" run "$tmp/dn.toml" --out "$tmp/refused" --set meta.bn=eval > "$tmp/refused.log" 2>&1; then
  bad "bn = eval with scope full was accepted"
elif grep -q 'bn = "eval" applies to scope = "head" only' "$tmp/refused.log"; then
  ok "bn = eval with scope full is refused with the fix"
else
  tail -3 "$tmp/refused.log" >&2
  bad "bn = eval with scope full: wrong message"
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
