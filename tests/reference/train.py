#!/usr/bin/env python3
"""A plain PyTorch training loop for Fashion-MNIST-LT, independent of tailor.

It follows the official recipes of CE, LDAM-DRW, CB-focal, Balanced Softmax, CDB (the CIFAR
loop: class weights from the per-class val accuracy after every epoch) and cRT, with the
settings of experiments/fashion_mnist_lt/*.toml, so that a tailor run and a run of this file
are two draws of the same experiment (docs/conformance.md). Nothing here comes from tailor
but the experiment's numbers: the split rule, the network shape, the schedule.

    python3 tests/reference/train.py --method ce --seed 0 --out ce_seed0.json

Needs python3-torch and python3-numpy. The result JSON holds, per epoch, the val top-1 and
per-class recall (test too where val top-1 improved), and the test results at the epoch of
best val top-1.
"""
import argparse
import gzip
import json
import math
import os
import sys
import time

import numpy as np

METHODS = ("ce", "ldam_drw", "cb_focal", "balanced_softmax", "cdb", "crt")
MEAN, STD = 0.2860, 0.3530


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--method", required=True, choices=METHODS)
    p.add_argument("--seed", type=int, default=0, help="initialisation and batch-order seed")
    p.add_argument("--data-seed", type=int, default=0, help="long-tail selection seed")
    p.add_argument("--root", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--rho", type=float, default=100.0, help="imbalance ratio")
    p.add_argument("--val-per-class", type=int, default=100)
    p.add_argument("--epochs", type=int, default=8, help="all stages together")
    p.add_argument("--max-steps", type=int, default=0, help="cap steps per epoch (0 = all)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True, help="result JSON")
    return p.parse_args(argv)


# ---- data ------------------------------------------------------------------------------------

def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def long_tail_split(labels, num_classes, rho, val_per_class, data_seed):
    """Val: the last `val_per_class` images of each class in file order. Train: of the rest,
    img_max * rho^(-c/(C-1)) images of class c (truncated), chosen by one NumPy RandomState
    shuffling each class's positions in turn (LDAM-DRW's CIFAR-LT selection)."""
    by_class = [np.flatnonzero(labels == c).tolist() for c in range(num_classes)]
    val = []
    for c in range(num_classes):
        val += by_class[c][-val_per_class:]
        by_class[c] = by_class[c][:-val_per_class]
    img_max = max(len(ix) for ix in by_class)
    counts = [int(img_max * (1.0 / rho) ** (c / (num_classes - 1.0))) for c in range(num_classes)]
    rng = np.random.RandomState(data_seed)
    train = []
    for c in range(num_classes):
        ix = np.array(by_class[c])
        rng.shuffle(ix)
        train += ix[:counts[c]].tolist()
    return np.array(train), np.array(val), counts


def normalise(images):
    import torch
    x = torch.from_numpy(images.astype(np.float32) / 255.0)
    return ((x - MEAN) / STD).unsqueeze(1)


def crop_flip(x, generator, pad=2):
    """RandomCrop(28, padding=2) with black padding, then RandomHorizontalFlip(0.5)."""
    import torch
    n, _, h, w = x.shape
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad), value=-MEAN / STD)
    top = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    left = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    flip = torch.rand(n, generator=generator) < 0.5
    rows = (top.unsqueeze(1) + torch.arange(h)).unsqueeze(2)  # [n, h, 1]
    columns = torch.arange(w).expand(n, w)
    columns = torch.where(flip.unsqueeze(1), w - 1 - columns, columns) + left.unsqueeze(1)
    return padded[torch.arange(n).view(n, 1, 1), 0, rows, columns.unsqueeze(1)].unsqueeze(1)


# ---- model -----------------------------------------------------------------------------------

