#!/usr/bin/env bash
# ResNet-32 on CIFAR-10-LT (synthetic CIFAR-10 in the binary format), CPU: training
# throughput of `tailor run` and of the equivalent PyTorch script (bench/common/torch_train.py)
# with the same thread count, the data pipeline's share of tailor's step time (the same run
# on pre-made tensors), and the evaluation pass over the 10,000 test images.
#   [PY_MALLOC=1] BUILD=build-bench STEPS=15 WORKERS=0,2 bench/cifar_resnet32/run.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common/lib.sh"
BUILD="${BUILD:-build-bench}"
TAILOR="${TAILOR:-$BUILD/host/tailor}"
STEPS="${STEPS:-15}"
WORKERS="${WORKERS:-0,2}"
if [[ ! -x "$TAILOR" ]]; then
  echo "run.sh: $TAILOR not found; run make bench (or build with -DTAILOR_BUILD_BENCH=ON)" >&2
  exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$here/../common/make_cifar.py" "$work/cifar10" cifar10

# Two epochs of STEPS steps: the first warms up, the second is timed (timing.jsonl), then the
# test split is evaluated once.
run() {  # run <out> <toml> [--set ...]
  local out="$1" toml="$2"
  shift 2
  TAILOR_PLUGIN_PATH="$BUILD/bench/common/plugins" "$TAILOR" run "$toml" --out "$out" \
    --set train.epochs=2 --set "train.max_steps_per_epoch=$STEPS" "$@" >/dev/null 2>&1 ||
    { cat "$out/log.txt" >&2; exit 1; }
}
run "$work/real" "$here/resnet32_cifar10_lt.toml" --set "dataset.root=$work/cifar10"
run "$work/premade" "$here/premade.toml"
threads="$(threads_of "$work/real")"
# Debian's python3-torch starts with one OpenMP thread; torch.set_num_threads alone then runs
# far slower than with OMP_NUM_THREADS set before the import, so both are set. PY_MALLOC=1
# also gives Python the allocator settings tailor's trainer makes (host/engine/trainer.cpp).
python_side() {
  local env=(OMP_NUM_THREADS="$threads")
  if [[ "${PY_MALLOC:-0}" == 1 ]]; then
    env+=(MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824)
  fi
  env "${env[@]}" /usr/bin/python3 "$@"
}
py="$(python_side "$here/../common/torch_train.py" cifar --root "$work/cifar10" \
  --threads "$threads" --workers "$WORKERS" --steps "$STEPS" --eval)"
py_premade="$(python_side "$here/../common/torch_train.py" cifar --root "$work/cifar10" \
  --threads "$threads" --steps "$STEPS" --premade)"

t_train="$(timing "$work/real" train 2)"
t_premade="$(timing "$work/premade" train 2)"
t_eval="$(timing "$work/real" test)"
p_train="$(best "$py" train)"
p_premade="$(best "$py_premade" train)"
p_eval="$(best "$py" eval)"
echo "$py"
echo "tailor train $t_train img/s ($threads threads, $STEPS steps of 128); on pre-made tensors $t_premade img/s"
echo "tailor eval $t_eval img/s (10000 test images, batch 512)"
echo "ratio resnet32 cifar train: tailor / torch = $(ratio "$t_train" "$p_train")x (target >= 1.3x)"
echo "ratio resnet32 cifar eval: tailor / torch = $(ratio "$t_eval" "$p_eval")x (target >= 1.5x)"
awk -v r="$t_train" -v p="$t_premade" -v pr="$p_train" -v pp="$p_premade" 'BEGIN {
  printf "data pipeline share of step time: tailor %.1f%% (target <= 5%%), torch %.1f%%\n",
         100 * (1 - r / p), 100 * (1 - pr / pp) }'
