#!/usr/bin/python3
"""The Python side of bench_bn_relu: relu(bn(x) [+ r]) forward + backward in training mode with
torch's own ops, channels-last, at ResNet-32's activation shapes (batch 128), and the largest
error of float32 against float64 (input gradient where ReLU's mask agrees, weight gradient).

Run with OMP_NUM_THREADS equal to --threads. One line per case, keys as bench_bn_relu's."""
import argparse
import time

import torch
import torch.nn as nn


def run(bn, x0, r0, dy):
    x = x0.detach().requires_grad_(True)
    r = r0.detach().requires_grad_(True) if r0 is not None else None
    bn.zero_grad()
    y = torch.relu(bn(x) + r if r is not None else bn(x))
    y.backward(dy)
    return y.detach(), x.grad, bn.weight.grad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=40)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cl = torch.channels_last
    for c, hw in ((16, 32), (32, 16), (64, 8)):
        for residual in (False, True):
            torch.manual_seed(c)
            x = torch.randn(128, c, hw, hw).contiguous(memory_format=cl)
            r = torch.randn(128, c, hw, hw).contiguous(memory_format=cl) if residual else None
            dy = torch.randn(128, c, hw, hw).contiguous(memory_format=cl)
            bn = nn.BatchNorm2d(c)
            with torch.no_grad():
                bn.weight.uniform_(0.5, 1.5)
                bn.bias.uniform_(-0.5, 0.5)
            ref = nn.BatchNorm2d(c).double()
            ref.load_state_dict(bn.state_dict())
            ey, edx, edw = run(ref, x.double(), r.double() if residual else None, dy.double())
            y, dx, dw = run(bn, x, r, dy)
            agree = (y > 0) == (ey > 0)
            dx_err = ((dx.double() - edx).abs() * agree).max().item()
            dw_err = (dw.double() - edw).abs().max().item()
            for _ in range(3):
                run(bn, x, r, dy)
            start = time.perf_counter()
            for _ in range(args.repeats):
                run(bn, x, r, dy)
            ms = (time.perf_counter() - start) / args.repeats * 1e3
            print(f"torch C={c} HW={hw} residual={int(residual)} torch_ms={ms:.3f} "
                  f"torch_dx_err={dx_err:.2e} torch_dweight_err={dw_err:.2e}")


if __name__ == "__main__":
    main()
