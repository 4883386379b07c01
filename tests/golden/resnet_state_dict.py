#!/usr/bin/env python3
"""Small weight files in the formats the resnet backbone plugin reads (or refuses).

PyTorch's Python API writes them, so the C++ test proves the loader reads what Python saves:
  resnet_state_dict_plain.pt    torch.save(dict(state_dict)): a plain dict -> readable
  resnet_state_dict_ordered.pt  torch.save(state_dict): a collections.OrderedDict, which
                                LibTorch's unpickler cannot read -> a clear error
  resnet_state_dict_script.pt   torch.jit.save(torch.jit.script(module)) -> readable
  resnet_state_dict_legacy.pt   _use_new_zipfile_serialization=False -> a clear error
Tensor values are arange-based so the test can check them.

Also data/resnet_torchvision_keys.json: every state-dict entry (name, shape) of torchvision's
resnet18 and resnext50_32x4d without fc, so the test can check that torchvision checkpoints
map onto the plugin's modules by name and shape.

Run with Debian's /usr/bin/python3 (python3-torch, python3-torchvision); writes
data/resnet_state_dict_*.pt and data/resnet_torchvision_keys.json.
"""
import json
import os

import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 2, kernel_size=1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(2)
        with torch.no_grad():
            self.conv1.weight.copy_(torch.arange(6.0).reshape(2, 3, 1, 1))
            self.bn1.weight.copy_(torch.tensor([0.5, 1.5]))
            self.bn1.running_mean.copy_(torch.tensor([-1.0, 1.0]))

    def forward(self, x):
        return self.bn1(self.conv1(x))


def main():
    model = Tiny().eval()
    state = model.state_dict()
    out = os.path.join(HERE, "data")
    torch.save(dict(state), os.path.join(out, "resnet_state_dict_plain.pt"))
    torch.save(state, os.path.join(out, "resnet_state_dict_ordered.pt"))
    torch.save(dict(state), os.path.join(out, "resnet_state_dict_legacy.pt"),
               _use_new_zipfile_serialization=False)
    torch.jit.save(torch.jit.script(model), os.path.join(out, "resnet_state_dict_script.pt"))
    print("wrote", out, sorted(state))

    keys = {}
    for arch in ("resnet18", "resnext50_32x4d"):
        sd = getattr(torchvision.models, arch)().state_dict()
        keys[arch] = [[k, list(v.shape)] for k, v in sd.items() if not k.startswith("fc.")]
    with open(os.path.join(out, "resnet_torchvision_keys.json"), "w") as f:
        json.dump({"generator": "tests/golden/resnet_state_dict.py (torchvision " +
                   torchvision.__version__ + ")", "keys": keys}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
