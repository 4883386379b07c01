#!/usr/bin/python3
"""The training step and evaluation pass of the tailor benchmarks, written as a PyTorch user
would write them (LDAM-DRW's CIFAR code, torchvision's MNIST-family datasets).

Same model, batch size, augmentation, optimiser and thread count as the tailor experiment
it is compared with:

  cifar  ResNet-32 (option-A shortcuts) on the CIFAR binary files of --root, LDAM-DRW's
         long tail (exp profile, rho 100); RandomCrop(32, padding=4), RandomHorizontalFlip,
         ToTensor, Normalize; SGD lr 0.1 momentum 0.9 wd 2e-4.
  fmnist tailor's small_cnn (width 16) + linear head on Fashion-MNIST IDX files, 100 per
         class held out, exp profile rho 100; RandomCrop(28, padding=2),
         RandomHorizontalFlip, ToTensor, Normalize(0.2860, 0.3530); SGD lr 0.05 momentum 0.9
         wd 5e-4.

Run it with OMP_NUM_THREADS equal to --threads (Debian's python3-torch starts with one OpenMP
thread, and set_num_threads alone does not recover the speed).

Prints one line per measurement: `torch train <img/s> img/s ...`, `torch eval ...`.
With --premade the training loop runs on pre-made in-memory tensors (no data loading).
With --channels-last the model and every batch use torch.channels_last (tailor's default,
`[train] channels_last`); without it the script runs NCHW, as the field's reference code does.
"""
import argparse
import gzip
import pathlib
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.transforms as T
from PIL import Image


# -- models -------------------------------------------------------------------------------

class BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = planes // 4 if stride != 1 or in_planes != planes else 0

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x
        if self.pad:  # option A: subsample, zero channels on both sides
            shortcut = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + shortcut)


