// Unit tests of the fused BatchNorm (+ residual) + ReLU against float64 ATen.
#include "common/bn_relu.hpp"

#include <ATen/Parallel.h>
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <limits>
#include <string>
#include <vector>

using tailor::plugins::bn_relu_fusable;
using tailor::plugins::bn_relu_train;

namespace {

// Everything the fused node produces: output, the four gradients, the running statistics.
struct Result {
  at::Tensor y, dx, dweight, dbias, dresidual, running_mean, running_var, tracked;
};

torch::nn::BatchNorm2d make_bn(int64_t c, c10::optional<double> momentum, at::ScalarType dtype) {
  torch::manual_seed(11);
  torch::nn::BatchNorm2d bn(torch::nn::BatchNorm2dOptions(c).momentum(momentum));
  torch::NoGradGuard no_grad;
  bn->weight.uniform_(0.5, 1.5);
  bn->bias.uniform_(-0.5, 0.5);
  bn->running_mean.uniform_(-1, 1);
  bn->running_var.uniform_(0.5, 2);
  bn->to(dtype);
  return bn;
}

// Two training steps (so a cumulative momentum sees num_batches_tracked > 1), gradients of the
// second. fused: bn_relu_train on channels-last float; else ATen in float64, NCHW, with ReLU's
// mask taken from `mask` when given: where the pre-activation is within rounding of 0, float
// and double may pick different sides, and the gradient there is dy or 0.
Result run(bool fused, const at::Tensor& x0, const at::Tensor& r0, const at::Tensor& dy,
           c10::optional<double> momentum, const at::Tensor& mask = {}) {
  const at::ScalarType dtype = fused ? at::kFloat : at::kDouble;
  // Both start from the same float values: the input's own rounding is not the kernel's error.
  const at::Tensor x_float = x0.to(at::kFloat);
  const auto layout = fused ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
  torch::nn::BatchNorm2d bn = make_bn(x0.size(1), momentum, dtype);
  Result out;
  for (int step = 0; step < 2; ++step) {
    const at::Tensor x = (x_float * (1 + step)).to(dtype).contiguous(layout).requires_grad_(true);
    at::Tensor r;
    // A fresh leaf each step (to() of a tensor already in dtype would return r0 itself).
    if (r0.defined())
      r = r0.to(dtype, false, /*copy=*/true).contiguous(layout).requires_grad_(true);
    if (fused) {
      REQUIRE(bn_relu_fusable(x, bn));
      out.y = bn_relu_train(x, bn, r);
    } else {
      const at::Tensor pre = r.defined() ? bn(x) + r : bn(x);
      out.y = mask.defined() && step == 1 ? pre * mask.to(dtype) : torch::relu(pre);
    }
    bn->zero_grad();
    out.y.backward(dy.to(dtype).contiguous(layout));
    out.dx = x.grad();
    if (r.defined()) out.dresidual = r.grad();
  }
  out.dweight = bn->weight.grad();
  out.dbias = bn->bias.grad();
  out.running_mean = bn->running_mean.clone();
  out.running_var = bn->running_var.clone();
  out.tracked = bn->num_batches_tracked.clone();
  return out;
}

void check_close(const at::Tensor& fused, const at::Tensor& reference, const std::string& what,
                 double tolerance) {
  INFO(what);
  REQUIRE(fused.defined());
  REQUIRE(fused.sizes() == reference.sizes());
  const at::Tensor f = fused.to(at::kDouble);
  const double scale = std::max(1.0, reference.abs().max().item<double>());
  const double error = (f - reference).abs().max().item<double>();
  CAPTURE(error, scale);
  CHECK(error <= tolerance * scale);
}

}  // namespace

TEST_CASE("bn_relu_train equals float64 BatchNorm, add and ReLU", "[bn_relu]") {
  // 16/32/64 take the width-specialised kernels, 24 and 3 the generic one; 6x8x8 rows span
  // several reduction chunks with a partial last one.
  const std::vector<std::vector<int64_t>> shapes = {
      {6, 16, 8, 8}, {4, 32, 9, 9}, {3, 64, 5, 5}, {6, 24, 8, 8}, {2, 3, 4, 4}};
  for (const auto& shape : shapes)
    for (const bool residual : {false, true})
      for (const bool cumulative : {false, true}) {
        DYNAMIC_SECTION("C " << shape[1] << ", residual " << residual << ", momentum "
                             << (cumulative ? "None" : "0.1")) {
          torch::manual_seed(shape[1]);
          const at::Tensor x = torch::randn(shape, torch::kDouble) * 2 + 0.5;
          const at::Tensor r = residual ? torch::randn(shape, torch::kDouble) : at::Tensor();
          const at::Tensor dy = torch::randn(shape, torch::kDouble);
          const c10::optional<double> momentum =
              cumulative ? c10::nullopt : c10::optional<double>(0.1);
          const Result f = run(true, x, r, dy, momentum);
          const Result ref = run(false, x, r, dy, momentum, f.y > 0);
          check_close(f.y, ref.y, "output", 1e-5);
          check_close(f.dx, ref.dx, "input gradient", 1e-5);
          check_close(f.dweight, ref.dweight, "weight gradient", 1e-5);
          check_close(f.dbias, ref.dbias, "bias gradient", 1e-5);
          check_close(f.running_mean, ref.running_mean, "running_mean", 1e-5);
          check_close(f.running_var, ref.running_var, "running_var", 1e-5);
          CHECK(f.tracked.item<int64_t>() == 2);
          CHECK(ref.tracked.item<int64_t>() == 2);
          if (residual) {
            check_close(f.dresidual, ref.dresidual, "residual gradient", 1e-6);
          } else {
            CHECK_FALSE(f.dresidual.defined());
          }
          CHECK(f.y.is_contiguous(at::MemoryFormat::ChannelsLast));
          CHECK(f.dx.is_contiguous(at::MemoryFormat::ChannelsLast));
        }
      }
}

