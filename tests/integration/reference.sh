#!/usr/bin/env bash
# reference_conformance: the CI-sized comparison of tailor with the independent PyTorch loop
# of tests/reference/train.py (docs/conformance.md): CE, one seed, 2 epochs of 20 steps on
# Fashion-MNIST-LT. Fails if the two loops train on different splits, either stays near
# chance, or their test top-1 differ by more than 15 points; keeps train.py from rotting.
set -euo pipefail
tailor="$1"
src="$2"
py=/usr/bin/python3  # Debian's, with python3-torch
if ! "$py" -c 'import torch, numpy' 2>/dev/null; then
  echo "FAIL: $py cannot import torch; install python3-torch (scripts/install-deps.sh does)" >&2
  exit 1
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/tailor-reference.XXXXXX")"
trap 'rm -rf "$work"' EXIT
OMP_NUM_THREADS=1 "$py" "$src/tests/reference/conformance.py" --tailor "$tailor" --methods ce \
  --seeds 1 --jobs 1 --quick --out "$work"
