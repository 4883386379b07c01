#!/usr/bin/env bash
# Runs that would go wrong quietly are stopped with one clear message: a batch larger than
# the train split, an experiment name that leaves output_dir, a loss that returns a detached
# or integer tensor, a plugin any user could replace, a loss that explodes without becoming
# NaN (divergence_factor), and numbers out of range for an int key.
# usage: guards.sh <tailor binary> <source dir> <directory of the good_loss fixture plugin>
set -uo pipefail
tailor="$(realpath "$1")"
src="$2"
fixtures="$(realpath "$3")"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tailor-guards.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
ok() { echo "PASS $*"; passed=$((passed + 1)); }
bad() { echo "FAIL $*" >&2; failed=$((failed + 1)); }

python3 "$src/tests/integration/make_idx_fixture.py" "$tmp/data" || exit 1
exp="$src/tests/integration/tiny.toml"
root=(--set "dataset.root=$tmp/data")
# The fixture loss, from a directory only its owner can write.
mkdir -p "$tmp/plugins" && chmod 755 "$tmp/plugins"
cp "$fixtures/good_loss.so" "$tmp/plugins/" && chmod 644 "$tmp/plugins/good_loss.so"
fixture=(--set "plugins.paths=[\"$tmp/plugins\"]" --set loss.plugin=good_loss)

# expect_error NAME PATTERN ARGS...: non-zero exit, PATTERN in the output, no stack trace.
expect_error() {
  local name="$1" pattern="$2"
  shift 2
  if "$tailor" "$@" > "$tmp/$name.log" 2>&1; then
    bad "$name: accepted"
  elif ! grep -q -- "$pattern" "$tmp/$name.log"; then
    bad "$name: message lacks '$pattern': $(tail -2 "$tmp/$name.log")"
  elif grep -q "frame #\|Exception raised from" "$tmp/$name.log"; then
    bad "$name: the message carries a stack trace"
  else
    ok "$name"
  fi
}

expect_error batch_larger_than_dataset \
  "\[train\] batch_size = 100000 is larger than the train split of dataset 'idx_lt' (128 samples)" \
  validate "$exp" "${root[@]}" --set train.batch_size=100000
expect_error stage_batch_larger_than_dataset "stage 'crt': \[train\] batch_size = 500" \
  run "$exp" "${root[@]}" --set 'stage[1].train.batch_size=500' --out "$tmp/stage_batch"
[[ ! -e "$tmp/stage_batch/checkpoints" ]] && ok "a refused batch size trains nothing" ||
  bad "a refused batch size left a run directory"

mkdir -p "$tmp/work" && cd "$tmp/work"
expect_error name_with_separator "cannot name a run directory: it contains a path separator" \
  run "$exp" "${root[@]}" --set 'experiment.name="../../escaped"' --set experiment.output_dir=runs
expect_error name_dotdot "cannot name a run directory" \
  run "$exp" "${root[@]}" --set 'experiment.name=".."' --set experiment.output_dir=runs
[[ -z "$(find "$tmp" -maxdepth 2 -name escaped)" && ! -e "$tmp/work/runs" ]] &&
  ok "nothing was written outside output_dir" || bad "a directory was created: $(find "$tmp" -name escaped)"
cd "$tmp"

expect_error loss_detached "loss plugin 'good_loss' ($tmp/plugins/good_loss.so): forward returned a tensor detached from the logits" \
  run "$exp" "${root[@]}" "${fixture[@]}" --set loss.output=detached --out "$tmp/detached"
expect_error loss_integer "loss plugin 'good_loss' ($tmp/plugins/good_loss.so): forward returned a Long tensor" \
  run "$exp" "${root[@]}" "${fixture[@]}" --set loss.output=integer --out "$tmp/integer"

chmod o+w "$tmp/plugins"
expect_error writable_plugin_dir "its directory $tmp/plugins is writable by every user (mode 0757)" \
  validate "$exp" "${root[@]}" "${fixture[@]}"
chmod o-w "$tmp/plugins" && chmod o+w "$tmp/plugins/good_loss.so"
expect_error writable_plugin_file "the file is writable by every user (mode 0646)" \
  validate "$exp" "${root[@]}" "${fixture[@]}"
TAILOR_ALLOW_WRITABLE_PLUGINS=1 "$tailor" validate "$exp" "${root[@]}" "${fixture[@]}" > /dev/null 2>&1 &&
  ok "TAILOR_ALLOW_WRITABLE_PLUGINS=1 loads it anyway" || bad "the override does not work"
chmod o-w "$tmp/plugins/good_loss.so"

# A loss that grows 1e10-fold per epoch stays finite: only the guard stops it.
expect_error divergence "training diverged: loss 'good_loss' at stage 'features' epoch 2 is" \
  run "$exp" "${root[@]}" "${fixture[@]}" --set loss.output=growing --set train.divergence_factor=100 \
  --out "$tmp/diverged"
[[ "$(grep -c '"split":"train"' "$tmp/diverged/metrics.jsonl")" == 1 ]] &&
  ok "the diverged epoch left no metrics" || bad "metrics of the diverged epoch were written"
if "$tailor" run "$exp" "${root[@]}" "${fixture[@]}" --set loss.output=growing --max-epochs 2 \
     --out "$tmp/unguarded" > "$tmp/unguarded.log" 2>&1; then
  ok "without divergence_factor the same run finishes (the guard is off by default)"
else
  bad "the unguarded run failed: $(tail -1 "$tmp/unguarded.log")"
fi

expect_error epochs_float_out_of_range "got float 1e+20, which is also out of range for an int" \
  validate "$exp" "${root[@]}" --set train.epochs=1e20
expect_error epochs_int_out_of_range "100000000000000000000 is not a valid TOML number" \
  validate "$exp" "${root[@]}" --set train.epochs=100000000000000000000

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
