// Unit tests of the resnet32_cifar backbone: size, shapes, shortcuts, functional forward.
#include "resnet32_cifar.hpp"

#include "../../../tests/support/float64_step.hpp"

#include <tailor/testing/readme_table.hpp>

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

using tailor::plugins::ResNet32Cifar;

namespace {

ResNet32Cifar make(int64_t depth = 32, const std::string& shortcut = "subsample_pad",
                   bool channels_last = false, uint64_t seed = 0,
                   std::vector<int64_t> shape = {3, 32, 32}) {
  torch::manual_seed(seed);
  ResNet32Cifar::Options o;
  o.depth = depth;
  o.shortcut = o.kShortcuts.value(shortcut);
  o.channels_last = channels_last;
  tailor::BackboneContext ctx;
  ctx.sample_shape = std::move(shape);
  ctx.num_classes = 10;
  return ResNet32Cifar(o, ctx);
}

int64_t parameter_count(ResNet32Cifar& net) {
  int64_t n = 0;
  for (const auto& p : net.module().parameters()) n += p.numel();
  return n;
}

tailor::NamedTensors own_parameters(ResNet32Cifar& net) {
  tailor::NamedTensors out;
  for (const auto& item : net.module().named_parameters())
    out.emplace_back(item.key(), item.value());
  return out;
}

// Copies every parameter and buffer of `from` into `to` (same architecture).
void copy_state(ResNet32Cifar& from, ResNet32Cifar& to) {
  torch::NoGradGuard no_grad;
  auto dst = to.module().named_parameters();
  for (const auto& item : from.module().named_parameters()) dst[item.key()].copy_(item.value());
  auto dst_buffers = to.module().named_buffers();
  for (const auto& item : from.module().named_buffers())
    dst_buffers[item.key()].copy_(item.value());
}

}  // namespace

TEST_CASE("resnet32_cifar has the published ResNet-32 size without its head", "[resnet32_cifar]") {
  // ResNet-32 with Linear(64, 10) has 464,154 parameters (LDAM-DRW's resnet_cifar.py; 0.46M in
  // He et al. Table 6); the host owns the head, 64 * 10 + 10 = 650 of them. Derivation of the
  // remaining 463,504 (3x3 convs without bias, BN weight + bias):
  //   stem   conv 3*16*9 = 432, BN 32                                          =     464
  //   stage1 5 x (2 * 16*16*9 + 2 * 32)                  = 5 x 4,672            =  23,360
  //   stage2 (16*32*9 + 32*32*9 + 128) + 4 x (2 * 32*32*9 + 128) = 13,952 + 74,240 = 88,192
  //   stage3 (32*64*9 + 64*64*9 + 256) + 4 x (2 * 64*64*9 + 256) = 55,552 + 295,936 = 351,488
  // Both shortcuts are parameter-free, so both variants have the same count.
  ResNet32Cifar a = make();
  CHECK(parameter_count(a) == 463504);
  CHECK(parameter_count(a) + 64 * 10 + 10 == 464154);
  ResNet32Cifar b = make(32, "avgpool_pad");
  CHECK(parameter_count(b) == 463504);
  // 6n + 2 in general: 464 + n * 4,672 + (13,952 + (n-1) * 18,560) + (55,552 + (n-1) * 73,984).
  for (int64_t depth : {20, 56}) {
    const int64_t n = (depth - 2) / 6;
    ResNet32Cifar net = make(depth);
    CHECK(parameter_count(net) ==
          464 + n * 4672 + 13952 + (n - 1) * 18560 + 55552 + (n - 1) * 73984);
  }

  std::vector<std::string> names;
  for (const auto& item : a.module().named_parameters()) names.push_back(item.key());
  CHECK(names.size() == 3 + 15 * 6);
  CHECK(names[0] == "conv1.weight");
  CHECK(names[3] == "layer1.0.conv1.weight");
  CHECK(names.back() == "layer3.4.bn2.bias");
  CHECK(a.module().named_buffers().contains("layer2.0.bn1.running_var"));
  // Kaiming-normal, fan_in, gain sqrt(2): std = sqrt(2 / (64 * 9)) for 64 -> 64 convs.
  const at::Tensor w = a.module().named_parameters()["layer3.4.conv2.weight"];
  CHECK(w.std().item<double>() == Approx(std::sqrt(2.0 / (64 * 9))).epsilon(0.05));
}

