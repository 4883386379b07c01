// Unit tests of the small_cnn backbone: shapes, parameter count, functional forward.
#include "small_cnn.hpp"

#include "../../../tests/support/float64_step.hpp"

#include <tailor/testing/readme_table.hpp>

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

using tailor::plugins::SmallCnn;

namespace {

SmallCnn make(int64_t width, std::vector<int64_t> shape = {1, 28, 28}, double dropout = 0.0,
              uint64_t seed = 0) {
  torch::manual_seed(seed);
  SmallCnn::Options o;
  o.width = width;
  o.dropout = dropout;
  tailor::BackboneContext ctx;
  ctx.sample_shape = std::move(shape);
  ctx.num_classes = 10;
  return SmallCnn(o, ctx);
}

tailor::NamedTensors own_parameters(SmallCnn& net) {
  tailor::NamedTensors out;
  for (const auto& item : net.module().named_parameters())
    out.emplace_back(item.key(), item.value());
  return out;
}

}  // namespace

TEST_CASE("small_cnn output shape and feature_dim", "[small_cnn]") {
  SmallCnn net = make(8);
  CHECK(net.feature_dim() == 32);
  const at::Tensor y = net.forward(torch::randn({3, 1, 28, 28}));
  CHECK(y.sizes() == at::IntArrayRef({3, 32}));

  SmallCnn rgb = make(4, {3, 32, 32});
  CHECK(rgb.feature_dim() == 16);
  CHECK(rgb.forward(torch::randn({2, 3, 32, 32})).sizes() == at::IntArrayRef({2, 16}));

  SmallCnn odd = make(2, {1, 5, 7});  // 5x7 -> 2x3 -> 1x1
  CHECK(odd.forward(torch::randn({2, 1, 5, 7})).sizes() == at::IntArrayRef({2, 8}));
}

TEST_CASE("small_cnn parameter count and names", "[small_cnn]") {
  SmallCnn net = make(8);
  // convs (no bias): 1*8*9 + 8*8*9 + 8*16*9 + 16*32*9 = 72 + 576 + 1152 + 4608 = 6408;
  // BN weight+bias: 2 * (8 + 8 + 16 + 32) = 128.
  int64_t count = 0;
  for (const auto& p : net.module().parameters()) count += p.numel();
  CHECK(count == 6536);
  // In general 99 w^2 + 9 C w + 16 w.
  SmallCnn wide = make(32, {3, 28, 28});
  int64_t wide_count = 0;
  for (const auto& p : wide.module().parameters()) wide_count += p.numel();
  CHECK(wide_count == 99 * 32 * 32 + 9 * 3 * 32 + 16 * 32);

  std::vector<std::string> names;
  for (const auto& item : net.module().named_parameters()) names.push_back(item.key());
  CHECK(names == std::vector<std::string>{"conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight",
                                          "bn2.weight", "bn2.bias", "conv3.weight", "bn3.weight",
                                          "bn3.bias", "conv4.weight", "bn4.weight", "bn4.bias"});
  // Running statistics are buffers, so the host's checkpoints carry them.
  CHECK(net.module().named_buffers().contains("bn4.running_var"));

  // Kaiming-normal (fan_out, ReLU): std = sqrt(2 / (out_channels * 9)).
  const at::Tensor w = net.module().named_parameters()["conv4.weight"];
  CHECK(w.std().item<double>() == Approx(std::sqrt(2.0 / (32 * 9))).epsilon(0.1));
}

TEST_CASE("small_cnn forward_functional with its own parameters equals forward", "[small_cnn]") {
  const at::Tensor x = torch::randn({4, 1, 28, 28});
  SECTION("eval mode") {
    SmallCnn net = make(8);
    net.module().eval();
    const at::Tensor a = net.forward(x);
    CHECK(torch::allclose(net.forward_functional(x, {}), a, 1e-5, 1e-6));
    CHECK(torch::allclose(net.forward_functional(x, own_parameters(net)), a, 1e-5, 1e-6));
  }
  SECTION("training mode updates BN statistics the same way") {
    SmallCnn a = make(8, {1, 28, 28}, 0.0, /*seed=*/3);
    SmallCnn b = make(8, {1, 28, 28}, 0.0, /*seed=*/3);
    a.module().train();
    b.module().train();
    for (int step = 0; step < 2; ++step) {
      const at::Tensor ya = a.forward(x + step);
      const at::Tensor yb = b.forward_functional(x + step, own_parameters(b));
      CHECK(torch::allclose(ya, yb, 1e-5, 1e-6));
    }
    const auto ba = a.module().named_buffers();
    const auto bb = b.module().named_buffers();
    REQUIRE(ba.size() == bb.size());
    for (const auto& item : ba) {
      INFO(item.key());
      CHECK(torch::allclose(item.value().to(torch::kDouble), bb[item.key()].to(torch::kDouble),
                            1e-5, 1e-6));
    }
    CHECK(bb["bn1.num_batches_tracked"].item<int64_t>() == 2);
    // And eval after training agrees too (running statistics are used).
    a.module().eval();
    b.module().eval();
    CHECK(torch::allclose(a.forward(x), b.forward_functional(x, {}), 1e-5, 1e-6));
  }
}

