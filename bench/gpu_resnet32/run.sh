#!/usr/bin/env bash
# ResNet-32 on CIFAR-10-LT (synthetic CIFAR-10 in the binary format) on an NVIDIA GPU:
# training images/s of `tailor run` (fp32 eager; then bf16 + channels-last + CUDA graph) and
# of the same step in PyTorch Python (torch_gpu.py: eager fp32; eager bf16 + channels-last;
# and that with torch.compile(mode="max-autotune"), the strong anchor), same model, batch 128,
# augmentation and optimizer. Needs a CUDA build (scripts/cuda-build.sh) and a python3 whose
# torch sees the GPU; without one it prints a skip line and exits 0.
#   BUILD=build-cuda STEPS=300 bench/gpu_resnet32/run.sh
# DEVICE=cpu runs every step of the script on the CPU with tiny sizes (a check that it works,
# not a measurement): DEVICE=cpu BUILD=build STEPS=2 WORKERS=0 BATCH=16 bench/gpu_resnet32/run.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common/lib.sh"
DEVICE="${DEVICE:-cuda}"
BUILD="${BUILD:-build-cuda}"
TAILOR="${TAILOR:-$BUILD/host/tailor}"
PYTHON="${PYTHON:-python3}"
STEPS="${STEPS:-300}"
WORKERS="${WORKERS:-4,8,12}"
BATCH="${BATCH:-128}"
COMPILE_MODE="${COMPILE_MODE:-max-autotune}"
if [[ "$DEVICE" == cuda ]] &&
  ! "$PYTHON" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "gpu_resnet32: no CUDA GPU visible to $PYTHON; skipped"
  exit 0
fi
require_executable "$TAILOR" "build with scripts/cuda-build.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$PYTHON" "$here/../common/make_cifar.py" "$work/cifar10" cifar10

# Three epochs of STEPS steps (the CIFAR-10-LT train split has 96 full batches, so an epoch
# is capped by the split when STEPS is larger): the last one is timed.
run() {  # run <out> [--set ...]
  local out="$1"
  shift
  "$TAILOR" run "$here/../cifar_resnet32/resnet32_cifar10_lt.toml" --out "$out" \
    --set "experiment.device=$DEVICE" --set "dataset.root=$work/cifar10" --set train.epochs=3 \
    --set "train.max_steps_per_epoch=$STEPS" --set "train.batch_size=$BATCH" \
    --set train.workers=8 --set train.prefetch=8 \
    --set train.log_every=0 "$@" >/dev/null 2>&1 || { cat "$out/log.txt" >&2; exit 1; }
}
run "$work/fp32"
fast=(--set train.precision=bf16 --set train.channels_last=true --set train.cuda_graph=true)
run "$work/fast" "${fast[@]}"
# Where the crop/flip runs (loader threads on the CPU, or batched on the GPU), with the 8
# loader threads above and with 2.
run "$work/fast_dev" "${fast[@]}" --set train.augment_on=device
run "$work/fast_w2" "${fast[@]}" --set train.workers=2
run "$work/fast_dev_w2" "${fast[@]}" --set train.workers=2 --set train.augment_on=device
py="$("$PYTHON" "$here/torch_gpu.py" --root "$work/cifar10" --workers "$WORKERS" --steps "$STEPS" \
  --batch "$BATCH" --device "$DEVICE" --compile-mode "$COMPILE_MODE")"
echo "$py"
t_fp32="$(timing "$work/fp32" train 3)"
t_fast="$(timing "$work/fast" train 3)"
python_best() { echo "$py" | awk -v mode="$1" '$3 == mode && $4 == "best" {print $5}'; }
p_fp32="$(python_best fp32)"
p_amp="$(python_best bf16+channels_last)"
p_compiled="$(python_best compiled+bf16+channels_last)"
if [[ "$DEVICE" == cuda ]]; then
  gpu="$("$PYTHON" -c 'import torch; print(torch.cuda.get_device_name())')"
else
  gpu="cpu: DEVICE=cpu checks the script; these are not GPU figures"
fi
echo "tailor gpu fp32 $t_fp32 img/s; bf16+channels_last+cuda_graph $t_fast img/s ($gpu)"
for w in 8 2; do
  suffix=""
  [[ $w == 2 ]] && suffix="_w2"
  t_loader="$(timing "$work/fast$suffix" train 3)"
  t_device="$(timing "$work/fast_dev$suffix" train 3)"
  echo "tailor gpu fast, $w loader threads: augment_on loader $t_loader img/s, device $t_device img/s" \
    "(device / loader = $(ratio "$t_device" "$t_loader")x)"
done
if [[ -n "$p_compiled" ]]; then
  echo "ratio gpu resnet32 train: tailor fast / torch compiled bf16+channels_last = $(ratio "$t_fast" "$p_compiled")x (target >= 1.3x)"
else
  echo "ratio gpu resnet32 train: tailor fast / torch compiled bf16+channels_last = n/a (no torch.compile in $PYTHON)"
fi
echo "ratio gpu resnet32 train: tailor fast / torch eager fp32 = $(ratio "$t_fast" "$p_fp32")x (target >= 2x)"
echo "ratio gpu resnet32 train: tailor fast / torch eager bf16+channels_last = $(ratio "$t_fast" "$p_amp")x"
echo "ratio gpu resnet32 train: tailor fp32 / torch eager fp32 = $(ratio "$t_fp32" "$p_fp32")x"
