#!/usr/bin/env python3
"""tailor against the independent loop of tests/reference/train.py (docs/conformance.md).

Runs every method with tailor (`tailor sweep` over experiments/fashion_mnist_lt/) and with
train.py over the same seeds, then reports, per method, each side's test top-1 and few-shot
recall at the epoch of best val top-1 as mean ± 95 % Student-t interval over seeds, and the
difference of the means with Welch's 95 % interval and Welch's t-test p-value,
Holm-adjusted across every comparison in the table (* where it is below 0.05; needs SciPy). Reruns resume: finished runs on either side are kept.

    python3 tests/reference/conformance.py --tailor build/host/tailor --seeds 5 \
        --out runs/conformance --markdown conformance_table.md

--quick is the CI check: one method, one seed, a few steps per epoch; it fails unless both
loops train on the same split and both reach a sane accuracy.
"""
import argparse
import concurrent.futures
import csv
import json
import math
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
EXPERIMENTS = {"ce": "ce", "ldam_drw": "ldam_drw", "cb_focal": "cb_focal",
               "balanced_softmax": "balanced_softmax", "cdb": "cdb_dynamic", "crt": "crt"}
# Student-t 0.975 quantiles for 1..30 degrees of freedom (SciPy's t.ppf).
T975 = [12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
        2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
        2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423]


def t975(dof):
    try:
        from scipy import stats
        return float(stats.t.ppf(0.975, dof))
    except ImportError:
        return T975[min(max(int(round(dof)), 1), 30) - 1]


def interval(values):
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, float("nan"), 0.0
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, t975(n - 1) * math.sqrt(var / n), var


def welch(a, b):
    """Difference of means a - b with Welch's 95 % interval half-width."""
    ma, _, va = interval(a)
    mb, _, vb = interval(b)
    se2 = va / len(a) + vb / len(b)
    if len(a) < 2 or len(b) < 2 or se2 == 0:
        return ma - mb, float("nan")
    dof = se2 ** 2 / ((va / len(a)) ** 2 / (len(a) - 1) + (vb / len(b)) ** 2 / (len(b) - 1))
    return ma - mb, t975(dof) * math.sqrt(se2)


def welch_p(a, b):
    """Two-sided Welch t-test p-value; None without SciPy or with fewer than 2 runs a side."""
    try:
        from scipy import stats
    except ImportError:
        return None
    if len(a) < 2 or len(b) < 2:
        return None
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def holm(pvalues):
    """Holm's step-down adjustment; None entries stay None and are not counted."""
    known = sorted((p, i) for i, p in enumerate(pvalues) if p is not None)
    adjusted, running = [None] * len(pvalues), 0.0
    for rank, (p, i) in enumerate(known):
        running = max(running, min(1.0, (len(known) - rank) * p))
        adjusted[i] = running
    return adjusted


def run_tailor(args, methods):
    files = [os.path.join(SOURCE, "experiments", "fashion_mnist_lt", EXPERIMENTS[m] + ".toml")
             for m in methods]
    cmd = [args.tailor, "sweep", *files, "--seeds", str(args.seeds), "--jobs", str(args.jobs),
           "--out", os.path.join(args.out, "tailor")]
    if args.quick:
        cmd += ["--max-epochs", str(args.epochs), "--set", f"train.max_steps_per_epoch={args.max_steps}"]
    print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True)


def tailor_result(args, method, seed):
    run = os.path.join(args.out, "tailor", EXPERIMENTS[method], f"seed{seed}")
    with open(os.path.join(run, "summary.json")) as f:
        s = json.load(f)
    test = s["best_on_val"]["test"]
    with open(os.path.join(run, "per_class.csv")) as f:
        counts = [int(row["train_count"]) for row in csv.DictReader(f)]
    return {"top1": test["top1"], "few": test["few"]["accuracy"], "train_counts": counts}


