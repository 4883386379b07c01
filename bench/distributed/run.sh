#!/usr/bin/env bash
# Data parallelism on CPU (c10d, Gloo over loopback) with the quickstart (small CNN on
# Fashion-MNIST-LT, global batch 128): tailor with 2 ranks x 1 thread against tailor with
# 1 process x 2 threads (the same cores), the share of a 2-rank step spent waiting on
# communication, and tailor's 2 ranks against PyTorch's DistributedDataParallel with 2 ranks x
# 1 thread (bench/distributed/torch_ddp.py under torchrun).
#   BUILD=build-bench STEPS=100 bench/distributed/run.sh
#
# Waiting share: one rank computes half the global batch and then all-reduces; the same half
# batch alone in one process with one thread is the compute without communication, so
#   share = 1 - (step time of 1 thread on batch/2) / (step time of the 2-rank step)
#         = 1 - rate(2 ranks) / (2 x rate(1 thread, batch/2)).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
source "$here/../common/lib.sh"
BUILD="${BUILD:-build-bench}"
TAILOR="${TAILOR:-$BUILD/host/tailor}"
STEPS="${STEPS:-100}"
ROOT="${ROOT:-/usr/share/datasets/fashion-mnist}"
require_executable "$TAILOR" "run make bench (or build with -DTAILOR_BUILD_BENCH=ON)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
exp="$repo/experiments/quickstart.toml"
run() {  # run <out> <args...>: two epochs of STEPS steps; the second is timed
  local out="$1"
  shift
  "$TAILOR" run "$exp" --out "$out" --set "dataset.root=$ROOT" --set experiment.device=cpu \
    --set train.epochs=2 --set "train.max_steps_per_epoch=$STEPS" --set train.workers=1 \
    --set eval.val_every=0 --set eval.test_every=0 "$@" >"$out.log" 2>&1 ||
    { tail -5 "$out.log" >&2; exit 1; }
}
run "$work/one2" --set experiment.threads=2
run "$work/two1" --set experiment.threads=1 --nproc 2
run "$work/half" --set experiment.threads=1 --set train.batch_size=64
one2=$(timing "$work/one2" train 2)
two1=$(timing "$work/two1" train 2)
half=$(timing "$work/half" train 2)
echo "tailor 1 process x 2 threads: $one2 img/s"
echo "tailor 2 ranks x 1 thread:    $two1 img/s"
echo "tailor 1 thread, batch 64:    $half img/s (one rank's compute alone)"
echo "ratio 2 ranks / 1 process: $(ratio "$two1" "$one2")"
awk -v two="$two1" -v half="$half" 'BEGIN {printf "share of a 2-rank step waiting on communication: %.1f%%\n", 100 * (1 - two / (2 * half))}'
if /usr/bin/python3 -c 'import torch.distributed.run' 2>/dev/null; then
  port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  py=$(OMP_NUM_THREADS=1 /usr/bin/python3 -m torch.distributed.run -r 1 -t 1 --nproc_per_node 2 --master_port "$port" \
       "$here/torch_ddp.py" --root "$ROOT" --threads 1 --workers 1 --steps "$STEPS" 2>/dev/null | grep -o 'torch ddp.*')
  echo "$py"
  echo "ratio tailor 2 ranks / torch DDP 2 ranks: $(ratio "$two1" "$(echo "$py" | awk '{print $3}')")"
fi