class ResNet32(nn.Module):
    def __init__(self, num_classes, depth=32):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, in_planes = [], 16
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            blocks = []
            for i in range(n):
                blocks.append(BasicBlock(in_planes, planes, stride if i == 0 else 1))
                in_planes = planes
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.linear = nn.Linear(64, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.linear(x.mean((2, 3)))


class SmallCnn(nn.Module):
    def __init__(self, num_classes, width=16, in_channels=1):
        super().__init__()
        w = width
        self.conv1, self.bn1 = nn.Conv2d(in_channels, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w)
        self.conv2, self.bn2 = nn.Conv2d(w, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w)
        self.conv3, self.bn3 = nn.Conv2d(w, 2 * w, 3, 1, 1, bias=False), nn.BatchNorm2d(2 * w)
        self.conv4, self.bn4 = nn.Conv2d(2 * w, 4 * w, 3, 1, 1, bias=False), nn.BatchNorm2d(4 * w)
        self.head = nn.Linear(4 * w, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.max_pool2d(F.relu(self.bn3(self.conv3(x))), 2)
        x = F.relu(self.bn4(self.conv4(x)))
        return self.head(x.mean((2, 3)))


# -- data ---------------------------------------------------------------------------------

def long_tail_counts(img_max, rho, num_classes):
    return [int(img_max * (1.0 / rho) ** (i / (num_classes - 1.0))) for i in range(num_classes)]


def ldam_select(labels, counts, seed=0):
    np.random.seed(seed)
    keep = []
    for c, n in enumerate(counts):
        idx = np.where(labels == c)[0]
        np.random.shuffle(idx)
        keep.append(idx[:n])
    return np.concatenate(keep)


class ArrayDataset(torch.utils.data.Dataset):
    """torchvision's CIFAR10 / FashionMNIST __getitem__: uint8 array -> PIL -> transform."""

    def __init__(self, images, labels, transform, mode):
        self.images, self.labels, self.transform, self.mode = images, labels, transform, mode

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.transform(Image.fromarray(self.images[i], mode=self.mode)), int(self.labels[i])


def cifar(root, variant):
    root = pathlib.Path(root)
    if variant == "cifar100":
        files, label_bytes, classes = ["train.bin"], 2, 100
        test_file = "test.bin"
    else:
        files, label_bytes, classes = [f"data_batch_{i}.bin" for i in range(1, 6)], 1, 10
        test_file = "test_batch.bin"

    def read(names):
        raw = np.concatenate([np.fromfile(root / n, dtype=np.uint8) for n in names])
        raw = raw.reshape(-1, label_bytes + 3072)
        images = raw[:, label_bytes:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # HWC
        return np.ascontiguousarray(images), raw[:, label_bytes - 1].astype(np.int64)

    train_x, train_y = read(files)
    test_x, test_y = read([test_file])
    keep = ldam_select(train_y, long_tail_counts(len(train_y) / classes, 100.0, classes))
    mean, std = (0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)
    train_tf = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),
                          T.Normalize(mean, std)])
    test_tf = T.Compose([T.ToTensor(), T.Normalize(mean, std)])
    return (ArrayDataset(train_x[keep], train_y[keep], train_tf, "RGB"),
            ArrayDataset(test_x, test_y, test_tf, "RGB"), classes, (3, 32, 32))


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def fmnist(root):
    root = pathlib.Path(root)
    train_x = read_idx(root / "train-images-idx3-ubyte.gz")
    train_y = read_idx(root / "train-labels-idx1-ubyte.gz").astype(np.int64)
    test_x = read_idx(root / "t10k-images-idx3-ubyte.gz")
    test_y = read_idx(root / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    # Hold out the last 100 of each class (val), then the long tail of the rest.
    rest = np.concatenate([np.where(train_y == c)[0][:-100] for c in range(10)])
    rest.sort()
    img_max = max(int((train_y[rest] == c).sum()) for c in range(10))
    keep = rest[ldam_select(train_y[rest], long_tail_counts(img_max, 100.0, 10))]
    mean, std = (0.2860,), (0.3530,)
    train_tf = T.Compose([T.RandomCrop(28, padding=2), T.RandomHorizontalFlip(), T.ToTensor(),
                          T.Normalize(mean, std)])
    test_tf = T.Compose([T.ToTensor(), T.Normalize(mean, std)])
    return (ArrayDataset(train_x[keep], train_y[keep], train_tf, "L"),
            ArrayDataset(test_x, test_y, test_tf, "L"), 10, (1, 28, 28))


# -- loops --------------------------------------------------------------------------------

def loader(dataset, batch, shuffle, workers):
    extra = dict(persistent_workers=True, prefetch_factor=4) if workers > 0 else {}
    return torch.utils.data.DataLoader(dataset, batch_size=batch, shuffle=shuffle,
                                       num_workers=workers, **extra)


MEMORY_FORMAT = torch.contiguous_format


def train(model, optimizer, batches, steps, warmup):
    """Times `steps` training steps after `warmup` untimed ones; returns images/s."""
    model.train()
    images, start, it = 0, None, iter(batches)
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(batches)
            x, y = next(it)
        x = x.contiguous(memory_format=MEMORY_FORMAT)
        loss = F.cross_entropy(model(x), y)
        loss_value = loss.item()  # logged by every training loop; tailor checks it is finite
        assert np.isfinite(loss_value)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step >= warmup:
            images += len(y)
    return images / (time.perf_counter() - start)


def evaluate(model, batches, num_classes):
    """One pass over the test split: logits, top-1/top-5, per-class recall; returns images/s."""
    model.eval()
    start = time.perf_counter()
    logits, labels = [], []
    with torch.no_grad():
        for x, y in batches:
            logits.append(model(x.contiguous(memory_format=MEMORY_FORMAT)))
            labels.append(y)
    logits, labels = torch.cat(logits), torch.cat(labels)
    top5 = logits.topk(min(5, num_classes), 1).indices
    correct = top5[:, 0] == labels
    _ = (top5 == labels[:, None]).any(1).float().mean().item()
    recall = torch.zeros(num_classes).index_add_(0, labels, correct.float()) / torch.bincount(
        labels, minlength=num_classes).clamp(min=1)
    _ = recall.mean().item(), correct.float().mean().item()
    return len(labels) / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=["cifar", "fmnist"])
    parser.add_argument("--root", required=True)
    parser.add_argument("--variant", default="cifar10", choices=["cifar10", "cifar100"])
    parser.add_argument("--threads", type=int, required=True, help="torch.set_num_threads")
    parser.add_argument("--workers", default="0,1,2",
                        help="DataLoader worker processes; a list tries each, the best counts")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--eval-batch", type=int, default=512)
    parser.add_argument("--steps", type=int, default=30, help="timed training steps (0: none)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps before them")
    parser.add_argument("--premade", action="store_true",
                        help="train on pre-made in-memory tensors instead of the DataLoader")
    parser.add_argument("--eval", action="store_true", help="also time a pass over the test split")
    parser.add_argument("--channels-last", action="store_true",
                        help="model and batches in torch.channels_last memory format")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    global MEMORY_FORMAT
    if args.channels_last:
        MEMORY_FORMAT = torch.channels_last
    torch.manual_seed(0)
    if args.task == "cifar":
        train_set, test_set, classes, shape = cifar(args.root, args.variant)
        model_class = ResNet32
        hyper = dict(lr=0.1, momentum=0.9, weight_decay=2e-4)
    else:
        train_set, test_set, classes, shape = fmnist(args.root)
        model_class = SmallCnn
        hyper = dict(lr=0.05, momentum=0.9, weight_decay=5e-4)

    make_model = lambda: model_class(classes).to(memory_format=MEMORY_FORMAT)  # noqa: E731

    # Each configuration trains a fresh model; the best one is the Python result.
    workers = [int(w) for w in args.workers.split(",")]
    configs = ["premade"] if args.premade else workers
    best = {}
    for config in configs if args.steps > 0 else []:
        model = make_model()
        optimizer = torch.optim.SGD(model.parameters(), **hyper)
        if config == "premade":
            batches = [(torch.randn(args.batch, *shape), torch.randint(classes, (args.batch,)))] * 8
        else:
            batches = loader(train_set, args.batch, True, config)
        rate = train(model, optimizer, batches, args.steps, args.warmup)
        print(f"torch train {rate:.1f} img/s ({config if config == 'premade' else f'workers={config}'}"
              f", threads={args.threads}, {args.steps} steps of {args.batch})", flush=True)
        best["train"] = max(best.get("train", (0, None)), (rate, config), key=lambda r: r[0])
        del batches
    if args.eval:
        model = make_model()
        for w in workers:
            test = loader(test_set, args.eval_batch, False, w)
            evaluate(model, [next(iter(test))], classes)  # warm-up batch
            rate = evaluate(model, test, classes)
            print(f"torch eval {rate:.1f} img/s (workers={w}, threads={args.threads}, "
                  f"{len(test_set)} images, batch {args.eval_batch})", flush=True)
            best["eval"] = max(best.get("eval", (0, None)), (rate, w), key=lambda r: r[0])
            del test
    for what, (rate, config) in best.items():
        print(f"torch {what} best {rate:.1f} img/s ({config})", flush=True)

if __name__ == "__main__":
    main()
