#!/usr/bin/env python3
"""The PyTorch side of the ImageNet-LT GPU benchmark: ResNet-50 or ResNeXt-50 (32x4d) from
torchvision, cross-entropy, SGD momentum, batch --batch, on the ImageNet-LT list format
(<root>/ImageNet_LT_train.txt, `train/<wnid>/<file>.JPEG <label>` lines) with the Decoupling
training transform: RandomResizedCrop(--size), RandomHorizontalFlip, ColorJitter(0.4, 0.4,
0.4, 0), ToTensor, Normalize(ImageNet mean, std).

Configured as a careful PyTorch 2.x user would: a DataLoader with the worker counts of
--workers tried in turn (the best counts), pinned memory, persistent workers, prefetching,
non-blocking copies, cudnn.benchmark, bf16 autocast, channels-last, no per-step host
synchronisation, and torch.compile(mode=--compile-mode) (default "max-autotune": Triton
autotuning and CUDA graphs; compiled once per model, compilation in the warm-up steps).
Modes (--modes):

  amp        eager, bf16 autocast + channels-last, PIL decoding in the workers
  compiled   amp + torch.compile
  nvjpeg     compiled, but the workers only read the files and the JPEGs are decoded on the
             GPU with torchvision.io.decode_jpeg(device="cuda") (nvJPEG), then cropped,
             flipped and jittered there image by image with torchvision's tensor transforms
  synthetic  compiled on one random batch kept on the device: no loader, the GPU's ceiling

Each timed run prints `torch imagenet <model> <mode> <img/s> img/s (workers=N, loader wait
W%, gpu busy U%, ...)`: loader wait is the share of the timed wall time the training loop spent
waiting for the next batch (high: loader-bound), gpu busy the mean of nvidia-smi's
utilisation samples (every 100 ms) over the timed steps, where nvidia-smi exists. Then
`torch imagenet <model> <mode> best <img/s> img/s (workers=N)`. A mode the installed
torch/torchvision cannot run prints `... <mode> unavailable (<why>)`.

--compile-mode none runs every mode eagerly (for a torch without torch.compile, or a check).
--device cpu runs the same code on the CPU (CPU autocast, no pinned memory, decode_jpeg on
the CPU), only to check the script where no GPU is present; its figures are not GPU figures.
"""
import argparse
import pathlib
import shutil
import subprocess
import time

import torch
import torch.nn.functional as F
import torchvision
import torchvision.transforms as T
import torchvision.transforms.functional as TF
from PIL import Image

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
MODELS = {"resnet50": torchvision.models.resnet50,
          "resnext50_32x4d": torchvision.models.resnext50_32x4d}


def read_list(root):
    samples = []
    for line in open(pathlib.Path(root) / "ImageNet_LT_train.txt"):
        if line.strip():
            path, label = line.split()
            samples.append((str(pathlib.Path(root) / path), int(label)))
    return samples


class Decoded(torch.utils.data.Dataset):
    """PIL decoding and the torchvision training transform in the workers."""

    def __init__(self, samples, size):
        self.samples = samples
        self.transform = T.Compose([T.RandomResizedCrop(size), T.RandomHorizontalFlip(),
                                    T.ColorJitter(0.4, 0.4, 0.4, 0.0), T.ToTensor(),
                                    T.Normalize(MEAN, STD)])

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, i):
        path, label = self.samples[i]
        with open(path, "rb") as f:
            image = Image.open(f).convert("RGB")
        return self.transform(image), label


class Encoded(torch.utils.data.Dataset):
    """The JPEG bytes only, for decoding on the device."""

    def __init__(self, samples):
        self.samples = samples

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, i):
        path, label = self.samples[i]
        with open(path, "rb") as f:
            return f.read(), label


def encoded_collate(items):
    # Bytes travel through the worker's pipe; a tensor per file would be sent as one shared
    # memory file descriptor each, and the transfer failed with EBADF.
    return [data for data, _ in items], torch.tensor([label for _, label in items])


class DeviceTransform:
    """decode_jpeg on the device (batched where torchvision accepts a list), then the
    training transform image by image on the device, as torchvision's tensor transforms
    allow; the result matches Decoded's up to the resampling filters."""

    def __init__(self, device, size):
        self.device, self.size = device, size
        self.jitter = T.ColorJitter(0.4, 0.4, 0.4, 0.0)
        self.mean = torch.tensor(MEAN, device=device).view(1, 3, 1, 1)
        self.std = torch.tensor(STD, device=device).view(1, 3, 1, 1)
        self.batched = True

    def decode(self, datas):
        mode = torchvision.io.ImageReadMode.RGB
        if self.batched:
            try:
                return torchvision.io.decode_jpeg(datas, mode=mode, device=self.device)
            except (TypeError, RuntimeError, ValueError):
                self.batched = False  # torchvision < 0.19 decodes one tensor per call
        return [torchvision.io.decode_jpeg(d, mode=mode, device=self.device) for d in datas]

    def __call__(self, files):
        datas = [torch.frombuffer(bytearray(data), dtype=torch.uint8) for data in files]
        out = []
        for image in self.decode(datas):
            top, left, h, w = T.RandomResizedCrop.get_params(image, (0.08, 1.0),
                                                             (3 / 4, 4 / 3))
            image = TF.resized_crop(image, top, left, h, w, [self.size, self.size],
                                    antialias=True)
            if torch.rand(()) < 0.5:
                image = TF.hflip(image)
            out.append(self.jitter(image))
        x = torch.stack(out).float().div_(255)
        return (x - self.mean) / self.std