TEST_CASE("resnet32_cifar output shape and shortcut variants", "[resnet32_cifar]") {
  ResNet32Cifar a = make(32, "subsample_pad", false, /*seed=*/5);
  ResNet32Cifar b = make(32, "avgpool_pad", false, /*seed=*/5);
  a.module().eval();
  b.module().eval();
  CHECK(a.feature_dim() == 64);
  const at::Tensor x = torch::randn({3, 3, 32, 32});
  const at::Tensor ya = a.forward(x);
  CHECK(ya.sizes() == at::IntArrayRef({3, 64}));
  // Same weights (same seed), different shortcut arithmetic: different features.
  const at::Tensor yb = b.forward(x);
  CHECK(yb.sizes() == at::IntArrayRef({3, 64}));
  CHECK_FALSE(torch::allclose(ya, yb, 1e-3, 1e-4));

  // The shortcuts themselves: option A takes every second pixel, avgpool_pad averages 2x2
  // blocks; both put the 16 input channels in the middle of 32 (8 zero channels each side).
  auto* block = a.module().named_modules()["layer2.0"]->as<tailor::plugins::CifarBasicBlockImpl>();
  auto* block_b =
      b.module().named_modules()["layer2.0"]->as<tailor::plugins::CifarBasicBlockImpl>();
  const at::Tensor h = torch::randn({2, 16, 32, 32});
  const at::Tensor sa = block->shortcut(h), sb = block_b->shortcut(h);
  CHECK(sa.sizes() == at::IntArrayRef({2, 32, 16, 16}));
  CHECK(torch::equal(sa.slice(1, 8, 24), h.slice(2, 0, 32, 2).slice(3, 0, 32, 2)));
  CHECK(torch::allclose(sb.slice(1, 8, 24), torch::avg_pool2d(h, 2, 2)));
  CHECK(sa.slice(1, 0, 8).abs().sum().item<double>() == 0.0);
  CHECK(sb.slice(1, 24, 32).abs().sum().item<double>() == 0.0);

  // Any channel count; odd sizes keep ceil(H / 2) rows in both shortcuts.
  ResNet32Cifar gray = make(20, "avgpool_pad", false, 0, {1, 28, 28});
  CHECK(gray.forward(torch::randn({2, 1, 28, 28})).sizes() == at::IntArrayRef({2, 64}));
  ResNet32Cifar odd = make(20, "subsample_pad", false, 0, {3, 15, 15});
  CHECK(odd.forward(torch::randn({2, 3, 15, 15})).sizes() == at::IntArrayRef({2, 64}));
}

TEST_CASE("resnet32_cifar forward_functional equals forward", "[resnet32_cifar]") {
  const at::Tensor x = torch::randn({4, 3, 32, 32});
  for (const std::string shortcut : {"subsample_pad", "avgpool_pad"}) {
    DYNAMIC_SECTION("eval mode, " << shortcut) {
      ResNet32Cifar net = make(32, shortcut);
      net.module().eval();
      const at::Tensor y = net.forward(x);
      CHECK(torch::allclose(net.forward_functional(x, {}), y, 1e-5, 1e-6));
      CHECK(torch::allclose(net.forward_functional(x, own_parameters(net)), y, 1e-5, 1e-6));
    }
    DYNAMIC_SECTION("training mode updates BN statistics the same way, " << shortcut) {
      ResNet32Cifar a = make(32, shortcut, false, /*seed=*/3);
      ResNet32Cifar b = make(32, shortcut, false, /*seed=*/3);
      a.module().train();
      b.module().train();
      for (int step = 0; step < 2; ++step) {
        const at::Tensor ya = a.forward(x * (1.0 + step));
        const at::Tensor yb = b.forward_functional(x * (1.0 + step), own_parameters(b));
        CHECK(torch::allclose(ya, yb, 1e-5, 1e-5));
      }
      const auto ba = a.module().named_buffers();
      const auto bb = b.module().named_buffers();
      REQUIRE(ba.size() == bb.size());
      for (const auto& item : ba) {
        INFO(item.key());
        CHECK(torch::allclose(item.value().to(torch::kDouble), bb[item.key()].to(torch::kDouble),
                              1e-5, 1e-6));
      }
      CHECK(bb["layer3.4.bn2.num_batches_tracked"].item<int64_t>() == 2);
      a.module().eval();
      b.module().eval();
      CHECK(torch::allclose(a.forward(x), b.forward_functional(x, {}), 1e-5, 1e-5));
    }
  }
}

