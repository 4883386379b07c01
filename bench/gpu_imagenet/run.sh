#!/usr/bin/env bash
# ResNet-50 and ResNeXt-50 (32x4d) training on ImageNet-LT-shaped data on an NVIDIA GPU, end
# to end from JPEG files: images/s of `tailor run` (image_list via the imagenet_lt preset,
# bf16 + channels-last + CUDA graph) against torch_imagenet.py (DataLoader, torchvision
# transforms, bf16 autocast, channels-last, torch.compile max-autotune; and with nvJPEG
# decoding on the GPU), each side pinned to N cores for N in CORES, with GPU utilisation and
# the loader-alone rate of both sides at N cores, which say which side is loader-bound.
# Needs a CUDA build with the benchmarks and a python3 whose torch sees the GPU:
#   scripts/cuda-build.sh build-cuda -DTAILOR_BUILD_BENCH=ON
#   BUILD=build-cuda bench/gpu_imagenet/run.sh     [COUNT=20000 STEPS=100 WARMUP=30 BATCH=256
#     CORES="16 4" MODELS="resnet50 resnext50_32x4d" WORKERS=<list> COMPILE_MODE=max-autotune]
# DEVICE=cpu runs every step on the CPU with tiny sizes (a check that the script works, not a
# measurement); see README.md for the command.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common/lib.sh"
DEVICE="${DEVICE:-cuda}"
BUILD="${BUILD:-build-cuda}"
TAILOR="${TAILOR:-$BUILD/host/tailor}"
BENCH="${BENCH:-$BUILD/bench/image_pipeline/bench_image_pipeline}"
PYTHON="${PYTHON:-python3}"
COUNT="${COUNT:-20000}"
STEPS="${STEPS:-100}"
WARMUP="${WARMUP:-30}"
BATCH="${BATCH:-256}"
SIZE="${SIZE:-224}"
CORES="${CORES:-16 4}"
MODELS="${MODELS:-resnet50 resnext50_32x4d}"
COMPILE_MODE="${COMPILE_MODE:-max-autotune}"
SECONDS_EACH="${SECONDS_EACH:-10}"
GPU_INDEX="${GPU_INDEX:-0}"
if [[ "$DEVICE" == cuda ]] &&
  ! "$PYTHON" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "gpu_imagenet: no CUDA GPU visible to $PYTHON; skipped"
  exit 0
fi
require_executable "$TAILOR" "build it with scripts/cuda-build.sh (or BUILD=build for DEVICE=cpu)"
require_executable "$BENCH" "configure with -DTAILOR_BUILD_BENCH=ON and build bench_image_pipeline"
work="$(mktemp -d)"
sampler=""
trap '[[ -n "$sampler" ]] && kill "$sampler" 2>/dev/null; rm -rf "$work"' EXIT
data="$work/imagenet_lt"
"$BENCH" imagenet_lt "$data" "$COUNT" 500x375,800x600 "$(nproc)"

gpu_sampling() { [[ "$DEVICE" == cuda ]] && command -v nvidia-smi >/dev/null 2>&1; }

# sample_gpu <run dir> <file>: every 100 ms, the number of records in timing.jsonl and the
# GPU's utilisation; samples taken while one record exists fall in the timed second epoch.
sample_gpu() {
  while :; do
    local n=0
    [[ -f "$1/timing.jsonl" ]] && n="$(grep -c . "$1/timing.jsonl" || true)"
    echo "$n $(nvidia-smi -i "$GPU_INDEX" --query-gpu=utilization.gpu --format=csv,noheader,nounits)"
    sleep 0.1
  done >"$2"
}

# tailor_side <out> <n cores> <model> : two epochs of STEPS steps pinned to cores 0..n-1, n
# loader threads; prints images/s of the second epoch and its mean GPU utilisation.
tailor_side() {
  local out="$1" n="$2" model="$3" shape=()
  [[ "$model" == resnext50_32x4d ]] && shape=(--set backbone.groups=32 --set backbone.width_per_group=4)
  if gpu_sampling; then
    sample_gpu "$out" "$out.gpu" &
    sampler=$!
  fi
  taskset -c "0-$((n - 1))" "$TAILOR" run "$here/resnet50_imagenet_lt.toml" --out "$out" \
    --set "experiment.device=$DEVICE" --set "dataset.root=$data" --set "dataset.list_dir=$data" \
    --set "dataset.image_size=$SIZE" --set train.epochs=2 --set "train.max_steps_per_epoch=$STEPS" \
    --set "train.batch_size=$BATCH" --set "train.workers=$n" --set train.prefetch=8 \
    --set train.precision=bf16 --set train.channels_last=true --set train.cuda_graph=true \
    "${shape[@]}" >/dev/null 2>&1 || {
    [[ -n "$sampler" ]] && kill "$sampler" 2>/dev/null
    cat "$out/log.txt" >&2
    exit 1
  }
  local busy="n/a"
  if [[ -n "$sampler" ]]; then
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
    sampler=""
    busy="$(awk '$1 == 1 && $2 ~ /^[0-9.]+$/ {s += $2; k++} END {if (k) printf "%.0f%%", s / k; else print "n/a"}' "$out.gpu")"
  fi
  echo "$(timing "$out" train 2) $busy"
}