def run_reference(args, method, seed):
    out = os.path.join(args.out, "reference", f"{method}_seed{seed}.json")
    if not os.path.exists(out):
        cmd = [sys.executable, os.path.join(HERE, "train.py"), "--method", method, "--seed",
               str(seed), "--out", out]
        if args.quick:
            cmd += ["--epochs", str(args.epochs), "--max-steps", str(args.max_steps)]
        subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    with open(out) as f:
        r = json.load(f)
    return {"top1": r["test"]["top1"], "few": r["test"]["few"], "train_counts": r["train_counts"]}


def cell(values):
    mean, half, _ = interval(values)
    if math.isnan(half):
        return f"{100 * mean:.2f}"
    return f"{100 * mean:.2f} ± {100 * half:.2f}"


def main(argv):
    p = argparse.ArgumentParser(description="tailor against tests/reference/train.py")
    p.add_argument("--tailor", required=True, help="the tailor binary")
    p.add_argument("--methods", default=",".join(EXPERIMENTS), help="comma-separated")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--jobs", type=int, default=2, help="runs at a time, on each side")
    p.add_argument("--out", required=True, help="work directory (resumable)")
    p.add_argument("--markdown", help="write the table here")
    p.add_argument("--quick", action="store_true", help="the CI check (see above)")
    p.add_argument("--epochs", type=int, default=2, help="--quick: epochs")
    p.add_argument("--max-steps", type=int, default=20, help="--quick: steps per epoch")
    args = p.parse_args(argv)
    methods = args.methods.split(",")
    for m in methods:
        if m not in EXPERIMENTS:
            p.error(f"unknown method '{m}'; choose from {', '.join(EXPERIMENTS)}")
    os.makedirs(os.path.join(args.out, "reference"), exist_ok=True)

    run_tailor(args, methods)
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = {(m, s): pool.submit(run_reference, args, m, s)
                   for m in methods for s in range(args.seeds)}
        reference = {k: f.result() for k, f in futures.items()}

    failures = []
    lines = ["| method | seeds | tailor top-1 | reference top-1 | Δ top-1 [Welch 95 %] | p "
             "| tailor few | reference few | Δ few [Welch 95 %] | p |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    cells, pvalues = [], []
    for m in methods:
        t = [tailor_result(args, m, s) for s in range(args.seeds)]
        r = [reference[(m, s)] for s in range(args.seeds)]
        for s in range(args.seeds):
            if t[s]["train_counts"] != r[s]["train_counts"]:
                failures.append(f"{m} seed {s}: the loops trained on different splits: tailor "
                                f"{t[s]['train_counts']}, reference {r[s]['train_counts']}")
        row = [m, str(args.seeds)]
        for key in ("top1", "few"):
            a = [x[key] for x in t]
            b = [x[key] for x in r]
            diff, half = welch(a, b)
            pvalues.append(welch_p(a, b))
            row += [cell(a), cell(b), (f"{100 * diff:+.2f} [±{100 * half:.2f}]"
                                       if not math.isnan(half) else f"{100 * diff:+.2f}"), None]
            if args.quick and key == "top1":
                for side, values in (("tailor", a), ("reference", b)):
                    if min(values) < 0.15:  # chance is 0.10
                        failures.append(f"{m}: {side} top-1 {min(values):.3f} < 0.15 after "
                                        f"{args.epochs} x {args.max_steps} steps")
                if abs(diff) > 0.15:
                    failures.append(f"{m}: top-1 differs by {100 * diff:+.1f} points")
        cells.append(row)
    # Holm across every comparison of the table: * where the adjusted p is below 0.05.
    adjusted = iter(holm(pvalues))
    for row in cells:
        for k in (5, 9):
            p = next(adjusted)
            row[k] = "–" if p is None else f"{p:.3f}"
            if p is not None and p < 0.05:
                row[k - 1] += " *"
        lines.append("| " + " | ".join(row) + " |")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)
    for f in failures:
        print("FAIL", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