TEST_CASE("small_cnn forward_functional substitutes parameters differentiably", "[small_cnn]") {
  SmallCnn net = make(8);
  net.module().eval();
  const at::Tensor x = torch::randn({2, 1, 28, 28});
  const at::Tensor own = net.module().named_parameters()["conv1.weight"];
  const at::Tensor sub = (own.detach() * 1.5 + 0.01).requires_grad_(true);

  const at::Tensor base = net.forward(x).detach();
  const at::Tensor y = net.forward_functional(x, {{"conv1.weight", sub}});
  CHECK_FALSE(torch::allclose(y, base, 1e-4, 1e-5));
  y.pow(2).sum().backward();
  REQUIRE(sub.grad().defined());
  CHECK(sub.grad().abs().sum().item<double>() > 0.0);
  CHECK_FALSE(own.grad().defined());  // the module's own conv1 weight was not used
  // Parameters that were not substituted are the module's own and still get gradients.
  CHECK(net.module().named_parameters()["conv4.weight"].grad().defined());
}

TEST_CASE("small_cnn rejects bad inputs", "[small_cnn]") {
  SmallCnn net = make(4);
  const at::Tensor x = torch::randn({2, 1, 28, 28});
  CHECK_THROWS_WITH(
      net.forward_functional(x, {{"fc.weight", torch::zeros({1})}}),
      Catch::Contains("unknown parameter 'fc.weight'") && Catch::Contains("conv1.weight"));
  CHECK_THROWS_WITH(net.forward_functional(x, {{"conv1.weight", torch::zeros({4, 1, 5, 5})}}),
                    Catch::Contains("[4, 1, 5, 5]") && Catch::Contains("[4, 1, 3, 3]"));
  CHECK_THROWS_WITH(make(4, {784}), Catch::Contains("[C, H, W]") && Catch::Contains("[784]"));
  CHECK_THROWS_WITH(make(4, {1, 3, 28}), Catch::Contains("H, W >= 4"));
}

TEST_CASE("small_cnn dropout acts only in training", "[small_cnn]") {
  const at::Tensor x = torch::randn({8, 1, 28, 28});
  SmallCnn with = make(4, {1, 28, 28}, 0.5, /*seed=*/1);
  SmallCnn without = make(4, {1, 28, 28}, 0.0, /*seed=*/1);
  with.module().eval();
  without.module().eval();
  CHECK(torch::allclose(with.forward(x), without.forward(x)));
  // In training each feature is either dropped or scaled by 1 / (1 - p) = 2.
  with.module().train();
  without.module().train();
  const at::Tensor y = with.forward(x);
  const at::Tensor reference = without.forward(x);
  const at::Tensor dropped = y == 0;
  CHECK(dropped.sum().item<int64_t>() > 0);
  CHECK(torch::allclose(y, torch::where(dropped, torch::zeros_like(y), 2 * reference), 1e-5, 1e-6));
}

