// Unit tests of SyncBatchNorm (composite and fused): two ranks as two threads, against BatchNorm
// over both ranks' rows.
#include "common/batch_norm.hpp"
#include "common/bn_relu.hpp"

#include <tailor/abi.h>
#include <torch/torch.h>
#include <catch2/catch.hpp>
#include <tailor/distributed.hpp>
#include <tailor/payload.hpp>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace {

using tailor::plugins::bn_forward;
using tailor::plugins::bn_relu_train;

// A host whose ranks are threads: all_reduce_sum waits for the other rank's call and sums the
// two tensors, as Gloo would between two processes.
struct Exchange {
  std::mutex m;
  std::condition_variable cv;
  int world = 2;
  int arrived = 0;
  int64_t generation = 0;
  int64_t calls = 0;
  at::Tensor pending, result;
} g_exchange;

int32_t fake_world_size() {
  return g_exchange.world;
}

TailorStatus fake_all_reduce_sum(TailorTensor handle, TailorError*) {
  at::Tensor& t = tailor::payload::tensor(handle);
  std::unique_lock<std::mutex> lock(g_exchange.m);
  ++g_exchange.calls;
  if (g_exchange.world == 1) return TAILOR_OK;
  if (g_exchange.arrived == 0) {
    g_exchange.pending = t.clone();
    g_exchange.arrived = 1;
    const int64_t generation = g_exchange.generation;
    g_exchange.cv.wait(lock, [&] { return g_exchange.generation != generation; });
  } else {
    g_exchange.result = g_exchange.pending + t;
    g_exchange.arrived = 0;
    ++g_exchange.generation;
    g_exchange.cv.notify_all();
  }
  t.copy_(g_exchange.result);
  return TAILOR_OK;
}

struct FakeHost {
  TailorHostApi api{};
  explicit FakeHost(int world) {
    g_exchange.world = world;
    g_exchange.calls = 0;
    api.struct_size = sizeof(TailorHostApi);
    api.world_size = &fake_world_size;
    api.all_reduce_sum = &fake_all_reduce_sum;
    tailor::detail::globals().api.store(&api);
  }
  ~FakeHost() { tailor::detail::globals().api.store(nullptr); }
};

torch::nn::BatchNorm2d make_bn(int64_t c, at::ScalarType dtype) {
  torch::manual_seed(3);
  torch::nn::BatchNorm2d bn(torch::nn::BatchNorm2dOptions(c).momentum(0.1));
  torch::NoGradGuard no_grad;
  bn->weight.uniform_(0.5, 1.5);
  bn->bias.uniform_(-0.5, 0.5);
  bn->to(dtype);
  return bn;
}

struct Step {
  at::Tensor y, dx, dweight, dbias, running_mean, running_var;
};

// One training step of `forward` on this rank's rows `x` with loss sum(y * g).
using Forward = std::function<at::Tensor(const at::Tensor&, torch::nn::BatchNorm2d&)>;
Step rank_step(const Forward& forward, const at::Tensor& x, const at::Tensor& g,
               at::ScalarType dtype) {
  torch::nn::BatchNorm2d bn = make_bn(x.size(1), dtype);
  at::Tensor xs = x.to(dtype).detach().clone(at::MemoryFormat::Preserve).requires_grad_();
  at::Tensor y = forward(xs, bn);
  (y * g.to(dtype)).sum().backward();
  return {y.detach(),      xs.grad(),        bn->weight.grad(),
          bn->bias.grad(), bn->running_mean, bn->running_var};
}

// Both ranks at once, each on its own thread.
std::pair<Step, Step> two_ranks(const Forward& forward, const at::Tensor& xa, const at::Tensor& xb,
                                const at::Tensor& ga, const at::Tensor& gb, at::ScalarType dtype) {
  Step a, b;
  std::thread other([&] { b = rank_step(forward, xb, gb, dtype); });
  a = rank_step(forward, xa, ga, dtype);
  other.join();
  return {a, b};
}

// BatchNorm (+ ReLU) in training mode over cat([xa, xb]) in float64, loss sum(y * cat([ga, gb])).
Step reference(const at::Tensor& xa, const at::Tensor& xb, const at::Tensor& ga,
               const at::Tensor& gb, bool relu) {
  torch::nn::BatchNorm2d bn = make_bn(xa.size(1), at::kDouble);
  at::Tensor x = at::cat({xa, xb}).to(at::kDouble).requires_grad_();
  at::Tensor y = bn(x);
  if (relu) y = at::relu(y);
  (y * at::cat({ga, gb}).to(at::kDouble)).sum().backward();
  return {y.detach(),      x.grad(),         bn->weight.grad(),
          bn->bias.grad(), bn->running_mean, bn->running_var};
}