TEST_CASE("resnet32_cifar folded BatchNorm in evaluation", "[resnet32_cifar]") {
  const at::Tensor x = torch::randn({6, 3, 32, 32});
  for (const bool channels_last : {false, true}) {
    DYNAMIC_SECTION("channels_last = " << channels_last) {
      // Non-trivial BN state: a few training passes, then random affine parameters.
      ResNet32Cifar net = make(32, "subsample_pad", channels_last, /*seed=*/5);
      net.module().train();
      {
        torch::NoGradGuard no_grad;
        for (int i = 0; i < 3; ++i) net.forward(x * (1.0 + i));
        for (auto& item : net.module().named_parameters())
          if (item.key().find("bn") != std::string::npos) item.value().uniform_(0.5, 1.5);
      }
      net.module().eval();
      // With autograd on (no folding), the plain BatchNorm path.
      const at::Tensor unfolded = net.forward(x).detach();
      torch::NoGradGuard no_grad;
      const at::Tensor folded = net.forward(x);
      CHECK(torch::allclose(folded, unfolded, 1e-4, 1e-5));
      // fold_bn_eval = false is bit-identical to the unfolded path.
      ResNet32Cifar::Options o;
      o.channels_last = channels_last;
      o.fold_bn_eval = false;
      tailor::BackboneContext ctx;
      ctx.sample_shape = {3, 32, 32};
      ResNet32Cifar plain(o, ctx);
      plain.module().eval();
      {
        auto dst = plain.module().named_parameters();
        for (auto& item : net.module().named_parameters()) dst[item.key()].copy_(item.value());
        auto dst_buffers = plain.module().named_buffers();
        for (auto& item : net.module().named_buffers()) dst_buffers[item.key()].copy_(item.value());
      }
      CHECK(torch::equal(plain.forward(x), unfolded));
      // Training mode never folds: batch statistics are used.
      net.module().train();
      CHECK_FALSE(torch::allclose(net.forward(x), folded, 1e-3, 1e-3));
    }
  }
}

