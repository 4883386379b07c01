#!/usr/bin/env bash
# Ensure the Debian 12 (bookworm) packages needed to build and test tailor are
# installed. Only missing packages are installed; when everything is present
# this is a fast no-op. Set TAILOR_SKIP_DEPS=1 to skip the check entirely.
set -euo pipefail

PACKAGES="g++ make cmake ccache git pkg-config libtorch-dev libboost-dev \
libtomlplusplus-dev libspdlog-dev libfmt-dev catch2 libcli11-dev \
nlohmann-json3-dev zlib1g-dev dataset-fashion-mnist python3 binutils file \
libjpeg62-turbo-dev libssl-dev libsimdjson-dev libavformat-dev libavcodec-dev \
libswscale-dev libavutil-dev ffmpeg libgloo-dev libprotobuf-dev protobuf-compiler \
python3-protobuf python3-crc32c chromium clang libclang-rt-dev python3-torch"
# Extra packages from the command line: `make bench` adds the Python side of the benchmarks.
PACKAGES="$PACKAGES $*"

if [[ "${TAILOR_SKIP_DEPS:-0}" == "1" ]]; then
  echo "install-deps: TAILOR_SKIP_DEPS=1, skipping dependency check"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive

missing=()
for pkg in $PACKAGES; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ "$(id -u)" -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "install-deps: error: missing packages: ${missing[*]}" >&2
  echo "install-deps: not root and sudo is not available; run as root:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing missing packages: ${missing[*]}"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"
echo "install-deps: done"
