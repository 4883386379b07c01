// torchscript_loss plugin entry: registers tailor::plugins::TorchScriptLoss as "torchscript_loss".
#include "torchscript_loss.hpp"

#include <tailor/plugin.hpp>

TAILOR_LOSS_PLUGIN(tailor::plugins::TorchScriptLoss, "torchscript_loss", "1.0.0",
                   "A loss written in Python and saved with torch.jit.script: setup(class_counts, "
                   "params) once, forward(logits, targets) per batch.")