def build_model(num_classes, head, bias_prior, width=16):
    import torch
    from torch import nn

    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True)]

    backbone = nn.Sequential(*block(1, width), *block(width, width), nn.MaxPool2d(2),
                             *block(width, 2 * width), nn.MaxPool2d(2),
                             *block(2 * width, 4 * width), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    for m in backbone.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    class NormedLinear(nn.Module):
        """LDAM-DRW's cosine classifier: normalised features times normalised columns."""

        def __init__(self, cin, cout):
            super().__init__()
            self.weight = nn.Parameter(torch.empty(cin, cout).uniform_(-1, 1))

        def forward(self, f):
            return nn.functional.normalize(f, dim=1).mm(nn.functional.normalize(self.weight, dim=0))

    def make_head():
        if head == "cosine":
            return NormedLinear(4 * width, num_classes)
        linear = nn.Linear(4 * width, num_classes)
        if bias_prior:  # the sigmoid losses' prior initialisation
            nn.init.constant_(linear.bias, -math.log(num_classes - 1))
        return linear

    return backbone, make_head


# ---- losses ----------------------------------------------------------------------------------

def class_balanced_weights(counts, beta):
    eff = (1.0 - np.power(beta, counts)) / (1.0 - beta)
    w = 1.0 / eff
    return w * len(counts) / w.sum()


class Loss:
    """The method's loss for one stage; `update(val_recall)` after each val pass (CDB)."""

    def __init__(self, method, stage, counts):
        import torch
        self.torch = torch
        self.method, self.stage = method, stage
        self.counts = torch.tensor(counts, dtype=torch.float64)
        c = len(counts)
        if method == "ldam_drw":
            m = 1.0 / np.power(np.array(counts, dtype=np.float64), 0.25)
            self.margins = torch.tensor(m * (0.5 / m.max()), dtype=torch.float32)
            self.weights = (torch.tensor(class_balanced_weights(np.array(counts), 0.9999),
                                         dtype=torch.float32) if stage == 1 else None)
        elif method == "cb_focal":
            self.weights = torch.tensor(class_balanced_weights(np.array(counts), 0.9999),
                                        dtype=torch.float32)
        elif method == "cdb":
            self.weights = torch.ones(c)  # difficulty 1 everywhere before the first val pass

    def __call__(self, z, y):
        F = self.torch.nn.functional
        if self.method in ("ce", "crt"):
            return F.cross_entropy(z, y)
        if self.method == "balanced_softmax":
            return F.cross_entropy(z + self.counts.log().float(), y)
        if self.method == "ldam_drw":
            one_hot = F.one_hot(y, z.size(1)).float()
            adjusted = 30.0 * (z - self.margins[y].unsqueeze(1) * one_hot)
            return F.cross_entropy(adjusted, y, weight=self.weights)
        if self.method == "cb_focal":
            one_hot = F.one_hot(y, z.size(1)).float()
            bce = F.binary_cross_entropy_with_logits(z, one_hot, reduction="none")
            modulator = self.torch.exp(-1.0 * one_hot * z - 1.0 * F.softplus(-z))  # gamma = 1
            return (self.weights[y].unsqueeze(1) * modulator * bce).sum() / z.size(0)
        if self.method == "cdb":
            return (self.weights[y] * F.cross_entropy(z, y, reduction="none")).mean()
        raise ValueError(self.method)

    def update(self, val_recall):
        """CDB: d_c = 1 - A_c, tau = 2 sigmoid(r - 1) with r = max A / (min A + 0.01),
        w = d^tau normalised to sum C."""
        if self.method != "cdb":
            return
        a = np.array(val_recall, dtype=np.float64)
        tau = 2.0 / (1.0 + math.exp(-(a.max() / (a.min() + 0.01) - 1.0)))
        w = np.power(1.0 - a, tau)
        self.weights = self.torch.tensor(w * len(w) / w.sum(), dtype=self.torch.float32)


# ---- the loop --------------------------------------------------------------------------------

def stages_of(method, epochs):
    """(epochs, base lr, schedule, warm-up epochs, sampler, frozen backbone) per stage."""
    if method == "ldam_drw":
        return [(epochs - 2, 0.05, "cosine", 1, "instance", False),
                (2, 0.005, "constant", 0, "instance", False)]
    if method == "crt":
        return [(epochs - 2, 0.05, "cosine", 1, "instance", False),
                (2, 0.05, "cosine", 0, "class_balanced", True)]
    return [(epochs, 0.05, "cosine", 1, "instance", False)]


def lr_at(base, schedule, warmup, epoch, stage_epochs):
    if epoch < warmup:
        return base * (epoch + 1) / warmup
    if schedule == "constant":
        return base
    t = (epoch - warmup) / max(1, stage_epochs - warmup)
    return 0.5 * base * (1.0 + math.cos(math.pi * t))


def evaluate(backbone, head, x, y, num_classes):
    import torch
    backbone.eval()
    head.eval()
    preds = []
    with torch.no_grad():
        for i in range(0, x.size(0), 1000):
            preds.append(head(backbone(x[i:i + 1000])).argmax(1))
    pred = torch.cat(preds)
    recall = [float((pred[y == c] == c).float().mean()) for c in range(num_classes)]
    return float((pred == y).float().mean()), recall


def main(argv):
    args = parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    started = time.time()

    train_images = read_idx(os.path.join(args.root, "train-images-idx3-ubyte.gz"))
    train_labels = read_idx(os.path.join(args.root, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    test_images = read_idx(os.path.join(args.root, "t10k-images-idx3-ubyte.gz"))
    test_labels = read_idx(os.path.join(args.root, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    num_classes = 10
    train_ix, val_ix, counts = long_tail_split(train_labels, num_classes, args.rho,
                                               args.val_per_class, args.data_seed)
    x_train, y_train = normalise(train_images[train_ix]), torch.from_numpy(train_labels[train_ix])
    x_val, y_val = normalise(train_images[val_ix]), torch.from_numpy(train_labels[val_ix])
    x_test, y_test = normalise(test_images), torch.from_numpy(test_labels)

    backbone, make_head = build_model(num_classes, "cosine" if args.method == "ldam_drw" else "linear",
                                      bias_prior=args.method == "cb_focal")
    head = make_head()
    history, best = [], None
    epoch_total = 0
    optimizer = None
    for stage, (stage_epochs, base_lr, schedule, warmup, sampler, frozen) in enumerate(
            stages_of(args.method, args.epochs)):
        if stage > 0 and args.method == "crt":
            head = make_head()  # re-initialised classifier on the frozen backbone
            optimizer = None
        for p in backbone.parameters():
            p.requires_grad_(not frozen)
        params = [p for p in list(backbone.parameters()) + list(head.parameters())
                  if p.requires_grad]
        if optimizer is None:
            optimizer = torch.optim.SGD(params, lr=base_lr, momentum=0.9, weight_decay=5e-4)
        loss_fn = Loss(args.method, stage, counts)
        for epoch in range(stage_epochs):
            lr = lr_at(base_lr, schedule, warmup, epoch, stage_epochs)
            for group in optimizer.param_groups:
                group["lr"] = lr
            backbone.train(not frozen)
            head.train()
            n = y_train.size(0)
            if sampler == "class_balanced":  # a class uniformly, then one of its images
                by_class = [torch.nonzero(y_train == c).flatten() for c in range(num_classes)]
                classes = torch.randint(0, num_classes, (n,), generator=gen)
                order = torch.empty(n, dtype=torch.long)
                for c in range(num_classes):
                    picks = classes == c
                    k = int(picks.sum())
                    order[picks] = by_class[c][torch.randint(0, len(by_class[c]), (k,), generator=gen)]
            else:
                order = torch.randperm(n, generator=gen)
            steps, loss_sum = 0, 0.0
            for i in range(0, n, 128):
                if args.max_steps and steps >= args.max_steps:
                    break
                idx = order[i:i + 128]
                x = crop_flip(x_train[idx], gen)
                loss = loss_fn(head(backbone(x)), y_train[idx])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                loss_sum += float(loss)
                steps += 1
            val_top1, val_recall = evaluate(backbone, head, x_val, y_val, num_classes)
            loss_fn.update(val_recall)
            epoch_total += 1
            history.append({"epoch": epoch_total, "stage": stage, "lr": lr,
                            "loss": loss_sum / max(steps, 1), "val_top1": val_top1,
                            "val_recall": val_recall})
            # Only the test results of the best-on-val epoch are reported: test only then.
            if best is None or val_top1 > best["val_top1"]:
                test_top1, test_recall = evaluate(backbone, head, x_test, y_test, num_classes)
                history[-1].update({"test_top1": test_top1, "test_recall": test_recall})
                best = history[-1]
            print(f"{args.method} seed {args.seed} epoch {epoch_total}: loss "
                  f"{history[-1]['loss']:.4f}, val {100 * val_top1:.2f}%, test "
                  f"{100 * history[-1].get('test_top1', float('nan')):.2f}%", file=sys.stderr)

    def group(recall, rule):
        values = [r for r, n in zip(recall, counts) if rule(n)]
        return sum(values) / len(values) if values else None

    result = {
        "method": args.method, "seed": args.seed, "data_seed": args.data_seed, "rho": args.rho,
        "train_counts": counts, "val_samples": int(y_val.size(0)),
        "test_samples": int(y_test.size(0)), "seconds": time.time() - started,
        "best_epoch": best["epoch"], "best_val_top1": best["val_top1"],
        "test": {"top1": best["test_top1"],
                 "many": group(best["test_recall"], lambda n: n > 1000),
                 "medium": group(best["test_recall"], lambda n: 200 <= n <= 1000),
                 "few": group(best["test_recall"], lambda n: n < 200)},
        "history": history,
    }
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1)
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main(sys.argv[1:])
