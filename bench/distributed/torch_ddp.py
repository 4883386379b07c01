#!/usr/bin/python3
"""The quickstart's training step under PyTorch's DistributedDataParallel (Gloo, CPU): what a
PyTorch user runs with torchrun --nproc-per-node N. Same model (tailor's small_cnn, width 16),
data (Fashion-MNIST-LT, rho 100), augmentation and optimiser as bench/common/torch_train.py;
the global batch is split evenly between the ranks, DistributedSampler shards the data.

Run under torchrun (or with RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT set), with
OMP_NUM_THREADS equal to --threads. Rank 0 prints `torch ddp <img/s> img/s ...` (images of
all ranks per second).
"""
import argparse
import os
import pathlib
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "common"))
import torch_train  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--batch", type=int, default=128, help="global batch")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    train_set, _, classes, _ = torch_train.fmnist(args.root)
    model = torch_train.SmallCnn(classes)
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.SGD(ddp.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    sampler = torch.utils.data.distributed.DistributedSampler(train_set, seed=0)
    extra = dict(persistent_workers=True, prefetch_factor=4) if args.workers > 0 else {}
    batches = torch.utils.data.DataLoader(train_set, batch_size=args.batch // world,
                                          sampler=sampler, num_workers=args.workers, **extra)
    it, start = iter(batches), None
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            dist.barrier()
            start = time.perf_counter()
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(batches)
            x, y = next(it)
        loss = F.cross_entropy(ddp(x), y)
        assert torch.isfinite(loss).item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    dist.barrier()
    rate = args.steps * args.batch / (time.perf_counter() - start)
    if rank == 0:
        print(f"torch ddp {rate:.1f} img/s (ranks={world}, threads={args.threads}, "
              f"workers={args.workers}, {args.steps} steps of {args.batch})", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