TEST_CASE("resnet32_cifar forward_functional substitutes parameters differentiably",
          "[resnet32_cifar]") {
  ResNet32Cifar net = make();
  net.module().train();
  const at::Tensor x = torch::randn({2, 3, 32, 32});
  const at::Tensor own = net.module().named_parameters()["layer2.0.conv1.weight"];
  // Not a rescaling: BatchNorm in training mode would undo it.
  const at::Tensor sub = (own.detach() + 0.1 * torch::randn_like(own)).requires_grad_(true);
  const at::Tensor base = net.forward_functional(x, {}).detach();
  const at::Tensor y = net.forward_functional(x, {{"layer2.0.conv1.weight", sub}});
  CHECK_FALSE(torch::allclose(y, base, 1e-4, 1e-5));
  y.pow(2).sum().backward();
  REQUIRE(sub.grad().defined());
  CHECK(sub.grad().abs().sum().item<double>() > 0.0);
  CHECK_FALSE(own.grad().defined());
  CHECK(net.module().named_parameters()["conv1.weight"].grad().defined());

  // A gradient of a gradient (MWN/Difficulty-Net look-ahead): d/dv of the loss at w - lr * g(w).
  net.module().zero_grad();
  const at::Tensor v = own.detach().clone().requires_grad_(true);
  const at::Tensor inner = net.forward_functional(x, {{"layer2.0.conv1.weight", v}}).pow(2).mean();
  const at::Tensor g = torch::autograd::grad({inner}, {v}, {}, /*retain_graph=*/true,
                                             /*create_graph=*/true)[0];
  const at::Tensor looked = v - 0.1 * g;
  const at::Tensor outer =
      net.forward_functional(x, {{"layer2.0.conv1.weight", looked}}).pow(2).mean();
  const at::Tensor gv = torch::autograd::grad({outer}, {v})[0];
  CHECK(gv.abs().sum().item<double>() > 0.0);

  CHECK_THROWS_WITH(
      net.forward_functional(x, {{"linear.weight", torch::zeros({1})}}),
      Catch::Contains("unknown parameter 'linear.weight'") && Catch::Contains("conv1.weight"));
  CHECK_THROWS_WITH(net.forward_functional(x, {{"conv1.weight", torch::zeros({16, 3, 5, 5})}}),
                    Catch::Contains("[16, 3, 5, 5]") && Catch::Contains("[16, 3, 3, 3]"));
}

TEST_CASE("resnet32_cifar channels_last gives the same features", "[resnet32_cifar]") {
  ResNet32Cifar plain = make(20, "subsample_pad", false, 1);
  ResNet32Cifar cl = make(20, "subsample_pad", true, 2);
  copy_state(plain, cl);
  const at::Tensor w = cl.module().named_parameters()["layer1.0.conv1.weight"];
  CHECK(w.is_contiguous(at::MemoryFormat::ChannelsLast));
  CHECK_FALSE(w.is_contiguous());
  plain.module().eval();
  cl.module().eval();
  const at::Tensor x = torch::randn({2, 3, 32, 32});
  CHECK(torch::allclose(cl.forward(x), plain.forward(x), 1e-4, 1e-5));
  CHECK(torch::allclose(cl.forward_functional(x, {}), plain.forward(x), 1e-4, 1e-5));
}

TEST_CASE("resnet32_cifar fused BatchNorm+ReLU trains like float64 BatchNorm", "[resnet32_cifar]") {
  // Reference: the same weights in float64, NCHW (never fused). Features, every parameter's
  // gradient and the running statistics after one training step must agree to float accuracy.
  ResNet32Cifar fused = make(20, "subsample_pad", /*channels_last=*/true, 7);
  ResNet32Cifar reference = make(20, "subsample_pad", false, 8);
  copy_state(fused, reference);
  reference.module().to(torch::kDouble);
  const at::Tensor x = torch::randn({8, 3, 32, 32});
  tailor::test::check_step_matches_float64(fused, reference, x, torch::randn({8, 64}));

  // fuse_bn_relu = false takes ATen's ops: close, but not the same arithmetic.
  ResNet32Cifar::Options o;
  o.depth = 20;
  o.channels_last = true;
  o.fuse_bn_relu = false;
  tailor::BackboneContext ctx;
  ctx.sample_shape = {3, 32, 32};
  ResNet32Cifar unfused(o, ctx);
  ResNet32Cifar again = make(20, "subsample_pad", true, 7);
  copy_state(again, unfused);
  unfused.module().train();
  again.module().train();
  const at::Tensor yu = unfused.forward(x), yf = again.forward(x);
  CHECK(torch::allclose(yu, yf, 1e-4, 1e-5));
  CHECK_FALSE(torch::equal(yu, yf));
}

TEST_CASE("resnet32_cifar rejects bad options", "[resnet32_cifar]") {
  CHECK_THROWS_WITH(make(33), Catch::Contains("depth 33 is not 6n + 2"));
  CHECK_THROWS_WITH(make(32, "subsample_pad", false, 0, {3072}),
                    Catch::Contains("[C, H, W]") && Catch::Contains("[3072]"));
}

