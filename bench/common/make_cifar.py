#!/usr/bin/python3
"""Writes a synthetic CIFAR-10 or CIFAR-100 in the binary version's layout (what the cifar_lt
plugin reads): cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin with records of
<label><3072 pixel bytes>, or cifar-100-binary/{train,test}.bin with <coarse><fine><pixels>.
50,000 train images (balanced classes, shuffled) and 10,000 test images of random pixels.

  make_cifar.py OUT_DIR cifar10|cifar100
"""
import pathlib
import sys

import numpy as np


def records(labels, label_bytes, rng):
    out = np.empty((len(labels), label_bytes + 3072), dtype=np.uint8)
    if label_bytes == 2:
        out[:, 0] = labels // 5  # a coarse label in 0..19
    out[:, label_bytes - 1] = labels
    out[:, label_bytes:] = rng.integers(0, 256, (len(labels), 3072), dtype=np.uint8)
    return out


def main():
    out, variant = pathlib.Path(sys.argv[1]), sys.argv[2]
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    classes = 100 if variant == "cifar100" else 10
    train = rng.permutation(np.arange(50000) % classes).astype(np.uint8)
    test = rng.permutation(np.arange(10000) % classes).astype(np.uint8)
    if variant == "cifar100":
        records(train, 2, rng).tofile(out / "train.bin")
        records(test, 2, rng).tofile(out / "test.bin")
    else:
        for b in range(5):
            records(train[b * 10000:(b + 1) * 10000], 1, rng).tofile(out / f"data_batch_{b + 1}.bin")
        records(test, 1, rng).tofile(out / "test_batch.bin")


if __name__ == "__main__":
    main()