void check_against(const std::pair<Step, Step>& ranks, const Step& want, double rtol, double atol) {
  const int64_t n = ranks.first.y.size(0);
  const auto d = [](const at::Tensor& t) { return t.to(at::kDouble); };
  CHECK(torch::allclose(d(at::cat({ranks.first.y, ranks.second.y})), want.y, rtol, atol));
  CHECK(torch::allclose(d(at::cat({ranks.first.dx, ranks.second.dx})), want.dx, rtol, atol));
  // Each rank keeps its own parameter gradient; the reducer sums (averages) them.
  CHECK(torch::allclose(d(ranks.first.dweight + ranks.second.dweight), want.dweight, rtol, atol));
  CHECK(torch::allclose(d(ranks.first.dbias + ranks.second.dbias), want.dbias, rtol, atol));
  for (const Step* s : {&ranks.first, &ranks.second}) {
    CHECK(torch::allclose(d(s->running_mean), want.running_mean, rtol, atol));
    CHECK(torch::allclose(d(s->running_var), want.running_var, rtol, atol));
  }
  CHECK(n > 0);
}

}  // namespace

TEST_CASE("sync_batch_norm over two ranks is BatchNorm over both ranks' rows", "[sync_bn]") {
  torch::manual_seed(5);
  const at::Tensor xa = torch::randn({3, 3, 4, 4}, at::kDouble) * 2 + 1;
  const at::Tensor xb = torch::randn({3, 3, 4, 4}, at::kDouble) * 0.5 - 2;
  const at::Tensor ga = torch::randn({3, 3, 4, 4}, at::kDouble);
  const at::Tensor gb = torch::randn({3, 3, 4, 4}, at::kDouble);
  const Step want = reference(xa, xb, ga, gb, false);

  FakeHost host(2);
  const auto ranks = two_ranks(
      [](const at::Tensor& x, torch::nn::BatchNorm2d& bn) { return bn_forward(x, bn, true); }, xa,
      xb, ga, gb, at::kDouble);
  CHECK(g_exchange.calls == 2 * 4);  // per rank: mean and variance, and their gradients
  check_against(ranks, want, 1e-10, 1e-12);

  // Without synchronisation each rank normalises by its own rows: the test can tell.
  const auto local = two_ranks(
      [](const at::Tensor& x, torch::nn::BatchNorm2d& bn) { return bn_forward(x, bn, false); }, xa,
      xb, ga, gb, at::kDouble);
  CHECK_FALSE(torch::allclose(at::cat({local.first.dx, local.second.dx}), want.dx, 1e-6, 1e-8));
}

TEST_CASE("sync_batch_norm in one process is BatchNorm; evaluation never synchronises",
          "[sync_bn]") {
  torch::manual_seed(6);
  const at::Tensor x = torch::randn({6, 2, 3, 3}, at::kDouble);
  FakeHost host(1);
  torch::nn::BatchNorm2d a = make_bn(2, at::kDouble), b = make_bn(2, at::kDouble);
  CHECK(torch::allclose(tailor::plugins::sync_batch_norm(x, a), b(x), 1e-12, 1e-12));
  CHECK(torch::allclose(a->running_var, b->running_var, 1e-12, 1e-12));
  CHECK(g_exchange.calls == 0);  // world size 1: no collective
  FakeHost two(2);
  a->eval();
  CHECK(torch::equal(bn_forward(x, a, true), a(x)));
  CHECK(g_exchange.calls == 0);
}

TEST_CASE("the fused BatchNorm+ReLU synchronises in forward and backward", "[sync_bn]") {
  torch::manual_seed(7);
  const auto cl = [](const at::Tensor& t) { return t.contiguous(at::MemoryFormat::ChannelsLast); };
  const at::Tensor xa = cl(torch::randn({2, 8, 6, 6}) * 2 + 0.5);
  const at::Tensor xb = cl(torch::randn({2, 8, 6, 6}) - 1);
  const at::Tensor ga = cl(torch::randn({2, 8, 6, 6}));
  const at::Tensor gb = cl(torch::randn({2, 8, 6, 6}));
  const Step want = reference(xa, xb, ga, gb, true);

  FakeHost host(2);
  const auto ranks = two_ranks(
      [](const at::Tensor& x, torch::nn::BatchNorm2d& bn) {
        REQUIRE(tailor::plugins::bn_relu_fusable(x, bn));
        return bn_relu_train(x, bn, {}, /*sync=*/true);
      },
      xa, xb, ga, gb, at::kFloat);
  CHECK(g_exchange.calls == 2 * 2);  // per rank: one all-reduce in forward, one in backward
  check_against(ranks, want, 1e-4, 1e-5);
}