# bottleneck <end to end> <loader alone> <gpu busy> [loader wait %]: which resource sets the pace.
bottleneck() {
  awk -v e="$1" -v l="$2" -v b="${3%\%}" -v w="${4:-0}" 'BEGIN {
    if (e >= 0.9 * l || w >= 10) print "loader-bound";
    else if (b != "n/a" && b >= 90) print "GPU-bound";
    else print "neither (host or launch overhead)" }'
}

py_field() {  # py_field <python output> <mode> <field after "best">: the best run's numbers
  echo "$1" | awk -v mode="$2" '$4 == mode && $5 == "best" {print $6}'
}
py_line() {  # py_line <python output> <mode> <img/s>: the run line with that rate
  echo "$1" | awk -v mode="$2" -v r="$3" '$4 == mode && $5 == r {print; exit}'
}

echo "gpu_imagenet: $COUNT JPEGs (500x375 and 800x600), batch $BATCH, ${SIZE}px, $STEPS steps," \
  "device $DEVICE$([[ "$DEVICE" == cuda ]] && echo " ($("$PYTHON" -c 'import torch; print(torch.cuda.get_device_name())'))")"
[[ "$DEVICE" == cpu ]] && echo "gpu_imagenet: DEVICE=cpu checks the script; these are not GPU figures"
for n in $CORES; do
  if ((n > $(nproc))); then
    echo "gpu_imagenet $n cores: skipped (only $(nproc) cores)"
    continue
  fi
  cpus=(taskset -c "0-$((n - 1))")
  workers="${WORKERS:-$(printf '%s\n' $((n / 2)) $((3 * n / 4)) "$n" | awk '$1 > 0' | sort -nu | paste -sd,)}"
  # The loaders alone at n cores (training transform at SIZE, batches of BATCH).
  t_loader="$("${cpus[@]}" "$BENCH" scaling "$data" "$SECONDS_EACH" --threads "$n" --batch "$BATCH" |
    awk '{print $(NF-1)}')"
  p_loader="$("${cpus[@]}" /usr/bin/python3 "$here/../image_pipeline/bench_dataloader.py" "$data" \
    --workers "$n" --batch "$BATCH" --seconds "$SECONDS_EACH" | awk '{print $(NF-1)}')"
  echo "loader alone, $n cores: tailor $t_loader img/s, torch DataLoader ($n workers) $p_loader img/s"
  for model in $MODELS; do
    result="$(tailor_side "$work/tailor_${model}_$n" "$n" "$model")"
    read -r t_rate t_busy <<<"$result"
    py="$("${cpus[@]}" "$PYTHON" "$here/torch_imagenet.py" --root "$data" --model "$model" \
      --workers "$workers" --steps "$STEPS" --warmup "$WARMUP" --batch "$BATCH" --size "$SIZE" --device "$DEVICE" \
      --compile-mode "$COMPILE_MODE")"
    echo "$py"
    echo "tailor imagenet $model $n cores: $t_rate img/s (gpu busy $t_busy, $n loader threads)"
    echo "bottleneck $model $n cores: tailor $(bottleneck "$t_rate" "$t_loader" "$t_busy")"
    for mode in compiled nvjpeg; do
      p="$(py_field "$py" "$mode")"
      if [[ -z "$p" ]]; then
        echo "ratio gpu imagenet $model $n cores: tailor / torch $mode = n/a (unavailable)"
        continue
      fi
      line="$(py_line "$py" "$mode" "$p")"
      wait_pct="$(echo "$line" | sed -n 's/.*loader wait \([0-9]*\)%.*/\1/p')"
      busy="$(echo "$line" | sed -n 's/.*gpu busy \([0-9n/a%]*\),.*/\1/p')"
      ceiling="$p_loader"
      [[ "$mode" == nvjpeg ]] && ceiling=1e30  # its workers only read files
      echo "bottleneck $model $n cores: torch $mode $(bottleneck "$p" "$ceiling" "$busy" "$wait_pct")"
      echo "ratio gpu imagenet $model $n cores: tailor / torch $mode = $(ratio "$t_rate" "$p")x" \
        "$([[ "$mode" == compiled ]] && echo "(target >= 1.3x)")"
    done
  done
done
