#!/usr/bin/env bash
# methods: the batch-mix kind and multi-expert models end to end on the IDX fixture (CPU).
#  - CMO (second stream), mixup and RIDE/SADE (3 experts) train; a stage with
#    batch_mix plugin = "none" (MiSLAS stage 2) does not mix; shift_bn moves a frozen
#    backbone's BatchNorm statistics and nothing else.
#  - A CMO run stopped with SIGINT mid-epoch and resumed writes the uninterrupted run's
#    metrics.jsonl byte for byte (the second stream and the mixing draws are reproducible).
#  - Configuration errors are refused by name with the fix: a batch mix with a loss that cannot
#    take mixed targets, a multi-expert backbone with a single-expert head, an expert loss
#    with a single-expert backbone, a meta-step loss with experts, shift_bn without a frozen
#    backbone, an unknown batch-mix plugin, a loss that reads labels on the test inputs.
# usage: methods.sh <tailor binary> <source dir>
set -euo pipefail
tailor="$1"
src="$2"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tailor-methods.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
passed=0
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "PASS $*"; passed=$((passed + 1)); }

python3 "$src/tests/integration/make_idx_fixture.py" "$tmp/data"
base="$tmp/base.toml"
cat >"$base" <<EOF
[experiment]
name = "methods"
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
width = 4

[loss]
plugin = "ce"

