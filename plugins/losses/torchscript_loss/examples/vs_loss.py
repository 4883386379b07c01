#!/usr/bin/env python3
"""The VS loss (Kini et al., NeurIPS 2021) for tailor's torchscript_loss plugin.

    python3 vs_loss.py [OUT.pt]     # default: vs_loss.pt beside this script

writes the loss as a TorchScript file. Name it in an experiment:

    [loss]
    plugin = "torchscript_loss"
    script = "plugins/losses/torchscript_loss/examples/vs_loss.pt"
    param_names = ["gamma", "tau"]
    param_values = [0.3, 1.0]

l = CE(z / (n_max / n)^gamma + tau log(n / N), y), the official code's arithmetic
(orparask/VS-Loss, class_imbalance/losses.py); tailor's vs_loss plugin computes the same.
"""
import os
import sys
from typing import Dict

import torch
import torch.nn.functional as F


class VSLoss(torch.nn.Module):
    def __init__(self):
        super().__init__()
        # Buffers: set by setup(), saved in tailor's checkpoints. Kept in float64 and cast to
        # the logits' dtype in forward().
        self.register_buffer("inverse_scales", torch.ones(0, dtype=torch.float64))
        self.register_buffer("offsets", torch.zeros(0, dtype=torch.float64))

    @torch.jit.export
    def setup(self, class_counts: torch.Tensor, params: Dict[str, float]) -> None:
        for key in params.keys():
            if key != "gamma" and key != "tau":
                raise ValueError("vs_loss.py takes the parameters gamma and tau, not '" + key + "'")
        gamma = params.get("gamma", 0.3)
        tau = params.get("tau", 1.0)
        if gamma < 0.0 or tau < 0.0:
            raise ValueError("vs_loss.py: gamma and tau must be >= 0")
        n = class_counts.to(torch.float64)
        if bool((n < 1).any()):
            raise ValueError("vs_loss.py: every class needs at least one training sample")
        inverse = torch.pow(1.0 / n, gamma)
        self.inverse_scales = inverse / inverse.min()
        self.offsets = tau * torch.log(n / n.sum())

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        adjusted = logits / self.inverse_scales.to(logits.dtype) + self.offsets.to(logits.dtype)
        return F.cross_entropy(adjusted, targets)


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    out = argv[1] if len(argv) > 1 else os.path.join(here, "vs_loss.pt")
    torch.jit.script(VSLoss()).save(out)
    print(out)


if __name__ == "__main__":
    main(sys.argv)