namespace {

ResNet32Cifar make_experts(int64_t num_experts, std::vector<int64_t> widths = {24, 48},
                           uint64_t seed = 0, int64_t depth = 32, bool channels_last = false) {
  torch::manual_seed(seed);
  ResNet32Cifar::Options o;
  o.depth = depth;
  o.channels_last = channels_last;
  o.num_experts = num_experts;
  o.expert_widths = std::move(widths);
  tailor::BackboneContext ctx;
  ctx.sample_shape = {3, 32, 32};
  ctx.num_classes = 100;
  return ResNet32Cifar(o, ctx);
}

std::vector<std::string> parameter_names(ResNet32Cifar& net) {
  std::vector<std::string> names;
  for (const auto& item : net.module().named_parameters()) names.push_back(item.key());
  return names;
}

// Parameters of a CIFAR BasicBlock in -> out channels (two bias-free 3x3 convs, two BNs).
int64_t block_parameters(int64_t in, int64_t out) {
  return 9 * in * out + 9 * out * out + 4 * out;
}

}  // namespace

TEST_CASE("resnet32_cifar with num_experts = 1 is the network of before", "[resnet32_cifar]") {
  // Default options and an explicit num_experts = 1 (whatever expert_widths says): the same
  // parameters, in the same order, drawn from the same generator state.
  ResNet32Cifar plain = make(32, "subsample_pad", false, /*seed=*/9);
  ResNet32Cifar one = make_experts(1, {32, 32}, /*seed=*/9);
  CHECK(one.num_experts() == 1);
  CHECK(one.feature_dim() == 64);
  const auto a = plain.module().named_parameters(), b = one.module().named_parameters();
  REQUIRE(parameter_names(one) == parameter_names(plain));
  for (const auto& item : a) {
    INFO(item.key());
    CHECK(torch::equal(item.value(), b[item.key()]));
  }
  CHECK(parameter_names(one).size() == 3 + 15 * 6);
  CHECK(parameter_names(one)[6] == "layer1.0.conv2.weight");
  CHECK(parameter_names(one)[3 + 5 * 6] == "layer2.0.conv1.weight");
  CHECK(parameter_names(one)[3 + 10 * 6] == "layer3.0.conv1.weight");
  CHECK(parameter_count(one) == 463504);
  const at::Tensor x = torch::randn({2, 3, 32, 32});
  plain.module().eval();
  one.module().eval();
  CHECK(torch::equal(one.forward(x), plain.forward(x)));
  CHECK(one.forward(x).sizes() == at::IntArrayRef({2, 64}));
}

TEST_CASE("resnet32_cifar with num_experts = 1 draws the weights of before", "[resnet32_cifar]") {
  // Elements of the seed-0 initialisation written down from the build before num_experts
  // existed: the last conv's last element is the end of the whole stream of draws.
  ResNet32Cifar net = make();
  const auto p = net.module().named_parameters();
  CHECK(p["conv1.weight"].flatten()[0].item<float>() == 0x1.a32284p-3f);
  CHECK(p["layer2.0.conv1.weight"].flatten()[100].item<float>() == -0x1.56e8aap-5f);
  CHECK(p["layer3.4.conv2.weight"].flatten()[-1].item<float>() == -0x1.2bba6ep-5f);
}