class GpuBusy:
    """Mean nvidia-smi utilisation over a span (None without nvidia-smi or a GPU)."""

    def __init__(self, device):
        self.process = None
        if device.type == "cuda" and shutil.which("nvidia-smi"):
            index = torch.cuda.current_device()
            self.process = subprocess.Popen(
                ["nvidia-smi", "-i", str(index), "--query-gpu=utilization.gpu",
                 "--format=csv,noheader,nounits", "-lms", "100"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def stop(self):
        if self.process is None:
            return None
        self.process.terminate()
        out, _ = self.process.communicate()
        samples = [float(v) for v in out.split() if v.replace(".", "", 1).isdigit()]
        return sum(samples) / len(samples) if samples else None


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def make_model(name, mode, device, compile_mode):
    torch.manual_seed(0)
    model = MODELS[name](num_classes=1000).to(device).to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    eager = mode == "amp" or compile_mode == "none"
    forward = model if eager else torch.compile(model, mode=compile_mode)
    return model, forward, optimizer


def batches_of(mode, samples, workers, batch, size, device):
    """An endless iterator of (x, y) on the device, and a function that says whether the
    device transform is in use."""
    cuda = device.type == "cuda"
    parallel = dict(persistent_workers=True, prefetch_factor=4) if workers > 0 else {}
    if mode == "synthetic":
        x = torch.randn(batch, 3, size, size, device=device)
        y = torch.randint(0, 1000, (batch,), device=device)
        while True:
            yield x, y
    if mode == "nvjpeg":
        loader = torch.utils.data.DataLoader(Encoded(samples), batch_size=batch, shuffle=True,
                                             drop_last=True, num_workers=workers,
                                             collate_fn=encoded_collate, **parallel)
        transform = DeviceTransform(device, size)
    else:
        loader = torch.utils.data.DataLoader(Decoded(samples, size), batch_size=batch,
                                             shuffle=True, drop_last=True, num_workers=workers,
                                             pin_memory=cuda, **parallel)
        transform = None
    while True:
        for x, y in loader:
            if transform is not None:
                x = transform(x)
            yield x.to(device, non_blocking=cuda), y.to(device, non_blocking=cuda)


def run(net, mode, samples, workers, steps, warmup, batch, size, device):
    model, forward, optimizer = net
    model.train()
    loss_sum = torch.zeros((), device=device, dtype=torch.float64)
    it = batches_of(mode, samples, workers, batch, size, device)
    images, wait, start, busy = 0, 0.0, None, None
    for step in range(warmup + steps):
        if step == warmup:
            sync(device)
            busy = GpuBusy(device)
            start = time.perf_counter()
        before = time.perf_counter()
        x, y = next(it)
        if step >= warmup:
            wait += time.perf_counter() - before
        x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16):
            loss = F.cross_entropy(forward(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum += loss.detach()
        if step >= warmup:
            images += len(y)
    sync(device)
    seconds = time.perf_counter() - start
    utilisation = busy.stop()
    assert torch.isfinite(loss_sum).item(), f"non-finite loss in mode {mode}"
    return images / seconds, 100 * wait / seconds, utilisation


def unavailable(mode, device, compile_mode):
    if mode != "amp" and compile_mode != "none" and not hasattr(torch, "compile"):
        return f"torch {torch.__version__} has no torch.compile"
    if mode == "nvjpeg" and device.type == "cuda":
        try:
            data = torchvision.io.encode_jpeg(torch.zeros(3, 8, 8, dtype=torch.uint8))
            torchvision.io.decode_jpeg(data, device=device)
        except Exception as e:  # noqa: BLE001 -- any failure means: no GPU decoding here
            return f"torchvision {torchvision.__version__} cannot decode on the GPU: {e}"
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", required=True)
    parser.add_argument("--model", default="resnet50", choices=sorted(MODELS))
    parser.add_argument("--modes", default="compiled,nvjpeg,synthetic")
    parser.add_argument("--workers", default="8,12,16")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--compile-mode", default="max-autotune")
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    args = parser.parse_args()
    device = torch.device(args.device)
    name = torch.cuda.get_device_name() if device.type == "cuda" else "cpu"
    torch.backends.cudnn.benchmark = True
    samples = read_list(args.root)
    for mode in args.modes.split(","):
        why = unavailable(mode, device, args.compile_mode)
        if why:
            print(f"torch imagenet {args.model} {mode} unavailable ({why})", flush=True)
            continue
        net = make_model(args.model, mode, device, args.compile_mode)
        best = (0.0, None)
        for w in [0] if mode == "synthetic" else [int(w) for w in args.workers.split(",")]:
            rate, wait, busy = run(net, mode, samples, w, args.steps, args.warmup, args.batch,
                                   args.size, device)
            busy_text = "n/a" if busy is None else f"{busy:.0f}%"
            print(f"torch imagenet {args.model} {mode} {rate:.1f} img/s (workers={w}, loader wait "
                  f"{wait:.0f}%, gpu busy {busy_text}, {args.steps} steps of {args.batch}, "
                  f"{args.size}px, compile {args.compile_mode}, {name})", flush=True)
            best = max(best, (rate, w), key=lambda r: r[0])
        print(f"torch imagenet {args.model} {mode} best {best[0]:.1f} img/s (workers={best[1]})",
              flush=True)


if __name__ == "__main__":
    main()
