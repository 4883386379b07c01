#!/usr/bin/python3
"""The Python side of the loader thread-scaling table: a torch DataLoader with N worker
processes, each decoding with PIL and applying the ImageNet-LT training transform of
bench_pil.py (RandomResizedCrop(224), RandomHorizontalFlip, ColorJitter(0.4, 0.4, 0.4, 0),
ToTensor, Normalize), batches of --batch, as classifier-balancing's loader is written.

Reads the files listed in <dir>/files.txt. For each worker count in --workers it times
--seconds of batches after a warm-up (every worker has delivered two batches) and prints
`torch loader <N> workers <img/s> img/s`. run.sh pins the whole process tree to N cores, as
bench_image_pipeline's `scaling` gets N cores for N loader threads.
"""
import argparse
import pathlib
import time

import torch
import torchvision.transforms as T
from PIL import Image

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


class Files(torch.utils.data.Dataset):
    """The listed images, cycled so that an epoch never ends during a measurement."""

    def __init__(self, files, transform):
        self.files, self.transform = files, transform

    def __len__(self):
        return 1 << 30

    def __getitem__(self, i):
        with open(self.files[i % len(self.files)], "rb") as f:
            img = Image.open(f).convert("RGB")
        return self.transform(img), 0


def loader_rate(dataset, workers, batch, seconds):
    parallel = dict(persistent_workers=True, prefetch_factor=4) if workers > 0 else {}
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch, num_workers=workers,
                                         **parallel)
    it = iter(loader)
    for _ in range(2 * max(1, workers)):
        next(it)
    images, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        x, _ = next(it)
        images += len(x)
    rate = images / (time.perf_counter() - start)
    del it, loader
    return rate


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    files = [line.strip() for line in open(pathlib.Path(args.dir) / "files.txt") if line.strip()]
    train = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(),
                       T.ColorJitter(0.4, 0.4, 0.4, 0.0), T.ToTensor(), T.Normalize(MEAN, STD)])
    dataset = Files(files, train)
    for workers in [int(w) for w in args.workers.split(",")]:
        rate = loader_rate(dataset, workers, args.batch, args.seconds)
        print(f"torch loader {workers} workers {rate:.1f} img/s", flush=True)


if __name__ == "__main__":
    main()
