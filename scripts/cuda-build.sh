#!/usr/bin/env bash
# Builds tailor against the CUDA LibTorch inside a Python `torch` package, on a machine with
# no package registry: the other dependencies come from the folder that
# scripts/gather-deps.sh filled (carry it along). The CPU build is untouched by this.
#   scripts/cuda-build.sh [BUILD_DIR]     (default build-cuda; DEPS=deps, PYTHON=python3)
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
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_STANDARD="$std" -DCMAKE_PREFIX_PATH="$prefix;$deps/usr" \
  -DTAILOR_BUILD_TESTS="${TESTS:-OFF}" -DTAILOR_SKIP_PLUGINS="$skip" "${@:2}"
cmake --build "$build" -j"$(nproc)"
echo "cuda-build: $build/host/tailor (C++$std, LibTorch from $prefix)"
