#!/usr/bin/env bash
# The egtea dataset and resnext3d backbone through the tailor executable: a two-epoch run of
# experiments/egtea/tiny_fixture.toml on generated .mp4 clips, with the majority/minority
# groups recorded, and a clear error for a clip that is missing.
# usage: egtea.sh <tailor binary> <source dir>
set -uo pipefail
tailor="$1"
src="$2"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tailor-egtea.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
ok() { echo "PASS $*"; passed=$((passed + 1)); }
bad() { echo "FAIL $*" >&2; failed=$((failed + 1)); }
if ! command -v ffmpeg > /dev/null; then
  echo "the ffmpeg tool is not installed (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
bash "$src/tests/integration/make_egtea_fixture.sh" "$tmp/data" || exit 1
exp="$src/experiments/egtea/tiny_fixture.toml"

if "$tailor" run "$exp" --set "dataset.root=$tmp/data" --out "$tmp/run" > "$tmp/run.log" 2>&1; then
  ok "two-epoch run"
  if verdict=$(python3 - "$tmp/run" <<'PY'
import json, math, sys
out = sys.argv[1]
summary = json.load(open(out + "/summary.json"))
test = summary["last_epoch"]["test"]
train = [json.loads(l) for l in open(out + "/metrics.jsonl") if '"split":"train"' in l]
assert len(train) == 2, f"{len(train)} train epochs"
assert all(math.isfinite(t["loss"]) for t in train)
assert test["samples"] == 6
assert test["majority_threshold"] == 2
maj, mino = test["majority"], test["minority"]
assert (maj["classes"], mino["classes"]) == (2, 1), (maj, mino)
assert (maj["samples"], mino["samples"]) == (4, 2), (maj, mino)
for g in (maj, mino):
    assert 0 <= g["recall"] <= 1 and 0 <= g["precision"] <= 1
val = [json.loads(l) for l in open(out + "/metrics.jsonl") if '"split":"val"' in l]
assert "majority" in val[-1], "val records lack the groups"
print(f"test top-1 {test['top1']:.3f}, majority R/P {maj['recall']:.2f}/{maj['precision']:.2f}, "
      f"minority R/P {mino['recall']:.2f}/{mino['precision']:.2f}")
PY
  ); then
    ok "metrics recorded: $verdict"
  else
    bad "summary/metrics check: $verdict"
  fi
  [[ -s "$tmp/run/egtea_classes.csv" ]] && ok "egtea_classes.csv written" || bad "no egtea_classes.csv"
else
  tail -20 "$tmp/run.log" >&2
  bad "tiny run failed"
fi

# egtea has no batched augmentation: augment_on = "device" is refused before any training,
# naming the plugin and the fix, and leaves no checkpoint.
if "$tailor" run "$exp" --set "dataset.root=$tmp/data" --set train.augment_on=device \
     --out "$tmp/device" > "$tmp/device.log" 2>&1; then
  bad "augment_on = device ran on a dataset without batched augmentation"
elif grep -q "dataset plugin 'egtea' has no batched augmentation" "$tmp/device.log" &&
     grep -q 'augment_on = \\"loader\\"\|augment_on = "loader"' "$tmp/device.log" &&
     [[ ! -e "$tmp/device/checkpoints/latest.pt" ]]; then
  ok "augment_on = device without batched augmentation: clear error, no checkpoint"
else
  cat "$tmp/device.log" >&2
  bad "augment_on = device without batched augmentation: unclear error"
fi

# A missing clip stops the run at load, naming the file, the split line and the fix.
first="$(head -1 "$tmp/data/train_split.txt" | cut -d' ' -f1)"
rm "$tmp/data/cropped_clips/"*/"$first.mp4"
if "$tailor" run "$exp" --set "dataset.root=$tmp/data" --out "$tmp/bad" > "$tmp/bad.log" 2>&1; then
  bad "a missing clip did not stop the run"
elif grep -q "$first.mp4" "$tmp/bad.log" && grep -q "train_split.txt:1" "$tmp/bad.log" &&
     grep -q 'on_bad_clip = \\"skip\\"\|on_bad_clip = "skip"' "$tmp/bad.log"; then
  ok "missing clip: clear error"
else
  cat "$tmp/bad.log" >&2
  bad "missing clip: unclear error"
fi

echo "egtea: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
