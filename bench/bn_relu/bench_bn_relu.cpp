// bench_bn_relu <threads>: for each ResNet-32 activation shape (batch 128, channels-last), with
// and without a residual, the time of one forward + backward of relu(bn(x) [+ r]) in training
// mode by ATen's ops and by the fused node, and the largest error of each against float64 ATen
// (input gradient, weight gradient). One line per case:
//   cpp C=16 HW=32 residual=0 aten_ms=... fused_ms=... speedup=... aten_dx_err=... fused_dx_err=...
#include "common/bn_relu.hpp"

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace {

struct Pass {
  at::Tensor y, dx, dweight;
};

// One training-mode forward + backward; `fused` only for float32 channels-last input.
Pass run(torch::nn::BatchNorm2d& bn, const at::Tensor& x0, const at::Tensor& r0,
         const at::Tensor& dy, bool fused) {
  const at::Tensor x = x0.detach().requires_grad_(true);
  at::Tensor r;
  if (r0.defined()) r = r0.detach().requires_grad_(true);
  bn->zero_grad();
  const at::Tensor y = fused ? tailor::plugins::bn_relu_train(x, bn, r)
                             : torch::relu(r.defined() ? bn(x) + r : bn(x));
  y.backward(dy);
  return {y.detach(), x.grad(), bn->weight.grad()};
}

double seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  at::set_num_threads(argc > 1 ? std::atoi(argv[1]) : 2);
  const int repeats = 40;
  for (const auto& [c, hw] : {std::pair<int64_t, int64_t>{16, 32}, {32, 16}, {64, 8}})
    for (const bool residual : {false, true}) {
      torch::manual_seed(c);
      const auto cl = at::MemoryFormat::ChannelsLast;
      const at::Tensor x = torch::randn({128, c, hw, hw}).contiguous(cl);
      const at::Tensor r = residual ? torch::randn({128, c, hw, hw}).contiguous(cl) : at::Tensor();
      const at::Tensor dy = torch::randn({128, c, hw, hw}).contiguous(cl);
      torch::nn::BatchNorm2d bn(c), reference(c);
      {
        torch::NoGradGuard no_grad;
        bn->weight.uniform_(0.5, 1.5);
        bn->bias.uniform_(-0.5, 0.5);
        reference->weight.copy_(bn->weight);
        reference->bias.copy_(bn->bias);
      }
      reference->to(torch::kDouble);
      const Pass exact = run(reference, x.to(torch::kDouble), residual ? r.to(torch::kDouble) : r,
                             dy.to(torch::kDouble), false);
      double ms[2], dx_err[2], dw_err[2];
      for (const bool fused : {false, true}) {
        const Pass p = run(bn, x, r, dy, fused);
        // dx is compared where ReLU's mask agrees with float64's: elsewhere dy or 0 is a
        // matter of which side of 0 a rounding lands, not of the kernel's accuracy.
        const at::Tensor agree = (p.y > 0) == (exact.y > 0);
        dx_err[fused] = ((p.dx.to(torch::kDouble) - exact.dx).abs() * agree).max().item<double>();
        dw_err[fused] = (p.dweight.to(torch::kDouble) - exact.dweight).abs().max().item<double>();
        for (int i = 0; i < 3; ++i) run(bn, x, r, dy, fused);
        const double start = seconds();
        for (int i = 0; i < repeats; ++i) run(bn, x, r, dy, fused);
        ms[fused] = (seconds() - start) / repeats * 1e3;
      }
      std::printf(
          "cpp C=%ld HW=%ld residual=%d aten_ms=%.3f fused_ms=%.3f speedup=%.2f "
          "aten_dx_err=%.2e fused_dx_err=%.2e aten_dweight_err=%.2e fused_dweight_err=%.2e\n",
          static_cast<long>(c), static_cast<long>(hw), residual ? 1 : 0, ms[0], ms[1],
          ms[0] / ms[1], dx_err[0], dx_err[1], dw_err[0], dw_err[1]);
    }
}
