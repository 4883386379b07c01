#!/usr/bin/env python3
"""Writes a tiny, learnable MNIST-style dataset in gzipped IDX format for the tests.

Class c draws a bright horizontal bar at a class-specific row on a noisy background, so a
small CNN separates the classes within an epoch or two. Plain python3 (no numpy).
usage: make_idx_fixture.py DIR [SIZE] [TRAIN_PER_CLASS] [TEST_PER_CLASS] [CLASSES]
"""
import gzip
import os
import random
import struct
import sys


def images(labels, size, rng):
    out = bytearray()
    classes = max(labels) + 1
    for label in labels:
        row = 1 + label * (size - 2) // classes
        for y in range(size):
            for x in range(size):
                v = rng.randrange(0, 60)
                if abs(y - row) <= 0 and 1 <= x < size - 1:
                    v = 200 + rng.randrange(0, 55)
                out.append(v)
    return bytes(out)


def write(path, magic, dims, payload):
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">I", magic))
        for d in dims:
            f.write(struct.pack(">I", d))
        f.write(payload)


def main():
    out = sys.argv[1]
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    per_train = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    per_test = int(sys.argv[4]) if len(sys.argv) > 4 else 10
    classes = int(sys.argv[5]) if len(sys.argv) > 5 else 10
    rng = random.Random(1234)
    os.makedirs(out, exist_ok=True)
    for name, per in (("train", per_train), ("t10k", per_test)):
        labels = [c for _ in range(per) for c in range(classes)]
        write(os.path.join(out, name + "-images-idx3-ubyte.gz"), 2051, (len(labels), size, size),
              images(labels, size, rng))
        write(os.path.join(out, name + "-labels-idx1-ubyte.gz"), 2049, (len(labels),), bytes(labels))


if __name__ == "__main__":
    main()
