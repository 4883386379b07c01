#!/usr/bin/env python3
"""The PyTorch side of the GPU benchmark: ResNet-32 (option-A shortcuts) on CIFAR-10-LT with
the standard augmentation, batch 128, SGD momentum, cross-entropy, on a CUDA GPU; the model
and data pipeline are bench/common/torch_train.py's.

Configured as a careful user would: DataLoader workers tried in a list (the best counts),
pinned memory, persistent workers, non-blocking copies, cudnn.benchmark, and no per-step
host synchronisation (the loss is summed on the GPU and checked once at the end). Modes:

  fp32      eager, float32, NCHW
  amp       eager, bf16 autocast + channels-last (the usual eager speed-ups)
  compiled  amp + torch.compile(model, mode=--compile-mode) (default "max-autotune": Triton
            autotuning and CUDA graphs), the strongest a PyTorch 2.x user configures; the
            model is compiled once and the compilation happens in the warm-up steps

Prints `torch gpu <mode> <img/s> img/s ...` per configuration and `torch gpu <mode> best ...`,
or `torch gpu <mode> unavailable (...)` when the installed torch has no torch.compile.
--device cpu runs the same code on the CPU (no pinned memory, CPU autocast), only to check
the script where no GPU is present.
"""
import argparse
import pathlib
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "common"))
import torch_train  # noqa: E402

MODE_NAMES = {"fp32": "fp32", "amp": "bf16+channels_last",
              "compiled": "compiled+bf16+channels_last"}


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def make_model(mode, device, compile_mode):
    torch.manual_seed(0)
    model = torch_train.ResNet32(10).to(device)
    if mode != "fp32":
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4)
    forward = torch.compile(model, mode=compile_mode) if mode == "compiled" else model
    return model, forward, optimizer


def run(train_set, workers, steps, warmup, mode, device, net, batch):
    model, forward, optimizer = net
    cuda = device.type == "cuda"
    amp = mode != "fp32"
    parallel = dict(persistent_workers=True, prefetch_factor=8) if workers > 0 else {}
    batches = torch.utils.data.DataLoader(train_set, batch_size=batch, shuffle=True, drop_last=True,
                                          num_workers=workers, pin_memory=cuda, **parallel)
    model.train()
    loss_sum = torch.zeros((), device=device, dtype=torch.float64)
    it, images, start = iter(batches), 0, None
    for step in range(warmup + steps):
        if step == warmup:
            sync(device)
            start = time.perf_counter()
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(batches)
            x, y = next(it)
        x, y = x.to(device, non_blocking=cuda), y.to(device, non_blocking=cuda)
        if amp:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            loss = F.cross_entropy(forward(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum += loss.detach()
        if step >= warmup:
            images += len(y)
    sync(device)
    rate = images / (time.perf_counter() - start)
    assert torch.isfinite(loss_sum).item(), f"non-finite loss in mode {mode}"
    return rate


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", required=True, help="CIFAR-10 binary files (make_cifar.py)")
    parser.add_argument("--workers", default="4,8,12")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--modes", default="fp32,amp,compiled")
    parser.add_argument("--compile-mode", default="max-autotune")
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    device = torch.device(args.device)
    name = torch.cuda.get_device_name() if device.type == "cuda" else "cpu"
    torch.backends.cudnn.benchmark = True
    train_set, _, _, _ = torch_train.cifar(args.root, "cifar10")
    for mode in args.modes.split(","):
        label = MODE_NAMES[mode]
        if mode == "compiled" and not hasattr(torch, "compile"):
            print(f"torch gpu {label} unavailable (torch {torch.__version__} has no torch.compile)",
                  flush=True)
            continue
        net = make_model(mode, device, args.compile_mode)
        best = (0.0, None)
        for w in [int(w) for w in args.workers.split(",")]:
            rate = run(train_set, w, args.steps, args.warmup, mode, device, net, args.batch)
            print(f"torch gpu {label} {rate:.1f} img/s (workers={w}, {args.steps} steps of "
                  f"{args.batch}, "
                  f"{name})", flush=True)
            best = max(best, (rate, w), key=lambda r: r[0])
        print(f"torch gpu {label} best {best[0]:.1f} img/s (workers={best[1]})", flush=True)


if __name__ == "__main__":
    main()
