#!/usr/bin/env bash
# sdk_out_of_tree: an out-of-tree loss plugin (sdk/template) and its unit test are built by a
# separate CMake project against the installed SDK and its test kit, without rebuilding the
# host; the test passes, and the already-built host trains with the plugin, both from a
# generated experiment and from the template's own example.toml. A LibTorch other than the
# SDK's is refused at configure time, and so is a missing test kit.
#
# usage: out_of_tree.sh <build dir> <source dir> <tailor executable> [<c++ compiler> [<launcher>]]
set -euo pipefail

if [[ $# -lt 3 ]]; then
  echo "usage: $0 <build dir> <source dir> <tailor executable> [<c++ compiler> [<launcher>]]" >&2
  exit 2
fi
build_dir=$1
source_dir=$2
tailor=$3
cxx=${4:-}
launcher=${5:-}

work=$(mktemp -d "${TMPDIR:-/tmp}/tailor-oot.XXXXXX")
trap 'rm -rf "$work"' EXIT
log="$work/step.log"

step=""
fail() {
  echo "FAIL [$step]: $*" >&2
  if [[ -s "$log" ]]; then
    echo "---- last output of the failing step ----" >&2
    tail -n 60 "$log" >&2
  fi
  exit 1
}
begin() { step=$1; : >"$log"; }
pass() { echo "PASS [$step] $*"; }
# Runs a command with its output in $log; fails the step with `what` when it fails.
quiet() {
  local what=$1
  shift
  "$@" >>"$log" 2>&1 || fail "$what (exit $?): $*"
}

cmake_args=()
[[ -n "$cxx" ]] && cmake_args+=("-DCMAKE_CXX_COMPILER=$cxx")
if [[ -n "$launcher" ]]; then
  cmake_args+=("-DCMAKE_CXX_COMPILER_LAUNCHER=$launcher")
  # Absolute paths under $work become relative in ccache's hash, so reruns of this test
  # (each in a fresh temp dir) hit the cache.
  export CCACHE_BASEDIR="$work"
fi
unset TAILOR_PLUGIN_PATH

step=setup
[[ -x "$tailor" ]] || fail "host executable $tailor is missing; build target 'tailor' first"
[[ -d "$source_dir/sdk/template" ]] || fail "$source_dir/sdk/template not found"
# The host as built before this test; step e checks that nothing rewrote it.
host_sum_before=$(sha256sum "$tailor" | cut -d' ' -f1)
host_mtime_before=$(stat -c %Y "$tailor")

# ---------------------------------------------------------------------------------------
begin "a. install SDK"
prefix="$work/prefix"
# The sdk/ subdirectory of the build tree installs exactly the SDK: headers, the CMake
# package and tailor_add_plugin().
quiet "cmake --install of the SDK failed" cmake --install "$build_dir/sdk" --prefix "$prefix"
config=$(find "$prefix" -name TailorSDKConfig.cmake -print -quit)
[[ -n "$config" ]] || fail "no TailorSDKConfig.cmake under $prefix"
pkg=$(dirname "$config")
for f in TailorSDKConfig.cmake TailorSDKConfigVersion.cmake TailorSDKTargets.cmake \
         TailorPlugin.cmake TailorFingerprint.cmake tailor_plugin.map; do
  [[ -f "$pkg/$f" ]] || fail "installed SDK lacks $f (looked in $pkg)"
done
for h in abi.h plugin.hpp components.hpp options.hpp testing.hpp testing/options.hpp \
         testing/loss_context.hpp testing/gradient_check.hpp testing/readme_table.hpp; do
  [[ -f "$prefix/include/tailor/$h" ]] || fail "installed SDK lacks include/tailor/$h"
done
for f in TailorTestingTargets.cmake TailorTesting.cmake; do
  [[ -f "$pkg/$f" ]] || fail "installed SDK lacks the test kit's $f (looked in $pkg)"
done
[[ -n "$(find "$prefix" -name libtailor_testing.a -print -quit)" ]] ||
  fail "installed SDK lacks the test kit's library libtailor_testing.a"
pass "SDK and test kit installed to $prefix"

# ---------------------------------------------------------------------------------------
begin "b. record host"
# `plugins inspect` prints the host's fingerprint marker even for a file it refuses.
"$tailor" plugins inspect /dev/null >"$log" 2>&1 || true
host_marker=$(sed -n 's/^host fingerprint marker: \(tailor_fp_v1_[0-9a-f]\{16\}\)$/\1/p' "$log")
[[ -n "$host_marker" ]] ||
  fail "'tailor plugins inspect' printed no 'host fingerprint marker: tailor_fp_v1_...'"
sdk_marker=$(sed -n 's/^ *TAILOR_FINGERPRINT_MARKER "\(tailor_fp_v1_[0-9a-f]*\)"$/\1/p' \
  "$pkg/TailorSDKTargets.cmake")
[[ "$sdk_marker" == "$host_marker" ]] ||
  fail "the installed SDK records marker '$sdk_marker' but the host expects '$host_marker'"
pass "host sha256 ${host_sum_before:0:16}..., host and installed SDK agree on marker $host_marker"

# ---------------------------------------------------------------------------------------
begin "c. build template out of tree"
cp -R "$source_dir/sdk/template" "$work/template"
rm -rf "$work/template/build"
t0=$(date +%s)
quiet "configuring the template against the installed SDK failed" \
  cmake -S "$work/template" -B "$work/template/build" \
  "-DCMAKE_PREFIX_PATH=$prefix" ${cmake_args[@]+"${cmake_args[@]}"}
quiet "building the template failed" cmake --build "$work/template/build" --parallel 2
so="$work/template/build/focal_example.so"
[[ -f "$so" ]] || fail "the template build produced no $so"
exports=$(nm -D --defined-only "$so" | awk 'NF >= 3 {print $3}' | sort)
expected=$(printf '%s\n' "$host_marker" tailor_plugin_v1 | sort)
if [[ "$exports" != "$expected" ]]; then
  fail "focal_example.so must export exactly tailor_plugin_v1 and $host_marker; it exports:
$exports"
fi
[[ -x "$work/template/build/test_focal_example" ]] ||
  fail "the template build produced no test_focal_example (tailor_add_plugin_test)"
pass "focal_example.so and test_focal_example built in $(($(date +%s) - t0)) s;" \
  "the .so exports only tailor_plugin_v1 and $host_marker"

# ---------------------------------------------------------------------------------------
begin "c2. template's test passes, and its README check is live"
quiet "the template's test failed" \
  ctest --test-dir "$work/template/build" --output-on-failure --no-tests=error
grep -qE 'test_focal_example \.+ +Passed' "$log" || fail "ctest did not run test_focal_example"
# The README check reads the template's README.md: a drifted default must fail it by name.
readme="$work/template/README.md"
cp "$readme" "$work/README.orig"
sed -i 's/^| `gamma` | float | `2.0`   |/| `gamma` | float | `3.0`   |/' "$readme"
cmp -s "$readme" "$work/README.orig" && fail "could not edit the gamma row of $readme"
if "$work/template/build/test_focal_example" >"$log" 2>&1; then
  fail "test_focal_example passed with a README whose gamma default is 3.0"
fi
grep -q "default is '3.0', the schema says '2.0'" "$log" ||
  fail "the README check did not name the drifted default"
cp "$work/README.orig" "$readme"
pass "ctest: test_focal_example passed; a drifted README default fails it by name"

# ---------------------------------------------------------------------------------------
begin "d. host loads and trains with it"
"$tailor" plugins inspect "$so" >"$log" 2>&1 || fail "'tailor plugins inspect' refused the plugin"
grep -q '^verdict: compatible' "$log" || fail "'tailor plugins inspect' did not say compatible"
pass "plugins inspect: compatible"

plugin_dir=$(dirname "$so")
TAILOR_PLUGIN_PATH="$plugin_dir" "$tailor" plugins describe focal_example >"$log" 2>&1 ||
  fail "'tailor plugins describe focal_example' with TAILOR_PLUGIN_PATH failed"
grep -q 'gamma (float) = 2.0' "$log" || fail "describe does not list 'gamma (float) = 2.0'"
pass "plugins describe via TAILOR_PLUGIN_PATH lists gamma (float) = 2.0"

# A tiny gzipped IDX fixture in the MNIST layout: 10 classes, 20 train and 5 test images
# per class, 28x28 uint8, with a class-dependent bright band plus noise.
data="$work/data"
mkdir -p "$data"
quiet "writing the IDX fixture failed" python3 - "$data" <<'PY'
import gzip, random, struct, sys
root = sys.argv[1]
rng = random.Random(0)
def write(split, per_class):
    labels = [c for _ in range(per_class) for c in range(10)]
    pixels = bytearray()
    for c in labels:
        for r in range(28):
            for col in range(28):
                band = 2 * c + 4 <= r < 2 * c + 8
                pixels.append(min(255, (160 if band else 0) + rng.randrange(64)))
    with gzip.open(f"{root}/{split}-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, len(labels), 28, 28) + bytes(pixels))
    with gzip.open(f"{root}/{split}-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">II", 0x801, len(labels)) + bytes(labels))
write("train", 20)
write("t10k", 5)
PY

exp="$work/exp.toml"
cat >"$exp" <<EOF
[experiment]
name = "sdk_out_of_tree"
seed = 0

[plugins]
paths = ["$plugin_dir"]

[dataset]
plugin = "idx_lt"
root = "$data"
train_images = "train-images-idx3-ubyte.gz"
train_labels = "train-labels-idx1-ubyte.gz"
test_images = "t10k-images-idx3-ubyte.gz"
test_labels = "t10k-labels-idx1-ubyte.gz"
class_names = []
imbalance_ratio = 2.0
val_per_class = 2

[backbone]
plugin = "small_cnn"
width = 4

[loss]
plugin = "focal_example"

[train]
epochs = 1
batch_size = 16
workers = 1
EOF

# The option's constraint is enforced: gamma < 0 is refused before training.
if "$tailor" validate "$exp" --set loss.gamma=-1 >"$log" 2>&1; then
  fail "'tailor validate --set loss.gamma=-1' succeeded; gamma >= 0 must be enforced"
fi
grep -q 'gamma' "$log" || fail "the refusal of gamma = -1 does not name gamma"
pass "gamma = -1 refused"

run="$work/run"
t0=$(date +%s)
"$tailor" run "$exp" --out "$run" >"$log" 2>&1 ||
  fail "'tailor run' with the out-of-tree loss failed"
for f in summary.json metrics.jsonl config.resolved.toml; do
  [[ -s "$run/$f" ]] || fail "the run directory lacks $f"
done
# The [loss] table of the resolved config (up to the next table header).
loss_table=$(awk '/^\[/ {in_loss = ($0 == "[loss]")} in_loss' "$run/config.resolved.toml")
# (The writer may quote strings either way: "focal_example" or 'focal_example'.)
grep -qE "^plugin = [\"']focal_example[\"']\$" <<<"$loss_table" ||
  fail "config.resolved.toml [loss] lacks plugin = \"focal_example\":
$loss_table"
grep -qx 'gamma = 2.0' <<<"$loss_table" ||
  fail "config.resolved.toml [loss] lacks the default gamma = 2.0:
$loss_table"
# One train line with a finite focal loss, plus val and test lines; summary.json parses.
python3 - "$run" >>"$log" 2>&1 <<'PY' ||
  fail "metrics.jsonl or summary.json is not what a finished run writes"
import json, math, sys
run = sys.argv[1]
rows = [json.loads(line) for line in open(f"{run}/metrics.jsonl") if line.strip()]
train = [r for r in rows if r.get("split") == "train"]
assert train, f"no train line in metrics.jsonl: {rows}"
for r in train:
    loss = r.get("loss")
    assert isinstance(loss, (int, float)) and math.isfinite(loss), f"train loss not finite: {r}"
assert {"val", "test"} <= {r.get("split") for r in rows}, "metrics.jsonl lacks val or test lines"
json.load(open(f"{run}/summary.json"))
PY
pass "tailor run trained 1 epoch in $(($(date +%s) - t0)) s;" \
  "run dir has summary.json, metrics.jsonl, config.resolved.toml"

# ---------------------------------------------------------------------------------------
begin "d2. the template's example.toml, as a user runs it"
# From the template folder, with nothing but the file: its [plugins] paths = ["build"] finds
# the plugin, its dataset is the Debian package dataset-fashion-mnist.
t0=$(date +%s)
(cd "$work/template" && "$tailor" run example.toml) >"$log" 2>&1 ||
  fail "'tailor run example.toml' in the template folder failed"
example_run=$(find "$work/template/runs" -name metrics.jsonl -printf '%h\n' -quit 2>/dev/null)
[[ -n "$example_run" ]] || fail "'tailor run example.toml' wrote no metrics.jsonl under runs/"
[[ -s "$example_run/summary.json" ]] || fail "the example run directory lacks summary.json"
grep -q '"split": *"train"' "$example_run/metrics.jsonl" ||
  fail "the example run's metrics.jsonl has no train line"
pass "tailor run example.toml trained 1 epoch in $(($(date +%s) - t0)) s"

# ---------------------------------------------------------------------------------------
begin "e. host not rebuilt"
host_sum_after=$(sha256sum "$tailor" | cut -d' ' -f1)
[[ "$host_sum_after" == "$host_sum_before" ]] || fail "the host binary changed during the test"
[[ "$(stat -c %Y "$tailor")" == "$host_mtime_before" ]] ||
  fail "the host binary was rewritten during the test"
pass "host binary unchanged (sha256 and mtime)"

# ---------------------------------------------------------------------------------------
begin "f. mismatched LibTorch refused at configure time"
fake="$work/fake-torch"
mkdir -p "$fake"
cat >"$fake/TorchConfigVersion.cmake" <<'EOF'
set(PACKAGE_VERSION 9.9.0)
set(PACKAGE_VERSION_COMPATIBLE TRUE)
if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
  set(PACKAGE_VERSION_EXACT TRUE)
endif()
EOF
cat >"$fake/TorchConfig.cmake" <<'EOF'
# A stand-in for a LibTorch other than the one tailor was built against.
set(Torch_VERSION 9.9.0)
set(TORCH_LIBRARY "${CMAKE_CURRENT_LIST_DIR}/libtorch_fake.so.9.9")
set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=1")
if(NOT TARGET torch)
  add_library(torch INTERFACE IMPORTED)
endif()
set(TORCH_LIBRARIES torch)
set(TORCH_INCLUDE_DIRS "")
set(Torch_FOUND TRUE)
EOF
if cmake -S "$work/template" -B "$work/template/build-fake" "-DCMAKE_PREFIX_PATH=$prefix" \
     "-DTorch_DIR=$fake" ${cmake_args[@]+"${cmake_args[@]}"} >"$log" 2>&1; then
  fail "configuring against a fake LibTorch 9.9 succeeded; tailor_add_plugin must refuse it"
fi
grep -q 'LibTorch mismatch' "$log" || fail "configure failed, but without 'LibTorch mismatch'"
grep -q '9.9:libtorch_fake.so.9.9:cpu' "$log" ||
  fail "the mismatch message does not name the LibTorch found"
pass "configure with a fake LibTorch 9.9 failed with 'LibTorch mismatch'"

# ---------------------------------------------------------------------------------------
begin "g. a missing test kit is named at configure time"
mv "$pkg/TailorTestingTargets.cmake" "$work/TailorTestingTargets.cmake"
if cmake -S "$work/template" -B "$work/template/build-nokit" "-DCMAKE_PREFIX_PATH=$prefix" \
     ${cmake_args[@]+"${cmake_args[@]}"} >"$log" 2>&1; then
  fail "configuring the template's test without the installed test kit succeeded"
fi
grep -q "component 'testing' (the plugin test kit) is not available" "$log" ||
  fail "configure failed, but without naming the missing test kit"
quiet "configuring the plugin alone (-DBUILD_TESTING=OFF) without the test kit failed" \
  cmake -S "$work/template" -B "$work/template/build-nokit" "-DCMAKE_PREFIX_PATH=$prefix" \
  -DBUILD_TESTING=OFF ${cmake_args[@]+"${cmake_args[@]}"}
mv "$work/TailorTestingTargets.cmake" "$pkg/TailorTestingTargets.cmake"
pass "without the kit: the test's configure names it; -DBUILD_TESTING=OFF configures"

echo "PASS sdk_out_of_tree"
