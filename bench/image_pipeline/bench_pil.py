#!/usr/bin/python3
"""The image pipeline of bench_image_pipeline in Python: PIL + torchvision, one process.

Reads the files listed in <dir>/files.txt with torchvision's default loader (PIL, convert to
RGB) and applies the ImageNet-LT recipe of classifier-balancing: RandomResizedCrop(224),
RandomHorizontalFlip, ColorJitter(0.4, 0.4, 0.4, 0), ToTensor, Normalize for training;
Resize(256), CenterCrop(224), ToTensor, Normalize for evaluation. Prints images/s on one
thread. With --compare, also compares its evaluation outputs of the first 16 images with the
C++ pipeline's (bench_image_pipeline pipeline ... --dump FILE).
"""
import argparse
import pathlib
import time

import numpy as np
import torch
import torchvision.transforms as T
from PIL import Image

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def load(path):
    # torchvision.datasets.folder.pil_loader
    with open(path, "rb") as f:
        img = Image.open(f)
        return img.convert("RGB")


def throughput(files, transform, seconds):
    done, start = 0, time.perf_counter()
    while done < len(files) or time.perf_counter() - start < seconds:
        transform(load(files[done % len(files)]))
        done += 1
    return done / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dir")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--compare", nargs="*", default=[],
                        help="float32 dumps of the C++ evaluation outputs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    files = [line.strip() for line in open(pathlib.Path(args.dir) / "files.txt") if line.strip()]
    train = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(),
                       T.ColorJitter(0.4, 0.4, 0.4, 0.0), T.ToTensor(), T.Normalize(MEAN, STD)])
    evaluate = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(MEAN, STD)])
    throughput(files[:20], train, 0.0)  # warm-up
    print(f"pil train {throughput(files, train, args.seconds):.1f} img/s")
    print(f"pil eval {throughput(files, evaluate, args.seconds):.1f} img/s")
    for dump in args.compare:
        cpp = np.fromfile(dump, dtype=np.float32).reshape(-1, 3, 224, 224)
        ours = np.stack([evaluate(load(f)).numpy() for f in files[: len(cpp)]])
        diff = np.abs(ours - cpp) * np.array(STD, dtype=np.float32)[None, :, None, None] * 255
        print(f"eval |pil - cpp| ({len(cpp)} images, in 8-bit levels): "
              f"max {diff.max():.2f}, mean {diff.mean():.4f}, "
              f"identical {np.mean(diff < 1e-3) * 100:.2f}%")

if __name__ == "__main__":
    main()
