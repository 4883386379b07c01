// checkpoint_diff A B TOLERANCE: the largest absolute difference between the model tensors of
// two checkpoints (same names and shapes required); exits 0 when it is within TOLERANCE
// (0 asks for bit-identical tensors), 1 otherwise, 2 on bad input. Used by distributed.sh to
// compare N-rank runs with one process.
#include "engine/checkpoint.hpp"

#include <ATen/ATen.h>

#include <cstdio>
#include <cstdlib>
#include <exception>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: checkpoint_diff A.pt B.pt TOLERANCE\n");
    return 2;
  }
  try {
    const auto a = tailor::host::load_checkpoint(argv[1]);
    const auto b = tailor::host::load_checkpoint(argv[2]);
    const double tolerance = std::atof(argv[3]);
    if (a.model.size() != b.model.size()) {
      std::fprintf(stderr, "different tensor counts: %zu and %zu\n", a.model.size(), b.model.size());
      return 1;
    }
    double worst = 0;
    const char* where = "";
    for (size_t i = 0; i < a.model.size(); ++i) {
      const auto& [name, x] = a.model[i];
      const auto& y = b.model[i].second;
      if (name != b.model[i].first || !x.sizes().equals(y.sizes())) {
        std::fprintf(stderr, "tensor %zu differs in name or shape: %s\n", i, name.c_str());
        return 1;
      }
      const double d = (x.to(at::kDouble) - y.to(at::kDouble)).abs().max().item<double>();
      if (d > worst) {
        worst = d;
        where = name.c_str();
      }
    }
    std::printf("max |a - b| = %.3g (%s) over %zu tensors\n", worst, where, a.model.size());
    return worst <= tolerance ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
}
