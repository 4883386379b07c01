# Helpers sourced by the benchmarks' run.sh scripts.

# require_executable <path> <how to build it>: exits with a message when <path> is not an
# executable file.
require_executable() {
  if [[ ! -x "$1" ]]; then
    echo "$(basename "$(dirname "$0")"): $1 not found; $2" >&2
    exit 1
  fi
}

# timing <run dir> <split> [epoch]: images_per_s of the last (or the given epoch's) record of
# that split in timing.jsonl.
timing() {
  /usr/bin/python3 - "$1/timing.jsonl" "$2" "${3:-0}" <<'PY'
import json, sys
path, split, epoch = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = [json.loads(l) for l in open(path) if l.strip()]
rows = [r for r in rows if r.get("split", "train") == split and (epoch == 0 or r["epoch"] == epoch)]
print(f"{rows[-1]['images_per_s']:.1f}")
PY
}

# threads_of <run dir>: the intra-op thread count the run logged.
threads_of() {
  sed -n 's/.*using \([0-9]*\) intra-op thread.*/\1/p' "$1/log.txt" | head -1
}

# best <python output> <train|eval>: the best Python rate.
best() {
  echo "$1" | awk -v what="$2" '$1 == "torch" && $2 == what && $3 == "best" {print $4}'
}

# ratio <a> <b>: a / b with two decimals.
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'
}

# tailor_run <out> <toml> [--set ...]: two epochs of STEPS steps of `$TAILOR run` (the first
# warms up, the second is timed in timing.jsonl), then the test pass.
tailor_run() {
  local out="$1" toml="$2"
  shift 2
  TAILOR_PLUGIN_PATH="$BUILD/bench/common/plugins" "$TAILOR" run "$toml" --out "$out" \
    --set experiment.device=cpu --set train.epochs=2 --set "train.max_steps_per_epoch=$STEPS" \
    "$@" >/dev/null 2>&1 || { cat "$out/log.txt" >&2; exit 1; }
}

# python_side <threads> <script args...>: /usr/bin/python3 with OMP_NUM_THREADS set. Debian's
# python3-torch starts with one OpenMP thread, and torch.set_num_threads alone then runs far
# slower than with the variable set before the import. PY_MALLOC=1 also gives Python the
# allocator settings tailor's trainer makes (host/engine/trainer.cpp).
python_side() {
  local env=(OMP_NUM_THREADS="$1")
  shift
  if [[ "${PY_MALLOC:-0}" == 1 ]]; then
    env+=(MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824)
  fi
  env "${env[@]}" /usr/bin/python3 "$@"
}

# compare_training <label> <train target> <real run dir> <premade run dir> <torch_train.py
# args...>: runs the Python side NCHW (as the field's code is written), channels-last (tailor's
# default) and on pre-made tensors, then prints tailor's rates, the ratios and the data
# pipeline shares.
compare_training() {
  local label="$1" target="$2" real="$3" premade="$4"
  shift 4
  local threads script
  threads="$(threads_of "$real")"
  script="$(dirname "${BASH_SOURCE[0]}")/torch_train.py"
  local py py_cl py_premade
  py="$(python_side "$threads" "$script" "$@" --threads "$threads" --workers "$WORKERS" --eval)"
  py_cl="$(python_side "$threads" "$script" "$@" --threads "$threads" --workers "$WORKERS" --eval \
    --channels-last)"
  py_premade="$(python_side "$threads" "$script" "$@" --threads "$threads" --premade)"
  local t_train t_premade t_eval
  t_train="$(timing "$real" train 2)"
  t_premade="$(timing "$premade" train 2)"
  t_eval="$(timing "$real" test)"
  echo "$py" | sed 's/^torch /torch (NCHW) /'
  echo "$py_cl" | sed 's/^torch /torch (channels-last) /'
  echo "tailor train $t_train img/s ($threads threads, $STEPS steps of 128); on pre-made tensors $t_premade img/s"
  echo "tailor eval $t_eval img/s (10000 test images, batch 512)"
  local what
  for what in train eval; do
    local t want
    [[ $what == train ]] && t="$t_train" want="$target" || t="$t_eval" want=1.5
    echo "ratio $label $what: tailor / torch = $(ratio "$t" "$(best "$py" "$what")")x (target >= ${want}x);" \
      "vs torch channels-last $(ratio "$t" "$(best "$py_cl" "$what")")x"
  done
  awk -v r="$t_train" -v p="$t_premade" -v pr="$(best "$py" train)" \
    -v pp="$(best "$py_premade" train)" 'BEGIN {
    printf "data pipeline share of step time: tailor %.1f%% (target <= 5%%), torch %.1f%%\n",
           100 * (1 - r / p), 100 * (1 - pr / pp) }'
}
