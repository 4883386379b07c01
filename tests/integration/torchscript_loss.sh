#!/usr/bin/env bash
# Training with the torchscript_loss plugin and examples/vs_loss.pt writes the same
# metrics.jsonl, byte for byte, as training with the vs_loss plugin; a run killed mid-epoch
# resumes bit-identically; resuming after the script file changed, or naming a missing
# script, is refused with a message and a non-zero exit (CPU).
# usage: torchscript_loss.sh <tailor binary> <source dir>
set -euo pipefail
tailor="$1"
src="$2"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tailor-torchscript.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

python3 "$src/tests/integration/make_idx_fixture.py" "$tmp/data"
exp="$src/tests/integration/tiny.toml"
cp "$src/plugins/losses/torchscript_loss/examples/vs_loss.pt" "$tmp/vs_loss.pt"
common=(--set "dataset.root=$tmp/data")
scripted=(--set loss.plugin=torchscript_loss --set "loss.script=$tmp/vs_loss.pt")

"$tailor" run "$exp" "${common[@]}" --set loss.plugin=vs_loss --out "$tmp/cpp" > "$tmp/cpp.log" 2>&1 ||
  { cat "$tmp/cpp.log"; fail "run with vs_loss failed"; }
"$tailor" run "$exp" "${common[@]}" "${scripted[@]}" --out "$tmp/script" > "$tmp/script.log" 2>&1 ||
  { cat "$tmp/script.log"; fail "run with torchscript_loss failed"; }
cmp "$tmp/cpp/metrics.jsonl" "$tmp/script/metrics.jsonl" ||
  { diff "$tmp/cpp/metrics.jsonl" "$tmp/script/metrics.jsonl" | head -5; fail "metrics differ"; }
echo "PASS the scripted VS loss trains exactly as the vs_loss plugin"

set +e
TAILOR_FAULT_AT="KILL@2:3" "$tailor" run "$exp" "${common[@]}" "${scripted[@]}" --out "$tmp/killed" \
  > "$tmp/killed.log" 2>&1
code=$?
set -e
[[ $code -eq 137 ]] || { cat "$tmp/killed.log"; fail "expected exit 137 after SIGKILL, got $code"; }
cp -r "$tmp/killed" "$tmp/edited"
"$tailor" run --resume "$tmp/killed" > "$tmp/resume.log" 2>&1 ||
  { cat "$tmp/resume.log"; fail "resume failed"; }
cmp "$tmp/script/metrics.jsonl" "$tmp/killed/metrics.jsonl" ||
  { diff "$tmp/script/metrics.jsonl" "$tmp/killed/metrics.jsonl" | head -5; fail "metrics differ after SIGKILL + resume"; }
echo "PASS SIGKILL + resume with the scripted loss is bit-identical"

# The same TorchScript, different bytes: a comment in the zip archive's end record.
python3 - "$tmp/vs_loss.pt" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "a") as archive:
    archive.comment = b"edited"
PY
checkpoint_sum="$(md5sum < "$tmp/edited/checkpoints/latest.pt")"
if "$tailor" run --resume "$tmp/edited" > "$tmp/edited.log" 2>&1; then
  fail "resume with an edited script was accepted"
fi
grep -q "is not the script this run was checkpointed with" "$tmp/edited.log" ||
  { cat "$tmp/edited.log"; fail "unclear message for an edited script"; }
[[ "$(md5sum < "$tmp/edited/checkpoints/latest.pt")" == "$checkpoint_sum" ]] ||
  fail "the refused resume changed the checkpoint"
[[ ! -f "$tmp/edited/summary.json" ]] || fail "the refused resume wrote a summary"
echo "PASS resume with an edited script is refused and the checkpoint kept"

if "$tailor" run "$exp" "${common[@]}" --set loss.plugin=torchscript_loss \
     --set "loss.script=$tmp/missing.pt" --out "$tmp/missing" > "$tmp/missing.log" 2>&1; then
  fail "a missing script was accepted"
fi
grep -q "the script file '$tmp/missing.pt' does not exist" "$tmp/missing.log" ||
  { cat "$tmp/missing.log"; fail "unclear message for a missing script"; }
echo "PASS a missing script is refused with its path"
echo "4 passed, 0 failed"
