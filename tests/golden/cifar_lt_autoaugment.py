#!/usr/bin/env python3
"""Reference AutoAugment outputs for the cifar_lt dataset plugin, computed with torchvision.

The plugin implements torchvision's AutoAugment(AutoAugmentPolicy.CIFAR10) on uint8 CHW tensors
(tensor backend, NEAREST interpolation, fill None). This script records, from torchvision
itself: the CIFAR-10 policy table, the magnitude tables of _augmentation_space for two image
sizes, the output of every operation (torchvision.transforms.autoaugment._apply_op) at several
magnitudes and both signs on fixed uint8 images, and ToTensor + Normalize of every pixel value
with the CIFAR mean/std.

Run with Debian's /usr/bin/python3 (python3-torch, python3-torchvision);
writes data/cifar_lt_autoaugment.json.
"""
import json
import os

import numpy as np
import torch
import torchvision
from torchvision.transforms import AutoAugment, AutoAugmentPolicy, InterpolationMode
from torchvision.transforms import functional as F
from torchvision.transforms.autoaugment import _apply_op

HERE = os.path.dirname(os.path.abspath(__file__))
MEAN = [0.4914, 0.4822, 0.4465]
STD = [0.2023, 0.1994, 0.2010]
SIGNED = ["ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate", "Brightness", "Color",
          "Contrast", "Sharpness"]


def images():
    g = torch.Generator().manual_seed(0)
    # A textured image with a narrow range (so AutoContrast and Equalize have work to do).
    h, w = 12, 16
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    base = torch.stack([40 + 8 * xx + 3 * yy, 200 - 9 * yy - 2 * xx, 60 + 5 * ((xx * yy) % 17)])
    noise = torch.randint(-20, 21, (3, h, w), generator=g)
    textured = (base + noise).clamp(30, 220).to(torch.uint8)
    # A flat channel, a full-range channel and a two-valued channel: the degenerate branches.
    flat = torch.full((h, w), 77, dtype=torch.uint8)
    full = torch.randint(0, 256, (h, w), generator=g).to(torch.uint8)
    two = torch.where(torch.rand(h, w, generator=g) < 0.8, 10, 200).to(torch.uint8)
    degenerate = torch.stack([flat, full, two])
    cifar = torch.randint(0, 256, (3, 32, 32), generator=g).to(torch.uint8)
    return {"textured": textured, "degenerate": degenerate, "cifar": cifar}


def main():
    aa = AutoAugment(AutoAugmentPolicy.CIFAR10)
    policy = [[[name, p, m] for (name, p, m) in sub] for sub in aa.policies]

    magnitudes = {}
    for h, w in [(32, 32), (12, 16)]:
        space = aa._augmentation_space(10, (h, w))
        magnitudes[f"{h}x{w}"] = {
            name: [float(v) for v in mags.reshape(-1).tolist()] if mags.ndim > 0 else []
            for name, (mags, signed) in space.items()
        }

    imgs = images()
    cases = []

    def run(image_name, op, bin_, negative):
        img = imgs[image_name]
        h, w = img.shape[-2:]
        mags, _ = aa._augmentation_space(10, (h, w))[op]
        magnitude = float(mags[bin_].item()) if bin_ is not None else 0.0
        if negative:
            magnitude *= -1.0
        out = _apply_op(img.clone(), op, magnitude, interpolation=InterpolationMode.NEAREST, fill=None)
        assert out.dtype == torch.uint8 and out.shape == img.shape
        cases.append({"image": image_name, "op": op, "bin": bin_, "negative": negative,
                      "magnitude": magnitude, "out": out.contiguous().numpy().tobytes().hex()})

    for op in SIGNED:
        for bin_ in (3, 9):
            for negative in (False, True):
                run("textured", op, bin_, negative)
    for bin_ in (0, 5, 7, 9):
        run("textured", "Posterize", bin_, False)
    for bin_ in (0, 2, 3, 5, 8, 9):
        run("textured", "Solarize", bin_, False)
    for op in ("AutoContrast", "Equalize", "Invert"):
        run("textured", op, None, False)
    for op in ("AutoContrast", "Equalize", "Contrast", "Color", "Sharpness"):
        run("degenerate", op, None if op in ("AutoContrast", "Equalize") else 6, False)
    run("cifar", "TranslateX", 9, False)
    run("cifar", "TranslateY", 9, True)
    run("cifar", "ShearY", 8, False)
    run("cifar", "Rotate", 2, True)

    # ToTensor (uint8 HWC array -> float32 / 255) then Normalize, for every pixel value.
    values = np.repeat(np.arange(256, dtype=np.uint8).reshape(1, 256, 1), 3, axis=2)
    normalized = F.normalize(F.to_tensor(values), MEAN, STD)  # [3, 1, 256]
    lut = [[float(v) for v in normalized[c, 0].tolist()] for c in range(3)]

    out = {
        "generator": "tests/golden/cifar_lt_autoaugment.py (torch " + torch.__version__ +
                     ", torchvision " + torchvision.__version__ + ")",
        "policy": policy,
        "magnitudes": magnitudes,
        "images": {k: {"shape": list(v.shape), "data": v.contiguous().numpy().tobytes().hex()}
                   for k, v in imgs.items()},
        "cases": cases,
        "normalize": {"mean": MEAN, "std": STD, "lut": lut},
    }
    path = os.path.join(HERE, "data", "cifar_lt_autoaugment.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", path, len(cases), "cases")


if __name__ == "__main__":
    main()