TEST_CASE("small_cnn fused BatchNorm+ReLU trains like float64 BatchNorm", "[small_cnn]") {
  // The trainer's layout (channels-last weights and inputs) takes the fused node; the reference
  // is the same weights in float64, NCHW, which never fuses.
  auto channels_last = [](SmallCnn& net) {
    torch::NoGradGuard no_grad;
    for (auto& p : net.module().parameters())
      if (p.dim() == 4) p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
  };
  auto copy_state = [](SmallCnn& from, SmallCnn& to) {
    torch::NoGradGuard no_grad;
    auto params = to.module().named_parameters();
    for (const auto& item : from.module().named_parameters())
      params[item.key()].copy_(item.value());
  };
  SmallCnn fused = make(16, {1, 28, 28}, 0.0, 5);
  channels_last(fused);
  SmallCnn reference = make(16, {1, 28, 28}, 0.0, 6);
  copy_state(fused, reference);
  reference.module().to(torch::kDouble);
  const at::Tensor x = torch::randn({8, 1, 28, 28}).contiguous(at::MemoryFormat::ChannelsLast);
  tailor::test::check_step_matches_float64(fused, reference, x, torch::randn({8, 64}));

  // fuse_bn_relu = false: ATen's ops, close but not the same arithmetic.
  SmallCnn::Options o;
  o.width = 16;
  o.fuse_bn_relu = false;
  tailor::BackboneContext ctx;
  ctx.sample_shape = {1, 28, 28};
  SmallCnn unfused(o, ctx);
  SmallCnn again = make(16, {1, 28, 28}, 0.0, 5);
  channels_last(again);
  copy_state(again, unfused);
  channels_last(unfused);
  const at::Tensor yu = unfused.forward(x);
  const at::Tensor ya = again.forward(x);
  CHECK(torch::allclose(yu, ya, 1e-4, 1e-5));
  CHECK_FALSE(torch::equal(yu, ya));
}

namespace {

SmallCnn make_experts(int64_t num_experts, int64_t width = 8, uint64_t seed = 0,
                      double dropout = 0.0) {
  torch::manual_seed(seed);
  SmallCnn::Options o;
  o.width = width;
  o.dropout = dropout;
  o.num_experts = num_experts;
  tailor::BackboneContext ctx;
  ctx.sample_shape = {1, 28, 28};
  ctx.num_classes = 10;
  return SmallCnn(o, ctx);
}

std::vector<std::string> parameter_names(SmallCnn& net) {
  std::vector<std::string> names;
  for (const auto& item : net.module().named_parameters()) names.push_back(item.key());
  return names;
}

int64_t parameter_count(SmallCnn& net) {
  int64_t n = 0;
  for (const auto& p : net.module().parameters()) n += p.numel();
  return n;
}

}  // namespace

TEST_CASE("small_cnn with num_experts = 1 is the network of before", "[small_cnn]") {
  SmallCnn plain = make(8, {1, 28, 28}, 0.0, /*seed=*/9);
  SmallCnn one = make_experts(1, 8, /*seed=*/9);
  CHECK(one.num_experts() == 1);
  CHECK(one.feature_dim() == 32);
  CHECK(parameter_names(one) == std::vector<std::string>{"conv1.weight", "bn1.weight", "bn1.bias",
                                                         "conv2.weight", "bn2.weight", "bn2.bias",
                                                         "conv3.weight", "bn3.weight", "bn3.bias",
                                                         "conv4.weight", "bn4.weight", "bn4.bias"});
  const auto a = plain.module().named_parameters(), b = one.module().named_parameters();
  for (const auto& item : a) {
    INFO(item.key());
    CHECK(torch::equal(item.value(), b[item.key()]));
  }
  const at::Tensor x = torch::randn({2, 1, 28, 28});
  CHECK(torch::equal(one.forward(x), plain.forward(x)));
  CHECK(one.forward(x).sizes() == at::IntArrayRef({2, 32}));
}

TEST_CASE("small_cnn with num_experts = 1 draws the weights of before", "[small_cnn]") {
  // Elements of the seed-0, width-8 initialisation written down from the build before
  // num_experts existed; conv4's last element is the end of the stream of draws.
  SmallCnn net = make(8);
  const auto p = net.module().named_parameters();
  CHECK(p["conv1.weight"].flatten()[0].item<float>() == -0x1.6f65f6p-2f);
  CHECK(p["conv3.weight"].flatten()[100].item<float>() == 0x1.88d674p-3f);
  CHECK(p["conv4.weight"].flatten()[-1].item<float>() == 0x1.25ac42p-3f);
}

