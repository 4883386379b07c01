#!/usr/bin/env bash
# The tailor executable end to end: a short two-stage run, and every kind of bad input
# giving a clear message, a non-zero exit, and no result files.
# usage: cli.sh <tailor binary> <source dir>
set -uo pipefail
tailor="$1"
src="$2"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tailor-cli.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
ok() { echo "PASS $*"; passed=$((passed + 1)); }
bad() { echo "FAIL $*" >&2; failed=$((failed + 1)); }

python3 "$src/tests/integration/make_idx_fixture.py" "$tmp/data" || exit 1
exp="$src/tests/integration/tiny.toml"
root=(--set "dataset.root=$tmp/data")

# -- a real run ------------------------------------------------------------------------
if "$tailor" run "$exp" "${root[@]}" --out "$tmp/run" > "$tmp/run.log" 2>&1; then
  missing=""
  for f in config.resolved.toml log.txt metrics.jsonl summary.json per_class.csv \
           confusion_test_last.csv idx_lt_selection.csv checkpoints/latest.pt checkpoints/best.pt; do
    [[ -s "$tmp/run/$f" ]] || missing="$missing $f"
  done
  [[ -z "$missing" ]] && ok "run directory complete" || bad "run directory lacks:$missing"
  top1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["last_epoch"]["test"]["top1"])' "$tmp/run/summary.json")
  python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0.3 else 1)' "$top1" &&
    ok "learned: test top-1 $top1 (chance 0.1)" || bad "test top-1 $top1 is not above chance"
  grep -q "stage = \|\[\[stage\]\]" "$tmp/run/config.resolved.toml" && ok "stages in the resolved config" ||
    bad "resolved config lacks the stages"
  # The resolved config runs as an experiment of its own.
  "$tailor" validate "$tmp/run/config.resolved.toml" > /dev/null 2>&1 && ok "resolved config validates" ||
    bad "resolved config does not validate"
  # So does one written before samplers and heads were plugins: [sampler] and [head] said
  # type = "...", with every old host key whatever the type.
  python3 - "$tmp/run/config.resolved.toml" "$tmp/legacy.toml" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
text, samplers = re.subn(r"plugin = ['\"](instance|class_balanced)['\"]", r"k = 4\nq = 0.5\ntype = '\1'", text)
text, heads = re.subn(r"plugin = ['\"]linear['\"]", "scale = 1.0\ntau = 1.0\ntype = 'linear'", text)
assert samplers == 3 and heads == 1, (samplers, heads)
open(sys.argv[2], "w").write(text)
PY
  "$tailor" validate "$tmp/legacy.toml" > "$tmp/legacy.log" 2>&1 &&
    grep -q "plugin = 'class_balanced'" "$tmp/legacy.log" && ok "a pre-plugin resolved config validates" ||
    { bad "a pre-plugin resolved config does not validate"; tail -3 "$tmp/legacy.log" >&2; }
else
  cat "$tmp/run.log"
  bad "tiny run failed"
fi

# The data pipeline is deterministic whatever the number of worker threads.
if "$tailor" run "$exp" "${root[@]}" --max-epochs 1 --set train.workers=1 --out "$tmp/w1" > "$tmp/w1.log" 2>&1 &&
   "$tailor" run "$exp" "${root[@]}" --max-epochs 1 --set train.workers=3 --set train.prefetch=1 --out "$tmp/w3" > "$tmp/w3.log" 2>&1 &&
   cmp -s "$tmp/w1/metrics.jsonl" "$tmp/w3/metrics.jsonl"; then
  ok "same metrics with 1 and 3 loader threads"
else
  bad "metrics depend on the number of loader threads"
fi

# [train] augment_on = "device": the dataset's batched augmentation (here on the CPU) gives
# the same run, bit for bit, as the loader threads' per-sample augmentation.
aug=(--max-epochs 1 --set dataset.augment=crop_flip)
if "$tailor" run "$exp" "${root[@]}" "${aug[@]}" --out "$tmp/aug_loader" > "$tmp/aug_loader.log" 2>&1 &&
   "$tailor" run "$exp" "${root[@]}" "${aug[@]}" --set train.augment_on=device --out "$tmp/aug_device" > "$tmp/aug_device.log" 2>&1 &&
   grep -q "training augmentation runs batched on cpu" "$tmp/aug_device/log.txt" &&
   cmp -s "$tmp/aug_loader/metrics.jsonl" "$tmp/aug_device/metrics.jsonl"; then
  ok "augment_on = device: same metrics as the loader's augmentation"
else
  bad "augment_on = device differs from the loader's augmentation or failed"
  tail -3 "$tmp/aug_device.log" >&2
fi

