#!/usr/bin/env python3
"""Reference values for tailor's calibration metrics (host/eval/metrics.hpp).

Independent of the C++ code: the temperature minimising the mean NLL of softmax(z / T) found
by SciPy's bounded scalar minimiser (to 1e-12 in log T), and the expected calibration error
over equal-width bins (j/B, (j+1)/B] written from its definition with PyTorch, overall and
per shot group (the group of the true class). Writes tests/golden/data/calibration.json;
needs python3-torch and python3-scipy.
"""
import json
import math
import os

import torch
from scipy import optimize

HERE = os.path.dirname(os.path.abspath(__file__))


def ece(confidence, correct, bins):
    total = confidence.numel()
    if total == 0:
        return None
    idx = (torch.ceil(confidence.double() * bins).long() - 1).clamp(0, bins - 1)
    gap = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            gap += abs(confidence[m].double().sum().item() - correct[m].double().sum().item())
    return gap / total


def fit_temperature(logits, targets):
    z = logits.double()

    def nll(log_t):
        return torch.nn.functional.cross_entropy(z / math.exp(log_t), targets).item()

    r = optimize.minimize_scalar(nll, bounds=(math.log(0.05), math.log(20.0)), method="bounded",
                                 options={"xatol": 1e-12})
    return math.exp(r.x)


def case(name, seed, n, counts, sharpness, bias):
    g = torch.Generator().manual_seed(seed)
    c = len(counts)
    targets = torch.randint(0, c, (n,), generator=g)
    # Over- or under-confident logits: a noisy true-class bump times `sharpness`.
    logits = torch.randn(n, c, generator=g) + bias * torch.nn.functional.one_hot(targets, c)
    logits = (sharpness * logits).float()
    t = fit_temperature(logits, targets)
    groups = [0 if k > 100 else 2 if k < 20 else 1 for k in counts]
    prob = torch.softmax(logits / t, 1)  # float32, as the evaluator computes it
    confidence, pred = prob.max(1)
    correct = pred == targets
    group_of = torch.tensor(groups)[targets]
    out = {"name": name, "class_counts": counts, "bins": 15,
           "logits": logits.tolist(), "targets": targets.tolist(), "temperature": t,
           "ece_ts": ece(confidence, correct, 15)}
    for gi, gname in enumerate(["many", "medium", "few"]):
        m = group_of == gi
        out[f"{gname}_ece_ts"] = ece(confidence[m], correct[m], 15)
    return out


def main():
    cases = [
        case("overconfident", 1, 300, [500, 200, 60, 30, 10], 4.0, 1.0),
        case("underconfident", 2, 250, [150, 150, 50, 5], 0.3, 2.0),
        case("no_few_group", 3, 200, [400, 90, 40], 1.5, 1.2),
    ]
    path = os.path.join(HERE, "data", "calibration.json")
    with open(path, "w") as f:
        json.dump({"cases": cases}, f, indent=1)
        f.write("\n")
    for c in cases:
        print(c["name"], c["temperature"], c["ece_ts"])


if __name__ == "__main__":
    main()