TEST_CASE("bn_relu_train keeps the variance when the mean dwarfs the spread", "[bn_relu]") {
  // E[x^2] - E[x]^2 summed in float would lose every digit here; the pivoted sums do not.
  torch::manual_seed(2);
  const at::Tensor x = torch::randn({8, 16, 6, 6}, torch::kDouble) * 0.01 + 100.0;
  const at::Tensor dy = torch::randn({8, 16, 6, 6}, torch::kDouble);
  const Result f = run(true, x, {}, dy, 1.0);
  const Result ref = run(false, x, {}, dy, 1.0, f.y > 0);
  // momentum 1: running_var is the batch's unbiased variance, about 4e-4.
  const at::Tensor relative =
      (f.running_var.to(at::kDouble) - ref.running_var).abs() / ref.running_var;
  CHECK(relative.max().item<double>() < 1e-3);
  check_close(f.y, ref.y, "output", 1e-3);
}

TEST_CASE("bn_relu_train does not depend on the thread count", "[bn_relu]") {
  torch::manual_seed(4);
  const at::Tensor x = torch::randn({16, 16, 16, 16}, torch::kDouble);  // 16 chunks
  const at::Tensor r = torch::randn({16, 16, 16, 16}, torch::kDouble);
  const at::Tensor dy = torch::randn({16, 16, 16, 16}, torch::kDouble);
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const Result one = run(true, x, r, dy, 0.1);
  at::set_num_threads(4);
  const Result four = run(true, x, r, dy, 0.1);
  at::set_num_threads(threads);
  CHECK(torch::equal(one.y, four.y));
  CHECK(torch::equal(one.dx, four.dx));
  CHECK(torch::equal(one.dweight, four.dweight));
  CHECK(torch::equal(one.dresidual, four.dresidual));
  CHECK(torch::equal(one.running_var, four.running_var));
}

TEST_CASE("bn_relu_fusable names what the fused kernel covers", "[bn_relu]") {
  torch::nn::BatchNorm2d bn(8);
  const at::Tensor nhwc = torch::randn({2, 8, 4, 4}).contiguous(at::MemoryFormat::ChannelsLast);
  CHECK(bn_relu_fusable(nhwc, bn));
  CHECK_FALSE(bn_relu_fusable(torch::randn({2, 8, 4, 4}), bn));  // NCHW
  CHECK_FALSE(bn_relu_fusable(nhwc.to(at::kDouble), bn));
  bn->eval();
  CHECK_FALSE(bn_relu_fusable(nhwc, bn));
  CHECK_THROWS_WITH(bn_relu_train(nhwc, bn), Catch::Contains("training-mode"));
  torch::nn::BatchNorm2d untracked(torch::nn::BatchNorm2dOptions(8).track_running_stats(false));
  CHECK_FALSE(bn_relu_fusable(nhwc, untracked));
}

TEST_CASE("bn_relu_train lets a NaN through as ATen's ops do", "[bn_relu]") {
  // A NaN must reach the loss (where the trainer stops on it), not be clipped to 0 by ReLU.
  torch::nn::BatchNorm2d fused(4), plain(4);
  at::Tensor x = torch::randn({2, 4, 3, 3});
  x[1][2][0][0] = std::numeric_limits<float>::quiet_NaN();
  const at::Tensor y = bn_relu_train(x.contiguous(at::MemoryFormat::ChannelsLast), fused);
  const at::Tensor expected = torch::relu(plain(x));
  CHECK(torch::equal(torch::isnan(y), torch::isnan(expected)));
  CHECK(torch::isnan(y.select(1, 2)).all().item<bool>());  // the whole channel, as ATen
  CHECK_FALSE(torch::isnan(y.select(1, 0)).any().item<bool>());
}

TEST_CASE("bn_relu_train refuses second-order gradients", "[bn_relu]") {
  torch::nn::BatchNorm2d bn(4);
  const at::Tensor x =
      torch::randn({2, 4, 3, 3}).contiguous(at::MemoryFormat::ChannelsLast).requires_grad_(true);
  const at::Tensor y = bn_relu_train(x, bn);
  CHECK_THROWS_WITH(torch::autograd::grad({y.pow(2).sum()}, {x}, {}, c10::nullopt,
                                          /*create_graph=*/true),
                    Catch::Contains("forward_functional"));
  CHECK_THROWS_WITH(bn_relu_train(x, bn, torch::randn({2, 4, 3, 4})), Catch::Contains("residual"));
}
