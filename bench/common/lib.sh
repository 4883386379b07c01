# Helpers sourced by the training benchmarks' run.sh scripts.

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