TEST_CASE("resnet32_cifar with num_experts = 3 is RIDE's multi-expert ResNet-32",
          "[resnet32_cifar]") {
  ResNet32Cifar net = make_experts(3);
  CHECK(net.num_experts() == 3);
  CHECK(net.feature_dim() == 48);  // RIDE's reduce_dimension: layer2 24, layer3 48 channels
  const std::vector<std::string> names = parameter_names(net);
  // The stem once (conv1, bn1, layer1), then every expert's layer2 and layer3.
  CHECK(names.size() == 3 + 5 * 6 + 3 * 10 * 6);
  CHECK(names[0] == "conv1.weight");
  CHECK(names[3 + 5 * 6 - 1] == "layer1.4.bn2.bias");
  CHECK(names[3 + 5 * 6] == "experts.0.layer2.0.conv1.weight");
  CHECK(names[3 + 5 * 6 + 5 * 6] == "experts.0.layer3.0.conv1.weight");
  CHECK(names[3 + 5 * 6 + 10 * 6] == "experts.1.layer2.0.conv1.weight");
  CHECK(names.back() == "experts.2.layer3.4.bn2.bias");
  for (const auto& name : names) {
    INFO(name);
    CHECK(name.rfind("layer2", 0) != 0);
    CHECK(name.rfind("layer3", 0) != 0);
  }
  CHECK(net.module().named_buffers().contains("experts.1.layer3.4.bn2.running_var"));
  const auto p = net.module().named_parameters();
  CHECK(p["experts.0.layer2.0.conv1.weight"].sizes() == at::IntArrayRef({24, 16, 3, 3}));
  CHECK(p["experts.2.layer3.4.conv2.weight"].sizes() == at::IntArrayRef({48, 48, 3, 3}));

  // Parameters: the stem and layer1 of ResNet-32 once (464 + 5 x 4,672 = 23,824), plus three
  // experts of a 16 -> 24 stage and a 24 -> 48 stage of five blocks each.
  const int64_t stem = 464 + 5 * 4672;
  const int64_t expert = block_parameters(16, 24) + 4 * block_parameters(24, 24) +
                         block_parameters(24, 48) + 4 * block_parameters(48, 48);
  CHECK(expert == 248544);
  CHECK(parameter_count(net) == stem + 3 * expert);
  // Full-width experts: each is ResNet-32's layer2 + layer3 (88,192 + 351,488).
  ResNet32Cifar full = make_experts(3, {32, 64});
  CHECK(full.feature_dim() == 64);
  CHECK(parameter_count(full) == stem + 3 * (88192 + 351488));

  // Kaiming-normal on the experts' convs too.
  CHECK(p["experts.1.layer3.4.conv2.weight"].std().item<double>() ==
        Approx(std::sqrt(2.0 / (48 * 9))).epsilon(0.05));
  // Independent draws: the experts start different.
  CHECK_FALSE(
      torch::allclose(p["experts.0.layer2.0.conv1.weight"], p["experts.1.layer2.0.conv1.weight"]));

  // Features [K, N, D], one row per expert, different per expert.
  net.module().eval();
  const at::Tensor x = torch::randn({4, 3, 32, 32});
  const at::Tensor y = net.forward(x);
  CHECK(y.sizes() == at::IntArrayRef({3, 4, 48}));
  CHECK_FALSE(torch::allclose(y[0], y[1], 1e-3, 1e-4));
  CHECK_FALSE(torch::allclose(y[1], y[2], 1e-3, 1e-4));
  // The evaluation pass without autograd (folded BatchNorm, in-place ReLUs) agrees with the
  // pass that records gradients: no expert overwrites the stem's output the others read.
  const at::Tensor recorded = net.forward(x).detach();
  torch::NoGradGuard no_grad;
  CHECK(torch::allclose(net.forward(x), recorded, 1e-4, 1e-5));
}

TEST_CASE("resnet32_cifar expert k computes the stem, then its own layer2 and layer3",
          "[resnet32_cifar]") {
  // Full-width experts have ResNet-32's shapes: copy the stem and expert k's stages into a
  // plain ResNet-32 and both must compute the same features.
  ResNet32Cifar experts = make_experts(3, {32, 64}, /*seed=*/4, /*depth=*/20);
  experts.module().eval();
  const at::Tensor x = torch::randn({3, 3, 32, 32});
  const at::Tensor y = experts.forward(x);
  REQUIRE(y.sizes() == at::IntArrayRef({3, 3, 64}));
  for (int64_t k = 0; k < 3; ++k) {
    INFO("expert " << k);
    ResNet32Cifar plain = make(20, "subsample_pad", false, /*seed=*/100 + k);
    plain.module().eval();
    {
      torch::NoGradGuard no_grad;
      const std::string prefix = "experts." + std::to_string(k) + ".";
      auto src = experts.module().named_parameters();
      for (auto& item : plain.module().named_parameters()) {
        const std::string& name = item.key();
        const bool expert_stage = name.rfind("layer2", 0) == 0 || name.rfind("layer3", 0) == 0;
        item.value().copy_(src[expert_stage ? prefix + name : name]);
      }
    }
    CHECK(torch::allclose(plain.forward(x), y[k], 1e-5, 1e-6));
  }
}