# -- losses that use the engine's hooks ------------------------------------------------
# expect_run NAME ARGS...: a one-epoch-per-stage run that must finish with a summary.
expect_run() {
  local name="$1"
  shift
  if "$tailor" run "$exp" "${root[@]}" --max-epochs 1 "$@" --out "$tmp/$name" > "$tmp/$name.log" 2>&1 &&
     [[ -s "$tmp/$name/summary.json" ]]; then
    ok "$name"
  else
    bad "$name: run failed"
    tail -3 "$tmp/$name.log" >&2
  fi
}
expect_run meta_step_head --set loss.plugin=difficulty_net --set meta.scope=head --set meta.batch_size=20
expect_run meta_step_full --set loss.plugin=difficulty_net --set meta.scope=full --set meta.batch_size=20
expect_run feature_bank --set loss.plugin=dro_lt
expect_run validation_stats --set loss.plugin=cdb
grep -q '"class_weights"' "$tmp/validation_stats/metrics.jsonl" && ok "class weights recorded" ||
  bad "cdb class weights missing from metrics.jsonl"

# -- bad input -------------------------------------------------------------------------
# expect_error NAME EXPECTED-SUBSTRING ARGS...: non-zero exit, message, no summary.
expect_error() {
  local name="$1" expected="$2"
  shift 2
  local out="$tmp/err-$name"
  if "$tailor" "$@" > "$out.log" 2>&1; then
    bad "$name: accepted"
  elif ! grep -qF -- "$expected" "$out.log"; then
    bad "$name: message lacks '$expected':"
    sed 's/^/    /' "$out.log" | tail -3 >&2
  else
    ok "$name"
  fi
}
printf '[experiment]\nname = "x"\nseed = \n' > "$tmp/malformed.toml"
expect_error malformed_toml "malformed.toml:3:" validate "$tmp/malformed.toml"
expect_error unknown_key "did you mean 'lr'" validate "$exp" "${root[@]}" --set optimizer.lrr=0.1
expect_error unknown_plugin_key "unknown key 'smoothing' in [loss]" validate "$exp" "${root[@]}" --set loss.smoothing=0.1
expect_error wrong_type "expected float" validate "$exp" "${root[@]}" --set optimizer.lr=fast
expect_error unknown_section "did you mean [loss]" validate "$exp" "${root[@]}" --set lossx.a=1
expect_error out_of_range "label_smoothing must be [0, 1), got 1.5" validate "$exp" "${root[@]}" --set loss.label_smoothing=1.5
expect_error missing_plugin "no loss plugin named 'nope'" validate "$exp" "${root[@]}" --set loss.plugin=nope
expect_error wrong_kind "is a dataset plugin, but the experiment uses it as a loss" validate "$exp" "${root[@]}" --set loss.plugin=idx_lt
expect_error bad_sampler "no sampler plugin named 'magic'" validate "$exp" "${root[@]}" --set sampler.type=magic
expect_error sampler_plugin_and_type "sets both plugin and type" validate "$exp" "${root[@]}" --set sampler.plugin=sqrt --set sampler.type=sqrt
expect_error sampler_wrong_kind "is a loss plugin, but the experiment uses it as a sampler" validate "$exp" "${root[@]}" --set sampler.plugin=ce
expect_error sampler_bad_option "[sampler] q must be [0, 1], got 2" validate "$exp" "${root[@]}" --set sampler.plugin=sqrt --set sampler.q=2.0
expect_error head_strict_keys "unknown key 'bias' in [head]" validate "$exp" "${root[@]}" --set head.plugin=cosine --set head.bias=false
expect_error head_not_normed "expects cosine logits, but head 'linear'" run "$exp" "${root[@]}" --set loss.plugin=ldam --out "$tmp/ldam"
expect_error bad_schedule "one of: constant, step, multistep, cosine" validate "$exp" "${root[@]}" --set schedule.type=magic
expect_error freeze_missing_part "freezes 'backbon', which matches no parameter" run "$exp" "${root[@]}" --set 'stage[1].freeze=["backbon"]' --out "$tmp/freeze"
expect_error reinit_backbone "only the head can be re-initialised" validate "$exp" "${root[@]}" --set 'stage[1].reinit=["backbone"]'
expect_error missing_data "$tmp/nowhere" validate "$exp" --set "dataset.root=$tmp/nowhere"
mkdir -p "$tmp/truncated" && cp "$tmp/data/"*.gz "$tmp/truncated/"
python3 - "$tmp/truncated/train-images-idx3-ubyte.gz" <<'PY'
import gzip, sys
data = gzip.open(sys.argv[1]).read()
with gzip.open(sys.argv[1], "wb") as f:
    f.write(data[: len(data) // 2])
PY
expect_error truncated_data "train-images-idx3-ubyte.gz" validate "$exp" --set "dataset.root=$tmp/truncated"
expect_error label_out_of_range "label" validate "$exp" "${root[@]}" --set 'dataset.class_names=["a", "b"]'
expect_error nan_loss "at stage 'features' epoch 1, step" run "$exp" "${root[@]}" --set optimizer.lr=1e30 --out "$tmp/nan"
[[ ! -e "$tmp/nan/summary.json" && ! -e "$tmp/nan/checkpoints/latest.pt" ]] && ok "NaN run left no summary or checkpoint" ||
  bad "NaN run left result files"
mkdir -p "$tmp/full" && touch "$tmp/full/x"
# A configuration a dataset cannot batch is refused before training (tiny CIFAR-10 files).
python3 - "$tmp/cifar" <<'PY'
import os, sys
os.makedirs(sys.argv[1], exist_ok=True)
for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
    with open(os.path.join(sys.argv[1], name), "wb") as f:
        for r in range(40):
            f.write(bytes([r % 10]) + os.urandom(3072))
PY
printf 'base = ["%s"]\n[dataset]\n_delete_ = true\nplugin = "cifar_lt"\nroot = "%s"\nprotocol = "none"\nautoaugment = true\n' \
  "$(realpath "$exp")" "$tmp/cifar" > "$tmp/cifar.toml"
expect_error device_autoaugment "autoaugment = true has no batched form" run "$tmp/cifar.toml" \
  --set train.augment_on=device --out "$tmp/autoaug"
[[ ! -e "$tmp/autoaug/checkpoints/latest.pt" ]] && ok "refused device augmentation left no checkpoint" ||
  bad "refused device augmentation left a checkpoint"
expect_error out_not_empty "exists and is not empty" run "$exp" "${root[@]}" --out "$tmp/full"
expect_error resume_not_run "is not a run directory" run --resume "$tmp/data"
# Resolution comes before any data is read: an out-of-range plugin option is reported even
# when the dataset's root does not exist.
expect_error range_before_data "label_smoothing must be [0, 1), got 1.5" validate "$exp" \
  --set "dataset.root=$tmp/nowhere" --set loss.label_smoothing=1.5
grep -q "nowhere" "$tmp/err-range_before_data.log" && bad "range_before_data: the dataset was opened" ||
  ok "range_before_data: the dataset was not opened"
expect_error range_in_stage "momentum must be [0, 1), got 2" validate "$exp" "${root[@]}" \
  --set 'stage[1].optimizer.momentum=2'
expect_error cross_section_key "did you mean [optimizer] lr?" validate "$exp" "${root[@]}" --set train.lr=0.1
expect_error plugin_did_you_mean "did you mean 'cdb'?" validate "$exp" "${root[@]}" --set loss.plugin=cbd
grep -q "looked for loss_cbd.so and cbd.so in:" "$tmp/err-plugin_did_you_mean.log" && ok "unknown plugin lists the searched directories" ||
  bad "unknown plugin: searched directories missing"

# Provenance: summary.json and log.txt name every plugin's file and its SHA-256.
if [[ -s "$tmp/run/summary.json" ]]; then
  python3 - "$tmp/run/summary.json" <<'PY' && ok "summary.json records plugin provenance" || bad "plugin provenance in summary.json"
import hashlib, json, sys
plugins = json.load(open(sys.argv[1]))["plugins"]
names = sorted(p["name"] for p in plugins)
assert names == ["ce", "class_balanced", "idx_lt", "instance", "linear", "small_cnn"], names
for p in plugins:
    assert p["version"] and p["kind"] in ("dataset", "backbone", "head", "loss", "sampler"), p
    assert hashlib.sha256(open(p["path"], "rb").read()).hexdigest() == p["sha256"], p
PY
  ce_sha=$(python3 -c 'import json,sys; print([p["sha256"] for p in json.load(open(sys.argv[1]))["plugins"] if p["name"] == "ce"][0])' "$tmp/run/summary.json")
  grep -q "plugin loss 'ce' .*sha256 $ce_sha" "$tmp/run/log.txt" && ok "log.txt records plugin provenance" ||
    bad "log.txt lacks the plugin's SHA-256"
fi

# `plugins list` names each plugin's file and warns about a same-named plugin it hides.
plugin_dir="$(dirname "$(grep -o "'ce' [^ ]* [^ ]*/ce.so" "$tmp/run/log.txt" | head -1 | awk '{print $3}')")"
mkdir -p "$tmp/shadow"
cp "$plugin_dir/ce.so" "$tmp/shadow/ce.so"
TAILOR_PLUGIN_PATH="$tmp/shadow" "$tailor" plugins list > "$tmp/list.log" 2>&1
grep -q "$tmp/shadow/ce.so" "$tmp/list.log" && grep -q "warning: $plugin_dir/ce.so is shadowed by $tmp/shadow/ce.so" "$tmp/list.log" &&
  ok "plugins list shows files and the shadowed plugin" || { bad "plugins list: files or shadow warning"; tail -5 "$tmp/list.log" >&2; }

expect_error describe_unknown "no plugin named 'nope'" plugins describe nope
expect_error inspect_not_plugin "not a readable ELF" plugins inspect "$exp"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
