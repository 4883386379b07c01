#!/usr/bin/env python3
"""The PyTorch side of the GPU benchmark: ResNet-32 (option-A shortcuts) on CIFAR-10-LT with
the standard augmentation, batch 128, SGD momentum, cross-entropy, in eager mode on a CUDA
GPU; the model and data pipeline are bench/common/torch_train.py's.

Configured as a careful user would: DataLoader workers tried in a list (the best counts),
pinned memory, persistent workers, non-blocking copies, cudnn.benchmark, and no per-step
host synchronisation (the loss is summed on the GPU and checked once at the end).
--amp adds bf16 autocast and channels-last, the usual eager speed-ups.

Prints `torch gpu <mode> <img/s> img/s ...` per configuration and `torch gpu <mode> best ...`.
"""
import argparse
import pathlib
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "common"))
import torch_train  # noqa: E402


def run(train_set, workers, steps, warmup, amp):
    torch.manual_seed(0)
    model = torch_train.ResNet32(10).cuda()
    if amp:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4)
    batches = torch.utils.data.DataLoader(train_set, batch_size=128, shuffle=True, drop_last=True,
                                          num_workers=workers, pin_memory=True,
                                          persistent_workers=True, prefetch_factor=8)
    model.train()
    loss_sum = torch.zeros((), device="cuda", dtype=torch.float64)
    it, images, start = iter(batches), 0, None
    for step in range(warmup + steps):
        if step == warmup:
            torch.cuda.synchronize()
            start = time.perf_counter()
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(batches)
            x, y = next(it)
        x, y = x.cuda(non_blocking=True), y.cuda(non_blocking=True)
        if amp:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
            loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum += loss.detach()
        if step >= warmup:
            images += len(y)
    torch.cuda.synchronize()
    rate = images / (time.perf_counter() - start)
    assert torch.isfinite(loss_sum).item()
    return rate


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", required=True, help="CIFAR-10 binary files (make_cifar.py)")
    parser.add_argument("--workers", default="4,8,12")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args()
    torch.backends.cudnn.benchmark = True
    train_set, _, _, _ = torch_train.cifar(args.root, "cifar10")
    for amp in (False, True):
        mode = "bf16+channels_last" if amp else "fp32"
        best = (0.0, None)
        for w in [int(w) for w in args.workers.split(",")]:
            rate = run(train_set, w, args.steps, args.warmup, amp)
            print(f"torch gpu {mode} {rate:.1f} img/s (workers={w}, {args.steps} steps of 128, "
                  f"{torch.cuda.get_device_name()})", flush=True)
            best = max(best, (rate, w), key=lambda r: r[0])
        print(f"torch gpu {mode} best {best[0]:.1f} img/s (workers={best[1]})", flush=True)


if __name__ == "__main__":
    main()
