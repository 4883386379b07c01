#!/usr/bin/env bash
# Builds tailor against the CUDA LibTorch inside a Python `torch` package, on a machine with
# no package registry: the other dependencies come from the folder that
# scripts/gather-deps.sh filled (carry it along). The CPU build is untouched by this.
#   scripts/cuda-build.sh [BUILD_DIR] [CMAKE_ARGS...]
#     (default build-cuda; DEPS=deps, PYTHON=python3, TESTS=ON also builds the tests,
#      TARGETS="a b" builds only those targets)
set -euo pipefail
build="${1:-build-cuda}"
deps="$(cd "${DEPS:-deps}" && pwd)"
python="${PYTHON:-python3}"
prefix="$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')"
include="$("$python" -c 'import torch.utils.cpp_extension as c; print(c.include_paths()[0])')"
# Newer LibTorch headers refuse C++17; use the oldest standard they accept.
std=17
if grep -rqs "__cplusplus < 202002L" "$include/c10/macros" "$include/ATen/ATen.h"; then std=20; fi
skip=""
if ! pkg-config --exists libavformat libavcodec libswscale libavutil 2>/dev/null; then
  skip="datasets/egtea"  # FFmpeg's libraries are not carried (see gather-deps.sh)
fi
# PyTorch's wheels export copies of some libstdc++ functions from libtorch.so (among them
# std::filesystem::remove_all, which crashes when our code calls that copy). Linking the
# shared libstdc++ by path ahead of every other library binds those calls to libstdc++ at
# link time and puts it first in the dynamic linker's search order at run time.
stdcxx="$("${CXX:-c++}" -print-file-name=libstdc++.so.6)"
[[ -f "$stdcxx" ]] || stdcxx="$(ldconfig -p | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')"
[[ -f "$stdcxx" ]] || { echo "cuda-build: libstdc++.so.6 not found" >&2; exit 1; }
stdcxx_first="-Wl,--push-state,--no-as-needed,$stdcxx,--pop-state"
# The carried headers' multiarch folder goes ahead of the system's: a system libjpeg of
# another ABI (Ubuntu's libjpeg 8) would otherwise lend the carried jpeglib.h (libjpeg 6.2)
# its jconfig.h, and the struct sizes would not match the library linked.
multiarch=""
for d in "$deps"/usr/include/*-linux-gnu; do [[ -d "$d" ]] && multiarch="-isystem $d"; done
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_STANDARD="$std" -DCMAKE_PREFIX_PATH="$prefix;$deps/usr" \
  -DCMAKE_CXX_FLAGS="$multiarch" -DCMAKE_EXE_LINKER_FLAGS="$stdcxx_first" \
  -DCMAKE_SHARED_LINKER_FLAGS="$stdcxx_first" -DCMAKE_MODULE_LINKER_FLAGS="$stdcxx_first" \
  -DTAILOR_BUILD_TESTS="${TESTS:-OFF}" -DTAILOR_SKIP_PLUGINS="$skip" "${@:2}"
cmake --build "$build" -j"$(nproc)" ${TARGETS:+--target $TARGETS}
echo "cuda-build: $build/host/tailor (C++$std, LibTorch from $prefix)"
