#!/usr/bin/env bash
# Data-parallel training on c10d (Gloo over loopback), end to end:
#  - 2 ranks against 1 process with the same global batch and SyncBatchNorm: the parameters
#    after the run and the metrics agree to float tolerance; a 2-rank run repeated is
#    bit-identical; `tailor run --nproc 2` and ranks started from torchrun's environment
#    variables give the same run;
#  - a rank killed mid-epoch stops the other within the timeout with a message naming it, and
#    the run resumes with 1 rank and with 2 (the 2-rank resume bit-identical to an
#    uninterrupted 2-rank run);
#  - a port in use, nothing listening at MASTER_ADDR:MASTER_PORT, a batch the ranks cannot
#    split and ranks with different configurations are refused, leaving nothing behind.
# usage: distributed.sh <tailor binary> <checkpoint_diff binary> <source dir>
set -uo pipefail
tailor="$1"
diff_tool="$2"
src="$3"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tailor-dist.XXXXXX")"
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
passed=0
failed=0
ok() { echo "PASS $*"; passed=$((passed + 1)); }
bad() { echo "FAIL $*" >&2; failed=$((failed + 1)); }
show() { tail -n "${2:-5}" "$1" | sed 's/^/    /' >&2; }

python3 "$src/tests/integration/make_idx_fixture.py" "$tmp/data" || exit 1
exp="$src/tests/integration/tiny.toml"
# Two stages (features, then cRT with class-balanced sampling) of one epoch each, 8 steps of a
# global batch of 16; SyncBatchNorm so that 2 ranks compute what one process does.
common=(--set "dataset.root=$tmp/data" --max-epochs 1 --set train.max_steps_per_epoch=8
        --set train.sync_batchnorm=true --set distributed.timeout_s=20 --set experiment.threads=1)

# rank_env RANK WORLD PORT: the variables torchrun sets for a rank.
rank_env() {
  echo "RANK=$1 WORLD_SIZE=$2 LOCAL_RANK=$1 LOCAL_WORLD_SIZE=$2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$3"
}
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# -- 1 process against 2 ranks ----------------------------------------------------------
"$tailor" run "$exp" "${common[@]}" --out "$tmp/one" > "$tmp/one.log" 2>&1 ||
  { show "$tmp/one.log"; bad "one-process run failed"; }
if "$tailor" run "$exp" "${common[@]}" --nproc 2 --out "$tmp/two" > "$tmp/two.log" 2>&1; then
  ok "--nproc 2 run finished"
  [[ -s "$tmp/two/log.rank1.txt" && ! -e "$tmp/two/log.rank0.txt" ]] &&
    ok "rank 1 logs to log.rank1.txt, rank 0 to log.txt" || bad "rank log files"
  if "$diff_tool" "$tmp/one/checkpoints/latest.pt" "$tmp/two/checkpoints/latest.pt" 1e-4 > "$tmp/diff.txt"; then
    ok "2 ranks match 1 process: $(cat "$tmp/diff.txt")"
  else
    bad "2 ranks differ from 1 process: $(cat "$tmp/diff.txt")"
  fi
  python3 - "$tmp/one/metrics.jsonl" "$tmp/two/metrics.jsonl" <<'PY' && ok "metrics agree to 1e-4" || bad "metrics differ"
import json, math, sys
one = [json.loads(l) for l in open(sys.argv[1])]
two = [json.loads(l) for l in open(sys.argv[2])]
assert len(one) == len(two), (len(one), len(two))
for a, b in zip(one, two):
    assert (a["epoch"], a["split"]) == (b["epoch"], b["split"]), (a, b)
    for key in ("loss", "top1", "mean_class_recall", "ece", "samples", "num_samples"):
        if key in a:
            assert math.isclose(a[key], b[key], rel_tol=1e-4, abs_tol=1e-4), (key, a[key], b[key])
    if "support" in a:
        assert a["support"] == b["support"], "evaluation covered other samples"
PY
  grep -q '"world_size": 2' "$tmp/two/summary.json" && ok "summary.json records the world size" ||
    bad "summary.json lacks the world size"
else
  show "$tmp/two.log" 15
  bad "--nproc 2 run failed"
fi

# The same 2-rank run again, this time from torchrun's environment variables: bit-identical.
p=$(port)
env $(rank_env 1 2 "$p") "$tailor" run "$exp" "${common[@]}" --out "$tmp/env" > "$tmp/env1.log" 2>&1 &
pids+=($!)
if env $(rank_env 0 2 "$p") "$tailor" run "$exp" "${common[@]}" --out "$tmp/env" > "$tmp/env0.log" 2>&1 &&
   wait "${pids[-1]}"; then
  cmp -s "$tmp/two/metrics.jsonl" "$tmp/env/metrics.jsonl" &&
    "$diff_tool" "$tmp/two/checkpoints/latest.pt" "$tmp/env/checkpoints/latest.pt" 0 > /dev/null &&
    ok "a 2-rank run is bit-identical when repeated (torchrun variables vs --nproc)" ||
    bad "2-rank reruns differ"
else
  show "$tmp/env0.log"; show "$tmp/env1.log"
  bad "2-rank run from environment variables failed"
fi

# -- a rank dies ------------------------------------------------------------------------
# Rank 1 is SIGKILLed before step 3 of epoch 2 (the cRT stage); rank 0 must stop with a
# message naming rank 1 well within the 20 s timeout.
p=$(port)
full=(--set "dataset.root=$tmp/data" --set train.max_steps_per_epoch=8 --set train.sync_batchnorm=true
      --set distributed.timeout_s=20 --set experiment.threads=1 --max-epochs 2)
