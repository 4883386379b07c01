#!/usr/bin/env bash
# Checkpoints that cannot lie: a corrupted, truncated or unreadable checkpoint is refused
# with one message (no stack trace) and `--resume-from` falls back only when asked; a full
# disk during a save keeps the last good checkpoint and a later resume ends with every
# artefact; a complete run, an edited configuration and a lost latest.pt are refused.
# Each resume that goes through gives the uninterrupted run's metrics byte for byte.
# usage: checkpoints.sh <tailor binary> <source dir>
set -uo pipefail
tailor="$1"
src="$2"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tailor-checkpoints.XXXXXX")"
trap 'chmod -R u+rwX "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
passed=0
failed=0
ok() { echo "PASS $*"; passed=$((passed + 1)); }
bad() { echo "FAIL $*" >&2; failed=$((failed + 1)); }

python3 "$src/tests/integration/make_idx_fixture.py" "$tmp/data" || exit 1
exp="$src/tests/integration/tiny.toml"
args=(--set "dataset.root=$tmp/data" --set train.checkpoint_every=1)
corrupt="$src/tests/integration/corrupt_checkpoint.py"

# A message for the user, not for a debugger: LibTorch's traces carry "frame #".
no_trace() { ! grep -q "frame #\|Exception raised from" "$1"; }

"$tailor" run "$exp" "${args[@]}" --out "$tmp/full" > "$tmp/full.log" 2>&1 ||
  { cat "$tmp/full.log"; exit 1; }
# Killed in epoch 3: latest.pt, best.pt, epoch_1.pt and epoch_2.pt are on disk.
(TAILOR_FAULT_AT="KILL@3:1" "$tailor" run "$exp" "${args[@]}" --out "$tmp/killed") > "$tmp/killed.log" 2>&1
[[ -f "$tmp/killed/checkpoints/epoch_2.pt" ]] || { cat "$tmp/killed.log"; exit 1; }

# expect_refused NAME DIR PATTERN [ARGS...]: resume exits non-zero with PATTERN in one
# message, no trace, and writes no summary.
expect_refused() {
  local name="$1" dir="$2" pattern="$3"
  shift 3
  if "$tailor" run --resume "$dir" "$@" > "$tmp/$name.log" 2>&1; then
    bad "$name: resume accepted"
  elif ! grep -q -- "$pattern" "$tmp/$name.log"; then
    bad "$name: message lacks '$pattern': $(tail -2 "$tmp/$name.log")"
  elif ! no_trace "$tmp/$name.log"; then
    bad "$name: the message carries a stack trace"
  elif [[ -e "$dir/summary.json" ]]; then
    bad "$name: a summary was written"
  else
    ok "$name"
  fi
}
same_metrics() {  # same_metrics NAME DIR: metrics.jsonl equals the uninterrupted run's
  if cmp -s "$tmp/full/metrics.jsonl" "$2/metrics.jsonl"; then ok "$1"; else
    bad "$1: metrics differ from the uninterrupted run"
    diff "$tmp/full/metrics.jsonl" "$2/metrics.jsonl" | head -4 >&2
  fi
}

# -- defect 1: corrupted checkpoints ------------------------------------------------------
for part in weights optimizer header; do
  cp -a "$tmp/killed" "$tmp/$part"
  python3 "$corrupt" "$tmp/$part/checkpoints/latest.pt" "$part" > /dev/null || bad "cannot corrupt $part"
  expect_refused "corrupt_$part" "$tmp/$part" "checkpoint $tmp/$part/checkpoints/latest.pt is corrupt"
  grep -q -- "--resume-from best | epoch_1 | epoch_2" "$tmp/corrupt_$part.log" &&
    ok "corrupt_$part: the message names the fallbacks" || bad "corrupt_$part: no fallback named"
done
# Falling back is explicit, and the run then continues bit-identically.
if "$tailor" run --resume "$tmp/weights" --resume-from epoch_2 > "$tmp/fallback.log" 2>&1; then
  same_metrics "--resume-from epoch_2 after a corrupt latest.pt" "$tmp/weights"
else
  bad "--resume-from epoch_2 failed: $(tail -2 "$tmp/fallback.log")"
fi
cp -a "$tmp/killed" "$tmp/truncated"
truncate -s 50000 "$tmp/truncated/checkpoints/latest.pt"
expect_refused truncated "$tmp/truncated" "is truncated: its header announces"
cp -a "$tmp/killed" "$tmp/appended"
printf 'xxxx' >> "$tmp/appended/checkpoints/latest.pt"
expect_refused appended "$tmp/appended" "bytes more than its header announces"
cp -a "$tmp/killed" "$tmp/notfile"
rm "$tmp/notfile/checkpoints/latest.pt" && mkdir "$tmp/notfile/checkpoints/latest.pt"
expect_refused unreadable_directory "$tmp/notfile" "cannot read checkpoint .*latest.pt: Is a directory"
if [[ "$(id -u)" != 0 ]]; then  # root reads any file
  cp -a "$tmp/killed" "$tmp/noread"
  chmod 000 "$tmp/noread/checkpoints/latest.pt"
  expect_refused unreadable_file "$tmp/noread" "Permission denied (make it readable"
fi
expect_refused resume_from_missing "$tmp/killed" "--resume-from epoch_7: there is no" --resume-from epoch_7

# -- defect 3: a full disk during a checkpoint save ----------------------------------------
# A file-size limit (RLIMIT_FSIZE, `ulimit -f`, in 1 KiB blocks) makes every write past
# 40 KiB fail with EFBIG, as a full disk fails with ENOSPC, without root or a small tmpfs:
# checkpoints (about 90 KiB) cannot be written, the log and metrics (a few KiB) can.
cp -a "$tmp/killed" "$tmp/disk"
before=$(sha256sum < "$tmp/disk/checkpoints/latest.pt")
(ulimit -f 40 && exec "$tailor" run --resume "$tmp/disk") > "$tmp/disk.log" 2>&1
code=$?
if [[ $code -ne 1 ]]; then
  bad "full disk: expected exit 1, got $code: $(tail -2 "$tmp/disk.log")"
