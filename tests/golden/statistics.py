#!/usr/bin/env python3
"""Reference values for tailor's comparison statistics (docs/statistics.md).

Independent of the C++ code: Student-t intervals from SciPy's t distribution, quantiles from
NumPy's default (linear) rule, Holm's step-down adjustment written from its definition
(Holm 1979), and the paired bootstrap written from the text of docs/statistics.md (its
splitmix64 stream, draw order, metrics and p-value) in plain Python. Writes
tests/golden/data/statistics.json; needs python3-scipy and python3-numpy.
"""
import json
import math
import os

import numpy as np
from scipy import stats

HERE = os.path.dirname(os.path.abspath(__file__))
MASK = (1 << 64) - 1


def t_ppf(p, dof):
    """SciPy's t quantile, polished by Newton steps on SciPy's t CDF: SciPy 1.10's ppf is
    off by up to ~1e-9 (t_{0.9, 29}: its own CDF gives p - 5.6e-10), its CDF is not."""
    x = stats.t.ppf(p, dof)
    for _ in range(3):
        x -= (stats.t.cdf(x, dof) - p) / stats.t.pdf(x, dof)
    return float(x)


def t_interval_cases():
    rng = np.random.RandomState(7)
    samples = [
        [0.8437, 0.8512, 0.8369],
        [0.6785, 0.6931, 0.6655, 0.7012, 0.6702],
        [0.5, 0.5],
        list(rng.normal(0.75, 0.02, size=12)),
        [0.91],
    ]
    out = []
    for x in samples:
        x = [float(v) for v in x]
        n = len(x)
        case = {"values": x, "level": 0.95, "n": n, "mean": float(np.mean(x))}
        if n >= 2:
            sd = float(np.std(x, ddof=1))
            half = t_ppf(0.975, n - 1) * sd / math.sqrt(n)
            low, high = np.mean(x) - half, np.mean(x) + half
            if sd > 0:  # SciPy's own interval agrees (it refuses a zero scale)
                ref = stats.t.interval(0.95, n - 1, loc=np.mean(x), scale=sd / math.sqrt(n))
                assert abs(ref[0] - low) < 1e-8 and abs(ref[1] - high) < 1e-8
            case.update(sd=sd, low=float(low), high=float(high), t975=t_ppf(0.975, n - 1))
        out.append(case)
    # Other levels and degrees of freedom of the quantile itself.
    quantiles = [{"p": p, "dof": d, "value": t_ppf(p, d)}
                 for p in (0.975, 0.995, 0.9, 0.025) for d in (1, 2, 4, 29)]
    return out, quantiles


def quantile_cases():
    rng = np.random.RandomState(11)
    x = sorted(float(v) for v in rng.normal(size=17))
    return [{"sorted": x, "q": q, "value": float(np.quantile(x, q))}
            for q in (0.0, 0.025, 0.5, 0.975, 1.0, 0.3333)]


def holm_reference(p):
    """Holm (1979): sort ascending, adjusted p_(k) = max_{j<=k} min(1, (m-j+1) p_(j))."""
    tests = [i for i, v in enumerate(p) if v is not None]
    tests.sort(key=lambda i: p[i])
    m = len(tests)
    adjusted = [None] * len(p)
    running = 0.0
    for k, i in enumerate(tests):
        running = max(running, min(1.0, (m - k) * p[i]))
        adjusted[i] = running
    return adjusted


def holm_cases():
    cases = [
        [0.01, 0.04, 0.03, 0.005],
        [0.2, 0.001, None, 0.04, 0.049],
        [0.5],
        [0.0005, 0.0005, 0.9],
    ]
    return [{"p": p, "adjusted": holm_reference(p)} for p in cases]


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def index(self, n):
        return (self.next() * n) >> 64


