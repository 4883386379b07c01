#!/usr/bin/env bash
# method_out_of_tree: a method of this wave, the CMO batch mix, built as a user builds a new
# method: the host and the SDK are installed, the installed copy loses its own CMO plugin,
# plugins/batch_mixers/cmo is copied out of the tree and built by a separate CMake project
# against the installed SDK, and the installed host, unchanged byte for byte, trains with it.
# The run must really mix (its training losses differ from the same run with
# batch_mix.plugin = "none"), and a loss that cannot take mixed targets is refused by name. The
# head and batch-mix templates of sdk/templates/ build and pass their own tests the same way.
#
# usage: method_out_of_tree.sh <build dir> <source dir> [<c++ compiler> [<launcher>]]
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 <build dir> <source dir> [<c++ compiler> [<launcher>]]" >&2
  exit 2
fi
build_dir=$1
source_dir=$2
cxx=${3:-}
launcher=${4:-}

work=$(mktemp -d "${TMPDIR:-/tmp}/tailor-method.XXXXXX")
trap 'rm -rf "$work"' EXIT
log="$work/step.log"
step=""
fail() {
  echo "FAIL [$step]: $*" >&2
  [[ -s "$log" ]] && tail -n 60 "$log" >&2
  exit 1
}
begin() { step=$1; : >"$log"; }
pass() { echo "PASS [$step] $*"; }
quiet() {
  local what=$1
  shift
  "$@" >>"$log" 2>&1 || fail "$what (exit $?): $*"
}
unset TAILOR_PLUGIN_PATH

begin "a. install host, plugins and SDK"
prefix="$work/installed"
quiet "cmake --install failed" cmake --install "$build_dir" --prefix "$prefix"
tailor="$prefix/bin/tailor"
[[ -x "$tailor" ]] || fail "the install has no $tailor"
plugins="$prefix/lib/tailor/plugins"
[[ -f "$plugins/batch_mix_cmo.so" ]] || fail "the install has no $plugins/batch_mix_cmo.so"
# The method is not shipped with this host: only the out-of-tree build can provide it.
rm "$plugins/batch_mix_cmo.so"
host_sum=$(sha256sum "$tailor" | cut -d' ' -f1)
"$tailor" plugins describe cmo >"$log" 2>&1 && fail "the installed host still finds a cmo plugin"
pass "installed to $prefix without batch_mix_cmo.so"

begin "b. build plugins/batch_mixers/cmo out of tree"
project="$work/cmo_method"
mkdir -p "$project/cmo" "$project/common"
cp "$source_dir"/plugins/batch_mixers/cmo/{cmo.hpp,cmo.cpp,cmo_plugin.cpp,README.md} "$project/cmo/"
cp "$source_dir"/plugins/batch_mixers/common/*.hpp "$project/common/"
cat >"$project/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.16)
project(cmo_method LANGUAGES CXX)
find_package(TailorSDK 1 REQUIRED)
tailor_add_plugin(cmo KIND batch_mix SOURCES cmo/cmo.cpp cmo/cmo_plugin.cpp)
EOF
args=("-DCMAKE_PREFIX_PATH=$prefix")
[[ -n "$cxx" ]] && args+=("-DCMAKE_CXX_COMPILER=$cxx")
if [[ -n "$launcher" ]]; then
  args+=("-DCMAKE_CXX_COMPILER_LAUNCHER=$launcher")
  export CCACHE_BASEDIR="$work"
fi
quiet "configuring the method against the installed SDK failed" \
  cmake -S "$project" -B "$project/build" "${args[@]}"
quiet "building the method failed" cmake --build "$project/build" --parallel 2
so="$project/build/batch_mix_cmo.so"
[[ -f "$so" ]] || fail "the build produced no $so"
TAILOR_PLUGIN_PATH="$project/build" "$tailor" plugins describe cmo >"$log" 2>&1 ||
  fail "the installed host does not describe the out-of-tree cmo"
grep -q "(batch_mix)" "$log" || fail "describe does not call cmo a batch_mix plugin"
grep -q "$so" "$log" || fail "describe does not show the out-of-tree file $so"
pass "batch_mix_cmo.so built against the installed SDK; the installed host describes it"

begin "c. the installed host trains with it"
data="$work/data"
mkdir -p "$data"
quiet "writing the IDX fixture failed" python3 "$source_dir/tests/integration/make_idx_fixture.py" "$data"
exp="$work/cmo.toml"
cat >"$exp" <<EOF
[experiment]
name = "cmo_out_of_tree"
seed = 0

[plugins]
paths = ["$project/build"]

[dataset]
plugin = "idx_lt"
root = "$data"
class_names = []
imbalance_ratio = 5.0
val_per_class = 4
augment = "none"

[backbone]
plugin = "small_cnn"
width = 4

[loss]
plugin = "ce"

[batch_mix]
plugin = "cmo"
prob = 1.0
start_epoch = 0
end_epochs = 0

[train]
epochs = 2
batch_size = 16
workers = 1
EOF
quiet "tailor run with the out-of-tree cmo failed" "$tailor" run "$exp" --out "$work/mixed"
quiet "tailor run without mixing failed" \
  "$tailor" run "$exp" --out "$work/plain" --set batch_mix.plugin=none
grep -q 'plugin = .cmo.' "$work/mixed/config.resolved.toml" ||
  fail "config.resolved.toml of the mixed run has no [batch_mix] plugin = \"cmo\""
grep -q 'class_balanced' "$work/mixed/config.resolved.toml" ||
  fail "config.resolved.toml does not record the second stream's class_balanced sampler"
python3 - "$work/mixed" "$work/plain" >>"$log" 2>&1 <<'PY' || fail "the mixed run did not mix"
import json, math, sys
def losses(run):
    rows = [json.loads(l) for l in open(f"{run}/metrics.jsonl") if l.strip()]
    return [r["loss"] for r in rows if r.get("split") == "train"]
mixed, plain = losses(sys.argv[1]), losses(sys.argv[2])
assert len(mixed) == len(plain) == 2, (mixed, plain)
assert all(math.isfinite(v) for v in mixed), mixed
assert mixed != plain, f"train losses with and without cmo are equal: {mixed}"
print("train loss with cmo", mixed, "without", plain)
PY
[[ "$(sha256sum "$tailor" | cut -d' ' -f1)" == "$host_sum" ]] || fail "the installed host changed"
pass "2 epochs with cmo; train losses differ from the unmixed run; host unchanged"

begin "d. a loss without mixed targets is refused"
if "$tailor" validate "$exp" --set loss.plugin=focal >"$log" 2>&1; then
  fail "cmo with the focal loss was accepted"
fi
grep -q "batch mix 'cmo'" "$log" && grep -q "loss 'focal' cannot take mixed targets" "$log" ||
  fail "the refusal does not name the batch mix and the loss"
pass "cmo with focal refused: $(grep -o "loss 'focal' cannot take mixed targets" "$log")"

begin "e. the head and batch-mix templates build and pass their tests out of tree"
for kind in head batch_mix; do
  cp -R "$source_dir/sdk/templates/$kind" "$work/template_$kind"
  rm -rf "$work/template_$kind/build"
  quiet "configuring sdk/templates/$kind failed" \
    cmake -S "$work/template_$kind" -B "$work/template_$kind/build" "${args[@]}"
  quiet "building sdk/templates/$kind failed" cmake --build "$work/template_$kind/build" --parallel 2
  quiet "the test of sdk/templates/$kind failed" \
    ctest --test-dir "$work/template_$kind/build" --output-on-failure --no-tests=error
done
pass "sdk/templates/head and sdk/templates/batch_mix: built, tests passed"
