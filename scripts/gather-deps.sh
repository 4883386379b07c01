#!/usr/bin/env bash
# Gathers every build dependency except LibTorch and the compiler into one folder, for a
# machine that has no package registry (e.g. a GPU machine whose LibTorch comes with a
# Python `torch` package). Run it here, carry the folder there, then:
#
#   cmake -S . -B build-cuda \
#     -DCMAKE_PREFIX_PATH="$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)');$PWD/deps/usr"
#
# The header-only libraries (TOML++, spdlog/fmt headers, nlohmann-json, CLI11, Catch2, the
# parts of Boost that Boost.DLL includes) are copied with their CMake package files; the few
# compiled ones (spdlog, fmt, libjpeg-turbo, zlib, libcrypto, simdjson) with their shared
# objects, which the build then finds through its RPATH. FFmpeg's libraries are not carried
# (their codec dependencies are large): the egtea plugin is skipped where they are missing.
# Nor is Protocol Buffers: such a build writes no TensorBoard event files.
# usage: scripts/gather-deps.sh [DEST]   (default: deps; the folder is git-ignored)
set -euo pipefail
dest="${1:-deps}"
arch="$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)"

# Whole packages: headers, CMake/pkg-config files and shared objects.
packages="libtomlplusplus-dev libtomlplusplus3 nlohmann-json3-dev libcli11-dev catch2 libspdlog-dev libspdlog1.10
libfmt-dev libfmt9 libjpeg62-turbo-dev libjpeg62-turbo zlib1g-dev libssl-dev libssl3
libsimdjson-dev libsimdjson14"

rm -rf "$dest"
mkdir -p "$dest"
copied=0
for pkg in $packages; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    echo "gather-deps: $pkg is not installed here (make deps installs the build dependencies)" >&2
    exit 1
  fi
  while IFS= read -r f; do
    case "$f" in
      /usr/include/* | /usr/lib/"$arch"/* | /usr/lib/lib* | /usr/lib/cmake/* | /usr/share/cmake/* | \
        /usr/share/pkgconfig/* | /usr/lib/pkgconfig/*) ;;
      *) continue ;;
    esac
    [[ -f "$f" || -L "$f" ]] || continue
    mkdir -p "$dest$(dirname "$f")"
    cp -a "$f" "$dest$f"
    copied=$((copied + 1))
  done < <(dpkg -L "$pkg")
done
# libssl3 also ships engines and providers that the build does not use.
rm -rf "$dest/usr/lib/$arch/engines-3" "$dest/usr/lib/$arch/ossl-modules"
rm -f "$dest/usr/lib/$arch/"*.a  # static archives: the build links the shared objects

# Boost: only the headers that Boost.DLL pulls in (the full tree is ~150 MB), and the CMake
# package files of the header-only Boost target.
probe="$(mktemp --suffix=.cpp)"
trap 'rm -f "$probe"' EXIT
printf '#include <vector>\n#include <boost/dll/library_info.hpp>\n#include <boost/dll/shared_library.hpp>\n#include <boost/crc.hpp>\n#include <boost/math/distributions/students_t.hpp>\n' > "$probe"
g++ -std=c++17 -DBOOST_DLL_USE_STD_FS -M "$probe" | tr ' \\' '\n\n' | grep '^/usr/include/boost/' |
  sort -u | while read -r h; do
    mkdir -p "$dest$(dirname "$h")"
    cp "$h" "$dest$h"
  done
for d in /usr/lib/"$arch"/cmake/Boost-* /usr/lib/"$arch"/cmake/boost_headers-* \
         /usr/lib/"$arch"/cmake/BoostDetectToolset-*; do
  [[ -d "$d" ]] && mkdir -p "$dest/usr/lib/$arch/cmake" && cp -a "$d" "$dest/usr/lib/$arch/cmake/"
done
echo "gather-deps: $copied package files and $(find "$dest/usr/include/boost" -type f | wc -l) Boost headers in $dest ($(du -sh "$dest" | cut -f1))"