"$tailor" run "$exp" "${full[@]}" --nproc 2 --out "$tmp/uninterrupted" > "$tmp/uninterrupted.log" 2>&1 ||
  { show "$tmp/uninterrupted.log"; bad "uninterrupted 2-rank run failed"; }
env $(rank_env 1 2 "$p") TAILOR_FAULT_AT="KILL@2:3" "$tailor" run "$exp" "${full[@]}" --out "$tmp/killed" > "$tmp/k1.log" 2>&1 &
pids+=($!)
start=$(date +%s)
env $(rank_env 0 2 "$p") "$tailor" run "$exp" "${full[@]}" --out "$tmp/killed" > "$tmp/k0.log" 2>&1
code=$?
elapsed=$(( $(date +%s) - start ))
wait "${pids[-1]}"
if [[ $code -ne 0 ]] && grep -q "rank 1 stopped answering" "$tmp/k0.log"; then
  ok "rank 0 exits ($code) naming the dead rank 1 after ${elapsed} s"
else
  show "$tmp/k0.log"
  bad "rank 0 after rank 1 died: exit $code, message lacks 'rank 1 stopped answering'"
fi
[[ ! -e "$tmp/killed/summary.json" ]] && ok "the failed run left no summary" || bad "summary after a failure"
cp -r "$tmp/killed" "$tmp/killed2"
if "$tailor" run --resume "$tmp/killed" > "$tmp/resume1.log" 2>&1 && [[ -s "$tmp/killed/summary.json" ]]; then
  "$diff_tool" "$tmp/uninterrupted/checkpoints/latest.pt" "$tmp/killed/checkpoints/latest.pt" 1e-4 > "$tmp/d1.txt" &&
    ok "resumed with 1 rank: $(cat "$tmp/d1.txt")" || bad "1-rank resume differs: $(cat "$tmp/d1.txt")"
else
  show "$tmp/resume1.log"; bad "resume with 1 rank failed"
fi
if "$tailor" run --resume "$tmp/killed2" --nproc 2 > "$tmp/resume2.log" 2>&1 &&
   cmp -s "$tmp/uninterrupted/metrics.jsonl" "$tmp/killed2/metrics.jsonl"; then
  ok "resumed with 2 ranks: metrics bit-identical to the uninterrupted 2-rank run"
else
  show "$tmp/resume2.log"; bad "resume with 2 ranks failed or differs"
fi

# -- refusals ---------------------------------------------------------------------------
# expect_refusal NAME EXPECTED OUT_DIR ARGS...: non-zero exit, the message, no run files.
expect_refusal() {
  local name="$1" expected="$2" out="$3"
  shift 3
  if "$@" > "$tmp/$name.log" 2>&1; then
    bad "$name: accepted"
  elif ! grep -qF -- "$expected" "$tmp/$name.log"; then
    bad "$name: message lacks '$expected'"; show "$tmp/$name.log"
  elif [[ -e "$out/checkpoints/latest.pt" || -e "$out/metrics.jsonl" ]]; then
    bad "$name: left run files in $out"
  else
    ok "$name"
  fi
}
expect_refusal uneven_batch "does not split into 3 ranks" "$tmp/uneven" \
  "$tailor" run "$exp" "${common[@]}" --nproc 3 --out "$tmp/uneven"
# A port somebody else holds: rank 0 cannot host the rendezvous.
p=$(port)
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(60)' "$p" &
pids+=($!)
sleep 1
expect_refusal port_in_use "cannot rendezvous at 127.0.0.1:$p" "$tmp/busy" \
  env $(rank_env 0 2 "$p") "$tailor" run "$exp" "${common[@]}" --set distributed.timeout_s=5 --out "$tmp/busy"
# Nothing listens where rank 1 is told to meet rank 0.
p=$(port)
expect_refusal nobody_there "Is rank 0 running" "$tmp/alone" \
  env $(rank_env 1 2 "$p") "$tailor" run "$exp" "${common[@]}" --set distributed.timeout_s=5 --out "$tmp/alone"
# Ranks that resolved different configurations refuse to start, naming the difference.
p=$(port)
env $(rank_env 1 2 "$p") "$tailor" run "$exp" "${common[@]}" --set optimizer.lr=0.05 --out "$tmp/mixed" > "$tmp/mixed1.log" 2>&1 &
pids+=($!)
expect_refusal mixed_config "differs from rank 0's" "$tmp/mixed" \
  env $(rank_env 0 2 "$p") "$tailor" run "$exp" "${common[@]}" --out "$tmp/mixed"
wait "${pids[-1]}"
grep -q "rank 1 refuses to start: its resolved configuration differs from rank 0's (optimizer.lr" "$tmp/mixed1.log" &&
  ok "the differing rank names itself, rank 0 and the key" || { show "$tmp/mixed1.log"; bad "mixed config message"; }

# torchrun itself, where Debian's python3-torch is installed.
if python3 -c 'import torch.distributed.run' 2>/dev/null; then
  # Underscored flags: torchrun 1.13 (Debian's) knows only those, 2.x takes both spellings.
  # `-r 1 -t 1`: 1.13's default "0" (no redirect) parses to None under Python 3.11's enum.
  if python3 -m torch.distributed.run --no_python -r 1 -t 1 --nproc_per_node 2 --master_port "$(port)" \
       "$tailor" run "$exp" "${common[@]}" --out "$tmp/torchrun" > "$tmp/torchrun.log" 2>&1 &&
     cmp -s "$tmp/two/metrics.jsonl" "$tmp/torchrun/metrics.jsonl"; then
    ok "torchrun --no_python --nproc_per_node 2 gives the same run"
  else
    show "$tmp/torchrun.log" 10; bad "torchrun launch failed or differs"
  fi
else
  echo "SKIP torchrun launch: python3-torch is not installed (the environment-variable launch above covers the same variables)"
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