TEST_CASE("small_cnn with num_experts = 3 shares conv1 and conv2", "[small_cnn]") {
  SmallCnn net = make_experts(3, 8);
  CHECK(net.num_experts() == 3);
  CHECK(net.feature_dim() == 32);
  const std::vector<std::string> names = parameter_names(net);
  REQUIRE(names.size() == 6 + 3 * 6);
  CHECK(std::vector<std::string>(names.begin(), names.begin() + 8) ==
        std::vector<std::string>{"conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight",
                                 "bn2.weight", "bn2.bias", "experts.0.conv3.weight",
                                 "experts.0.bn3.weight"});
  CHECK(names.back() == "experts.2.bn4.bias");
  CHECK(net.module().named_buffers().contains("experts.1.bn4.running_var"));
  // Shared block once (1*8*9 + 8*8*9 + 2 * 16 = 680), three experts of
  // 8*16*9 + 16*32*9 + 2 * (16 + 32) = 5,856.
  CHECK(parameter_count(net) == 680 + 3 * 5856);
  CHECK(parameter_count(net) - 2 * 5856 == 6536);  // one expert: the plain network
  const auto p = net.module().named_parameters();
  CHECK(p["experts.2.conv4.weight"].sizes() == at::IntArrayRef({32, 16, 3, 3}));
  CHECK(p["experts.1.conv4.weight"].std().item<double>() ==
        Approx(std::sqrt(2.0 / (32 * 9))).epsilon(0.1));
  CHECK_FALSE(torch::allclose(p["experts.0.conv3.weight"], p["experts.1.conv3.weight"]));

  const at::Tensor x = torch::randn({4, 1, 28, 28});
  net.module().eval();
  const at::Tensor y = net.forward(x);
  CHECK(y.sizes() == at::IntArrayRef({3, 4, 32}));
  CHECK_FALSE(torch::allclose(y[0], y[1], 1e-3, 1e-4));
  CHECK_FALSE(torch::allclose(y[1], y[2], 1e-3, 1e-4));

  // Expert k computes the plain network with the shared block and its own conv3, conv4.
  for (int64_t k = 0; k < 3; ++k) {
    INFO("expert " << k);
    SmallCnn plain = make(8, {1, 28, 28}, 0.0, /*seed=*/50 + k);
    plain.module().eval();
    {
      torch::NoGradGuard no_grad;
      for (auto& item : plain.module().named_parameters()) {
        const std::string& name = item.key();
        const bool own = name.rfind("conv3", 0) == 0 || name.rfind("bn3", 0) == 0 ||
                         name.rfind("conv4", 0) == 0 || name.rfind("bn4", 0) == 0;
        item.value().copy_(p[own ? "experts." + std::to_string(k) + "." + name : name]);
      }
    }
    CHECK(torch::allclose(plain.forward(x), y[k], 1e-5, 1e-6));
  }
}

TEST_CASE("small_cnn experts: gradients reach every expert and the shared block", "[small_cnn]") {
  SmallCnn net = make_experts(3, 4, /*seed=*/2);
  net.module().train();
  const at::Tensor x = torch::randn({4, 1, 28, 28});
  const auto p = net.module().named_parameters();
  auto grad_sum = [&](const std::string& name) {
    const at::Tensor g = p[name].grad();
    return g.defined() ? g.abs().sum().item<double>() : 0.0;
  };
  net.forward(x)[2].pow(2).sum().backward();
  CHECK(grad_sum("conv1.weight") > 0.0);
  CHECK(grad_sum("conv2.weight") > 0.0);
  CHECK(grad_sum("experts.2.conv3.weight") > 0.0);
  CHECK(grad_sum("experts.2.conv4.weight") > 0.0);
  CHECK(grad_sum("experts.0.conv4.weight") == 0.0);
  CHECK(grad_sum("experts.1.conv3.weight") == 0.0);
  net.module().zero_grad();
  net.forward(x).pow(2).sum().backward();
  for (const auto& item : p) {
    INFO(item.key());
    REQUIRE(item.value().grad().defined());
    CHECK(item.value().grad().abs().sum().item<double>() > 0.0);
  }
  for (int k = 0; k < 3; ++k)
    CHECK(net.module()
              .named_buffers()["experts." + std::to_string(k) + ".bn3.num_batches_tracked"]
              .item<int64_t>() == 2);
}

TEST_CASE("small_cnn experts: dropout, and no functional forward", "[small_cnn]") {
  SmallCnn net = make_experts(2, 4, /*seed=*/1, /*dropout=*/0.5);
  net.module().train();
  const at::Tensor y = net.forward(torch::randn({8, 1, 28, 28}));
  CHECK(y.sizes() == at::IntArrayRef({2, 8, 16}));
  CHECK((y == 0).sum().item<int64_t>() > 0);
  CHECK_THROWS_WITH(net.forward_functional(torch::randn({1, 1, 28, 28}), {}),
                    Catch::Contains("small_cnn") &&
                        Catch::Contains("no functional forward with num_experts > 1"));
  CHECK_THROWS_WITH(make_experts(0), Catch::Contains("num_experts is 0"));
}

TEST_CASE("small_cnn README parameter table matches the options schema", "[small_cnn]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<SmallCnn::Options>());
}