def run_metrics(labels, correct, group, weights, classes):
    """top-1, mean class recall, many, medium, few of one run on weighted samples."""
    hits = [0] * classes
    support = [0] * classes
    for y, c, w in zip(labels, correct, weights):
        support[y] += w
        hits[y] += w * c
    total = sum(support)
    recall_sum, measured = 0.0, 0
    gsum, gcount = [0.0, 0.0, 0.0], [0, 0, 0]
    for c in range(classes):  # in class order, as docs/statistics.md sums them
        if support[c] == 0:
            continue
        r = hits[c] / support[c]
        recall_sum += r
        measured += 1
        gsum[group[c]] += r
        gcount[group[c]] += 1
    nan = float("nan")
    out = [sum(hits) / total if total else nan, recall_sum / measured if measured else nan]
    out += [gsum[g] / gcount[g] if gcount[g] else nan for g in range(3)]
    return out


def mean_difference(picks, row, base, m):
    s, count = 0.0, 0
    for k in picks:
        a, b = row[k][m], base[k][m]
        if math.isnan(a) or math.isnan(b):
            continue
        s += a - b
        count += 1
    return s / count if count else float("nan")


def bootstrap(labels, runs, groups, row, base, classes, replicates, seed, level=0.95):
    n = len(labels)
    ones = [1] * n
    obs = {r: run_metrics(labels, runs[r], groups[r], ones, classes) for r in set(row + base)}
    pairs = len(row)
    est = [mean_difference(range(pairs), [obs[r] for r in row], [obs[r] for r in base], m)
           for m in range(5)]
    rng = SplitMix64(seed)
    draws = [[] for _ in range(5)]
    for _ in range(replicates):
        picks = [rng.index(pairs) for _ in range(pairs)]
        w = [0] * n
        for _ in range(n):
            w[rng.index(n)] += 1
        rep = {r: run_metrics(labels, runs[r], groups[r], w, classes) for r in set(row + base)}
        for m in range(5):
            d = mean_difference(picks, [rep[r] for r in row], [rep[r] for r in base], m)
            if not math.isnan(d):
                draws[m].append(d)
    result = []
    for m in range(5):
        v = sorted(draws[m])
        if math.isnan(est[m]) or not v:
            result.append(None)
            continue
        extreme = sum(1 for x in v if abs(x - est[m]) >= abs(est[m]))
        alpha = 1 - level
        result.append({"estimate": est[m], "pairs": sum(
            1 for k in range(pairs)
            if not (math.isnan(obs[row[k]][m]) or math.isnan(obs[base[k]][m]))),
            "low": float(np.quantile(v, alpha / 2)), "high": float(np.quantile(v, 1 - alpha / 2)),
            "p": (1 + extreme) / (len(v) + 1)})
    return result


def bootstrap_case():
    rng = np.random.RandomState(3)
    classes, n = 7, 240
    labels = [int(v) for v in rng.randint(0, classes, size=n)]
    labels[5] = 6  # class 6 is rare: a few test samples only
    group = [0, 0, 1, 1, 1, 2, 2]
    skill = {"base": 0.62, "better": 0.70, "same": 0.62}
    runs, groups, names = [], [], []
    for name, p in skill.items():
        for seed in range(3):
            runs.append([int(v) for v in rng.rand(n) < p + 0.03 * (seed - 1)])
            groups.append(group)
            names.append(f"{name}/seed{seed}")
    base = [0, 1, 2]
    rows = {"better": [3, 4, 5], "same": [6, 7, 8], "better_two_pairs": [3, 4]}
    replicates, seed = 300, 12345
    expected = {}
    for key, row in rows.items():
        b = base[:len(row)]
        expected[key] = {"row": row, "baseline": b,
                         "differences": bootstrap(labels, runs, groups, row, b, classes,
                                                  replicates, seed)}
    first = SplitMix64(seed)
    return {"classes": classes, "labels": labels, "runs": runs, "groups": groups,
            "names": names, "replicates": replicates, "seed": seed, "rows": expected,
            "splitmix64_first": [str(first.next()) for _ in range(4)],
            "observed": [run_metrics(labels, r, g, [1] * n, classes)
                         for r, g in zip(runs, groups)]}


def main():
    t_cases, t_quantiles = t_interval_cases()
    out = {"generator": "tests/golden/statistics.py",
           "t_intervals": t_cases, "t_quantiles": t_quantiles,
           "quantiles": quantile_cases(), "holm": holm_cases(), "bootstrap": bootstrap_case()}
    path = os.path.join(HERE, "data", "statistics.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1, allow_nan=False)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