elif ! grep -q "cannot write .*latest.pt: File too large; the previous latest.pt is kept" "$tmp/disk/log.txt"; then
  bad "full disk: log.txt lacks the reason: $(tail -2 "$tmp/disk/log.txt")"
elif [[ "$(sha256sum < "$tmp/disk/checkpoints/latest.pt")" != "$before" ]]; then
  bad "full disk: latest.pt changed"
elif [[ -n "$(find "$tmp/disk" -name '*.tmp*')" ]]; then
  bad "full disk: temporary files left: $(find "$tmp/disk" -name '*.tmp*')"
else
  ok "full disk: exit 1, the reason in log.txt, the last good checkpoint kept, no temporary file"
fi
# What an earlier failed write leaves (a .tmp, a missing artefact) is repaired by a resume.
rm "$tmp/disk/idx_lt_selection.csv"
echo partial > "$tmp/disk/idx_lt_selection.csv.tmp"
echo partial > "$tmp/disk/checkpoints/latest.pt.tmp.12345"
if "$tailor" run --resume "$tmp/disk" > "$tmp/disk2.log" 2>&1; then
  same_metrics "full disk, then resume: same metrics" "$tmp/disk"
  missing=""
  for f in summary.json per_class.csv confusion_test_last.csv idx_lt_selection.csv; do
    cmp -s "$tmp/full/$f" "$tmp/disk/$f" || [[ $f == summary.json && -s "$tmp/disk/$f" ]] ||
      missing="$missing $f"
  done
  [[ -z "$missing" ]] && ok "full disk, then resume: every artefact" || bad "artefacts differ:$missing"
  [[ -z "$(find "$tmp/disk" -name '*.tmp*')" ]] && ok "stale temporary files removed" ||
    bad "temporary files left: $(find "$tmp/disk" -name '*.tmp*')"
else
  bad "resume after freeing space failed: $(tail -2 "$tmp/disk2.log")"
fi

# -- defect 4: a complete run ---------------------------------------------------------------
snapshot() { (cd "$1" && find . -type f ! -name .tailor-lock -exec sha256sum {} + | sort); }
before=$(snapshot "$tmp/full")
if "$tailor" run --resume "$tmp/full" > "$tmp/complete.log" 2>&1; then
  bad "resume of a complete run accepted"
else
  grep -q "is complete" "$tmp/complete.log" && ok "resume of a complete run refused" ||
    bad "complete run: $(tail -1 "$tmp/complete.log")"
fi
[[ "$(snapshot "$tmp/full")" == "$before" ]] && ok "the complete run is untouched" ||
  bad "the complete run was modified"

# -- defect 5: an edited configuration ------------------------------------------------------
cp -a "$tmp/killed" "$tmp/edited"
sed -i "s/^\( *\)lr = 0.1[0-9]*$/\1lr = 0.05/" "$tmp/edited/config.resolved.toml"
grep -q "^lr = 0.05$" "$tmp/edited/config.resolved.toml" || bad "could not edit the configuration"
expect_refused config_edited "$tmp/edited" "config.resolved.toml was changed after"
if "$tailor" run --resume "$tmp/edited" --allow-config-change > "$tmp/allowed.log" 2>&1 &&
   python3 - "$tmp/edited/summary.json" <<'PY'; then
import json, sys
changes = json.load(open(sys.argv[1]))["config_changes"]
assert len(changes) == 1 and changes[0]["completed"] == 2, changes
assert changes[0]["from_sha256"] != changes[0]["to_sha256"]
PY
  ok "--allow-config-change continues and records the change in summary.json"
else
  bad "--allow-config-change: $(tail -2 "$tmp/allowed.log")"
fi

# -- defect 6: a lost latest.pt --------------------------------------------------------------
cp -a "$tmp/killed" "$tmp/lost"
rm "$tmp/lost/checkpoints/latest.pt"
expect_refused latest_missing "$tmp/lost" "latest.pt is missing, but the run had progressed"
if "$tailor" run --resume "$tmp/lost" --restart > "$tmp/restart.log" 2>&1; then
  same_metrics "--restart trains again from epoch 1" "$tmp/lost"
else
  bad "--restart failed: $(tail -2 "$tmp/restart.log")"
fi
# A run killed before its first checkpoint has lost nothing: it resumes from epoch 1.
(TAILOR_FAULT_AT="KILL@1:2" "$tailor" run "$exp" "${args[@]}" --out "$tmp/early") > /dev/null 2>&1
if "$tailor" run --resume "$tmp/early" > "$tmp/early.log" 2>&1; then
  same_metrics "killed in epoch 1: resume starts at epoch 1" "$tmp/early"
else
  bad "resume of a run killed in epoch 1: $(tail -2 "$tmp/early.log")"
fi

# -- SIGTERM exits 143 after writing a checkpoint --------------------------------------------
TAILOR_FAULT_AT="TERM@2:1" "$tailor" run "$exp" "${args[@]}" --out "$tmp/term" > "$tmp/term.log" 2>&1
code=$?
[[ $code -eq 143 ]] && ok "SIGTERM exits 143" || bad "SIGTERM: exit $code"
if "$tailor" run --resume "$tmp/term" > "$tmp/term2.log" 2>&1; then
  same_metrics "SIGTERM, then resume: same metrics" "$tmp/term"
else
  bad "resume after SIGTERM: $(tail -2 "$tmp/term2.log")"
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