[train]
epochs = 2
batch_size = 16
workers = 2
log_every = 0
EOF
# run NAME [--set ...]: trains the base experiment with the overrides into $tmp/NAME.
run() {
  local name=$1
  shift
  "$tailor" run "$base" --out "$tmp/$name" "$@" >"$tmp/$name.log" 2>&1 ||
    { tail -20 "$tmp/$name.log"; fail "run $name failed"; }
}
train_losses() { python3 -c '
import json, sys
print(" ".join(str(r["loss"]) for r in map(json.loads, open(sys.argv[1])) if r.get("split") == "train"))
' "$tmp/$1/metrics.jsonl"; }
# refused WHAT EXPECTED... -- ARGS: `tailor validate` must fail and print every EXPECTED.
refused() {
  local what=$1
  shift
  local expected=()
  while [[ $1 != "--" ]]; do expected+=("$1"); shift; done
  shift
  if "$tailor" validate "$base" "$@" >"$tmp/refused.log" 2>&1; then
    fail "$what was accepted"
  fi
  for e in "${expected[@]}"; do
    grep -qF -- "$e" "$tmp/refused.log" || { cat "$tmp/refused.log"; fail "$what: message lacks '$e'"; }
  done
  ok "$what refused: $(grep -m1 -oE "error.*" "$tmp/refused.log" | cut -c1-150)"
}

# -- training ----------------------------------------------------------------------------
run plain
run cmo --set batch_mix.plugin=cmo --set batch_mix.prob=1.0 --set batch_mix.start_epoch=-1 \
  --set batch_mix.end_epochs=0
[[ "$(train_losses cmo)" != "$(train_losses plain)" ]] || fail "cmo did not change the training"
grep -q "class_balanced" "$tmp/cmo/config.resolved.toml" || fail "cmo's second sampler not recorded"
ok "cmo trains with a class-balanced second stream: losses $(train_losses cmo) vs $(train_losses plain)"

# prob = 0: the mix never happens, so the run equals the plain one (the second stream is drawn
# but leaves the first untouched).
run cmo_off --set batch_mix.plugin=cmo --set batch_mix.prob=0.0
cmp -s "$tmp/plain/metrics.jsonl" "$tmp/cmo_off/metrics.jsonl" ||
  fail "cmo with prob = 0 changed metrics.jsonl"
ok "cmo with prob = 0 leaves metrics.jsonl byte-identical to the unmixed run"

run mixup --set batch_mix.plugin=mixup --set batch_mix.alpha=1.0
[[ "$(train_losses mixup)" != "$(train_losses plain)" ]] || fail "mixup did not change the training"
run mixup_again --set batch_mix.plugin=mixup --set batch_mix.alpha=1.0
cmp -s "$tmp/mixup/metrics.jsonl" "$tmp/mixup_again/metrics.jsonl" ||
  fail "two mixup runs with the same seed differ"
ok "mixup trains, and reruns byte-identically"

for method in ride sade; do
  # Cosine classifiers with s = 30 need a few more epochs than the linear head on this data.
  run "$method" --set backbone.num_experts=3 --set head.plugin=experts --set loss.plugin=$method \
    --set train.epochs=6
  python3 - "$tmp/$method" <<'PY' || fail "$method's run is not complete"
import json, math, sys
rows = [json.loads(l) for l in open(f"{sys.argv[1]}/metrics.jsonl")]
assert all(math.isfinite(r["loss"]) for r in rows if r.get("split") == "train")
test = [r for r in rows if r.get("split") == "test"]
assert test and test[-1]["top1"] > 0.5, test[-1:]
PY
  ok "$method with 3 experts trains; test top-1 $(grep -o '"top1": *[0-9.]*' "$tmp/$method/metrics.jsonl" | tail -1)"
done
# The experts' mean as an ensemble under a plain loss.
run experts_ce --set backbone.num_experts=3 --set head.plugin=experts
ok "a single-expert loss (ce) trains a 3-expert model on the aggregate logits"

# -- stages: MiSLAS's shape ---------------------------------------------------------------
cat >"$tmp/stages.toml" <<EOF
[[stage]]
name = "mixup"
epochs = 1
[stage.batch_mix]
plugin = "mixup"

[[stage]]
name = "las"
epochs = 1
freeze = ["backbone"]
shift_bn = true
[stage.sampler]
plugin = "class_aware"
[stage.loss]
plugin = "label_aware_smoothing"
EOF
cat "$base" "$tmp/stages.toml" >"$tmp/mislas.toml"
"$tailor" run "$tmp/mislas.toml" --out "$tmp/mislas" >"$tmp/mislas.log" 2>&1 ||
  { tail -20 "$tmp/mislas.log"; fail "the two-stage mixup + LAS run failed"; }
python3 - "$tmp/mislas/config.resolved.toml" <<'PY' || fail "the resolved stages are wrong"
import sys, tomllib
stages = tomllib.load(open(sys.argv[1], "rb"))["stage"]
assert stages[0]["batch_mix"]["plugin"] == "mixup", stages[0]
assert stages[1]["batch_mix"] == {"plugin": "none"}, stages[1].get("batch_mix")
assert stages[1]["shift_bn"] is True
PY
ok "MiSLAS's stages: mixup in stage 1, none in stage 2 (label_aware_smoothing), shift_bn recorded"

# -- resume mid-epoch with a second stream ---------------------------------------------------
cmo_args=(--set batch_mix.plugin=cmo --set batch_mix.prob=0.7 --set batch_mix.start_epoch=-1
  --set batch_mix.end_epochs=0 --set train.epochs=3)
run cmo_full "${cmo_args[@]}"
set +e
TAILOR_FAULT_AT="INT@2:2" "$tailor" run "$base" --out "$tmp/cmo_int" "${cmo_args[@]}" \
  >"$tmp/cmo_int.log" 2>&1
code=$?
set -e
[[ $code -eq 130 ]] || { tail "$tmp/cmo_int.log"; fail "expected exit 130 after SIGINT, got $code"; }
"$tailor" run --resume "$tmp/cmo_int" >"$tmp/cmo_resume.log" 2>&1 ||
  { tail "$tmp/cmo_resume.log"; fail "resuming the cmo run failed"; }
cmp "$tmp/cmo_full/metrics.jsonl" "$tmp/cmo_int/metrics.jsonl" ||
  fail "cmo: metrics differ after SIGINT mid-epoch + resume"
ok "cmo: SIGINT mid-epoch + resume is bit-identical"

# -- refusals ------------------------------------------------------------------------------
refused "a batch mix with a loss without mixed targets" \
  "batch mix 'cmo'" "loss 'focal' cannot take mixed targets" "kMixedTargets" \
  'plugin = "none"' -- --set batch_mix.plugin=cmo --set loss.plugin=focal
refused "a multi-expert backbone with a single-expert head" \
  "backbone 'small_cnn' has 3 experts" "head 'linear' is a single-expert head" \
  'plugin = "experts"' "num_experts = 1" -- --set backbone.num_experts=3
refused "an expert loss with a single-expert backbone" \
  "loss 'ride' trains several experts" "backbone 'small_cnn' has one" "num_experts" \
  -- --set loss.plugin=ride --set head.plugin=experts
refused "a meta-step loss with a multi-expert model" \
  "loss 'difficulty_net'" "multi-expert model" -- \
  --set backbone.num_experts=3 --set head.plugin=experts --set loss.plugin=difficulty_net
# SADE's three losses need exactly three experts; the loss says so at the first step.
if "$tailor" run "$base" --out "$tmp/sade2" --set backbone.num_experts=2 --set head.plugin=experts \
  --set loss.plugin=sade >"$tmp/refused.log" 2>&1; then
  fail "sade with 2 experts trained"
fi
grep -q "sade" "$tmp/refused.log" && grep -q "num_experts = 3" "$tmp/refused.log" ||
  { tail "$tmp/refused.log"; fail "the sade refusal does not name num_experts = 3"; }
[[ ! -f "$tmp/sade2/summary.json" ]] || fail "a failed run wrote summary.json"
ok "sade with 2 experts refused at its first step, without a summary"
refused "an unknown batch-mix plugin" "cutmixx" -- --set batch_mix.plugin=cutmixx

cat "$base" >"$tmp/shift.toml"
cat >>"$tmp/shift.toml" <<'EOF'
[[stage]]
epochs = 1
shift_bn = true
EOF
if "$tailor" validate "$tmp/shift.toml" >"$tmp/refused.log" 2>&1; then fail "shift_bn without freeze accepted"; fi
grep -q 'shift_bn = true' "$tmp/refused.log" && grep -q 'freeze = \["backbone"\]' "$tmp/refused.log" ||
  { cat "$tmp/refused.log"; fail "the shift_bn refusal does not name the fix"; }
ok "shift_bn without a frozen backbone refused"

cat "$base" >"$tmp/tta.toml"
cat >>"$tmp/tta.toml" <<'EOF'
[[stage]]
epochs = 1
inputs = "test"
views = 2
EOF
if "$tailor" validate "$tmp/tta.toml" >"$tmp/refused.log" 2>&1; then fail "a labelled loss on test inputs accepted"; fi
grep -q "unlabeled test inputs" "$tmp/refused.log" && grep -q "loss 'ce' reads labels" "$tmp/refused.log" &&
  grep -q "kUnlabeled" "$tmp/refused.log" || { cat "$tmp/refused.log"; fail "the test-inputs refusal is unclear"; }
ok "a stage on the test inputs with a loss that reads labels refused"

echo "$passed passed, 0 failed"