TEST_CASE("resnet32_cifar experts: gradients reach every expert and the shared stem once",
          "[resnet32_cifar]") {
  ResNet32Cifar net = make_experts(3, {24, 48}, /*seed=*/2, /*depth=*/20);
  net.module().train();
  const at::Tensor x = torch::randn({4, 3, 32, 32});
  const auto p = net.module().named_parameters();
  // A loss on expert 1 alone: its stages and the stem learn, the other experts do not.
  net.forward(x)[1].pow(2).sum().backward();
  auto grad_sum = [&](const std::string& name) {
    const at::Tensor g = p[name].grad();
    return g.defined() ? g.abs().sum().item<double>() : 0.0;
  };
  CHECK(grad_sum("conv1.weight") > 0.0);
  CHECK(grad_sum("layer1.0.conv1.weight") > 0.0);
  CHECK(grad_sum("experts.1.layer2.0.conv1.weight") > 0.0);
  CHECK(grad_sum("experts.1.layer3.2.conv2.weight") > 0.0);
  CHECK(grad_sum("experts.0.layer2.0.conv1.weight") == 0.0);
  CHECK(grad_sum("experts.2.layer3.2.conv2.weight") == 0.0);
  // A loss on all of them reaches every parameter.
  net.module().zero_grad();
  net.forward(x).pow(2).sum().backward();
  for (const auto& item : p) {
    INFO(item.key());
    REQUIRE(item.value().grad().defined());
    CHECK(item.value().grad().abs().sum().item<double>() > 0.0);
  }
  // Every expert's BatchNorms saw the batch (two training passes so far).
  for (int k = 0; k < 3; ++k)
    CHECK(net.module()
              .named_buffers()["experts." + std::to_string(k) + ".layer3.2.bn2.num_batches_tracked"]
              .item<int64_t>() == 2);
}

TEST_CASE("resnet32_cifar experts in channels-last memory", "[resnet32_cifar]") {
  ResNet32Cifar plain = make_experts(2, {24, 48}, /*seed=*/6, /*depth=*/20);
  ResNet32Cifar cl = make_experts(2, {24, 48}, /*seed=*/7, /*depth=*/20, /*channels_last=*/true);
  copy_state(plain, cl);
  plain.module().eval();
  cl.module().eval();
  const at::Tensor x = torch::randn({2, 3, 32, 32});
  CHECK(torch::allclose(cl.forward(x), plain.forward(x), 1e-4, 1e-5));
}

TEST_CASE("resnet32_cifar experts refuse bad options and the functional forward",
          "[resnet32_cifar]") {
  ResNet32Cifar net = make_experts(3);
  CHECK_THROWS_WITH(net.forward_functional(torch::randn({1, 3, 32, 32}), {}),
                    Catch::Contains("resnet32_cifar") &&
                        Catch::Contains("no functional forward with num_experts > 1"));
  CHECK_THROWS_WITH(make_experts(3, {8, 48}),
                    Catch::Contains("expert_widths") && Catch::Contains("[8, 48]"));
  CHECK_THROWS_WITH(make_experts(3, {48, 24}), Catch::Contains("16 <= layer2 <= layer3"));
  CHECK_THROWS_WITH(make_experts(3, {24}), Catch::Contains("got [24]"));
  CHECK_THROWS_WITH(make_experts(0), Catch::Contains("num_experts is 0"));
}

TEST_CASE("resnet32_cifar README parameter table matches the options schema", "[resnet32_cifar]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<ResNet32Cifar::Options>());
}
