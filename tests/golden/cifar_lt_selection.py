#!/usr/bin/env python3
"""Reference CIFAR-LT selections for the cifar_lt dataset plugin, computed with NumPy.

The selection is LDAM-DRW's (kaidic/LDAM-DRW: imbalance_cifar.py, gen_imbalanced_data):
np.random.seed(seed); for each class c in ascending order: idx = np.where(targets == c)[0];
np.random.shuffle(idx); keep idx[:n_c], with n_c = int(img_max * imb_factor ** (c / (C - 1.0)))
and img_max = len(targets) / C. The label vectors are small stand-ins for the CIFAR train file
in a fixed interleaved order that the C++ test rebuilds from the same formula.

Also recorded: raw draws of the legacy RandomState (32-bit words, and randint over a range
wider than 32 bits, which exercises the 64-bit branch of random_interval).

Run with Debian's /usr/bin/python3 (python3-numpy); writes data/cifar_lt_selection.json.
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def labels_of(num_classes, per_class):
    """Position p holds label (7 p + p // C) % C: every run of C positions has each class once."""
    n = num_classes * per_class
    return np.array([(7 * p + p // num_classes) % num_classes for p in range(n)], dtype=np.int64)


def ldam_counts(num_images, num_classes, imb_factor):
    img_max = num_images / num_classes
    return [int(img_max * (imb_factor ** (i / (num_classes - 1.0)))) for i in range(num_classes)]


def ldam_selection(targets, num_classes, imb_factor, seed):
    np.random.seed(seed)
    counts = ldam_counts(len(targets), num_classes, imb_factor)
    selected = []
    for the_class, the_img_num in zip(np.unique(targets), counts):
        idx = np.where(targets == the_class)[0]
        np.random.shuffle(idx)
        selected.extend(int(i) for i in idx[:the_img_num])
    return counts, selected


def main():
    cases = []
    for num_classes, per_class, rho, seed in [(10, 60, 10, 0), (10, 60, 10, 12345),
                                              (100, 12, 10, 0)]:
        targets = labels_of(num_classes, per_class)
        counts, selected = ldam_selection(targets, num_classes, 1.0 / rho, seed)
        cases.append({
            "name": f"c{num_classes}_n{per_class}_rho{rho}_seed{seed}",
            "num_classes": num_classes,
            "per_class": per_class,
            "imbalance_ratio": rho,
            "seed": seed,
            "labels": [int(t) for t in targets],
            "counts": counts,
            "selected": selected,
        })

    draws = {}
    rs = np.random.RandomState(0)
    draws["uint32_seed0"] = [int(v) for v in rs.randint(0, 2**32, size=5, dtype=np.uint64)]
    rs = np.random.RandomState(7)
    draws["interval_2pow40_seed7"] = [int(v) for v in rs.randint(0, 2**40, size=5, dtype=np.int64)]
    rs = np.random.RandomState(4294967295)
    draws["permutation10_seed4294967295"] = [int(v) for v in rs.permutation(10)]

    out = {
        "generator": "tests/golden/cifar_lt_selection.py (NumPy " + np.__version__ + ")",
        "cases": cases,
        "draws": draws,
    }
    path = os.path.join(HERE, "data", "cifar_lt_selection.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
