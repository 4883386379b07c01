#!/usr/bin/env bash
# Says whether the Python torch installation that scripts/cuda-build.sh builds against brings
# nvJPEG: the library and header in the nvidia-* wheels (what a C++ image plugin would link),
# and torchvision's GPU decode_jpeg (what the Python side of run.sh uses). Prints findings only.
#   PYTHON=python3 bench/gpu_imagenet/probe_nvjpeg.sh
set -uo pipefail
PYTHON="${PYTHON:-python3}"
"$PYTHON" - <<'PY'
import glob, os, sys
try:
    import torch
except ImportError:
    sys.exit("probe_nvjpeg: no torch in this python")
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, GPU visible: {torch.cuda.is_available()}")
roots = [os.path.dirname(os.path.dirname(torch.__file__))]
found = []
for root in roots:
    for pattern in ("nvidia/*/lib/libnvjpeg.so*", "nvidia/*/include/nvjpeg.h", "torch/lib/libnvjpeg*",
                    "torchvision.libs/libnvjpeg*", "torchvision/libnvjpeg*"):
        found += glob.glob(os.path.join(root, pattern))
print("nvJPEG files beside torch:", ", ".join(sorted(found)) if found else "none")
cuda_home = os.environ.get("CUDA_HOME", "/usr/local/cuda")
header = glob.glob(os.path.join(cuda_home, "include", "nvjpeg.h"))
print(f"nvjpeg.h in {cuda_home}:", header[0] if header else "none")
try:
    import torchvision
    from torchvision.io import decode_jpeg, encode_jpeg
    print(f"torchvision {torchvision.__version__}: decode_jpeg present")
    if torch.cuda.is_available():
        try:
            decode_jpeg(encode_jpeg(torch.zeros(3, 8, 8, dtype=torch.uint8)), device="cuda")
            print("torchvision decode_jpeg(device='cuda'): works")
        except Exception as e:  # noqa: BLE001
            print(f"torchvision decode_jpeg(device='cuda'): fails: {e}")
    else:
        print("torchvision decode_jpeg(device='cuda'): not tried (no GPU)")
except ImportError:
    print("torchvision: not installed")
PY
