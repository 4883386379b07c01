// Tests of the experts head: per-expert cosine and linear logits, aggregation, shapes, the
// initialisation, the README table.
#include "experts.hpp"

#include "common/linear_init.hpp"

#include <ATen/ATen.h>
#include <torch/utils.h>
#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

using tailor::plugins::ExpertsHead;

namespace {

tailor::HeadContext context(int64_t num_experts, int64_t in_features, int64_t num_classes) {
  tailor::HeadContext c =
      tailor::testing::head_context(in_features, std::vector<int64_t>(num_classes, 1));
  c.num_experts = num_experts;
  return c;
}

ExpertsHead::Options linear_options() {
  ExpertsHead::Options o;
  o.normalize = false;
  return o;
}

ExpertsHead::Options weights_options() {
  ExpertsHead::Options o;
  o.aggregation = ExpertsHead::Aggregation::kWeights;
  return o;
}

at::Tensor param(ExpertsHead& h, const char* name) {
  return h.module().named_parameters()[name];
}

// Expert k's cosine logits by hand: s <f/|f|, w_c/|w_c|> from its own slice of the weight.
at::Tensor cosine_by_hand(const at::Tensor& f, const at::Tensor& w, double s) {
  const at::Tensor fn = f / f.pow(2).sum(1, /*keepdim=*/true).sqrt();
  const at::Tensor wn = w / w.pow(2).sum(1, /*keepdim=*/true).sqrt();
  return s * at::matmul(fn, wn.t());
}

}  // namespace

TEST_CASE("experts declares a multi-expert head with normed logits", "[head][experts]") {
  STATIC_REQUIRE(ExpertsHead::kMultiExpert);
  STATIC_REQUIRE(ExpertsHead::kNormedLogits);
}

TEST_CASE("experts maps [K, N, D] to [K, N, C] with one weight [K, C, D]", "[head][experts]") {
  ExpertsHead cosine({}, context(3, 5, 7));
  const auto params = cosine.module().named_parameters();
  REQUIRE(params.size() == 1);  // no bias
  CHECK(params["weight"].sizes() == at::IntArrayRef({3, 7, 5}));
  const at::Tensor f = at::randn({3, 4, 5});
  const at::Tensor z = cosine.forward(f);
  CHECK(z.sizes() == at::IntArrayRef({3, 4, 7}));
  CHECK(cosine.aggregate(z).sizes() == at::IntArrayRef({4, 7}));

  ExpertsHead linear(linear_options(), context(3, 5, 7));
  const auto linear_params = linear.module().named_parameters();
  REQUIRE(linear_params.size() == 2);
  CHECK(linear_params["weight"].sizes() == at::IntArrayRef({3, 7, 5}));
  CHECK(linear_params["bias"].sizes() == at::IntArrayRef({3, 7}));
  CHECK(linear.forward(f).sizes() == at::IntArrayRef({3, 4, 7}));

  // K = 1 keeps the expert axis: [1, N, D] -> [1, N, C].
  ExpertsHead one({}, context(1, 5, 7));
  CHECK(one.forward(f.slice(0, 0, 1)).sizes() == at::IntArrayRef({1, 4, 7}));
}

TEST_CASE("experts: each expert is a cosine classifier on its own slice", "[head][experts]") {
  SECTION("hand-set weights") {
    ExpertsHead::Options o;
    o.scale = 2.0;
    ExpertsHead h(o, context(2, 2, 2));
    torch::NoGradGuard g;
    // Expert 0: classes e1 and 5 e2; expert 1: classes e2 and -e1.
    param(h, "weight").copy_(at::tensor({1.0, 0.0, 0.0, 5.0, 0.0, 1.0, -1.0, 0.0}).view({2, 2, 2}));
    const at::Tensor f =
        at::tensor({3.0, 4.0, 0.0, 1.0, 3.0, 4.0, 0.0, 1.0}, at::kFloat).view({2, 2, 2});
    const at::Tensor z = h.forward(f);
    CHECK(z[0][0][0].item<double>() == Approx(2.0 * 0.6));
    CHECK(z[0][0][1].item<double>() == Approx(2.0 * 0.8));
    CHECK(z[0][1][1].item<double>() == Approx(2.0));
    CHECK(z[1][0][0].item<double>() == Approx(2.0 * 0.8));
    CHECK(z[1][0][1].item<double>() == Approx(2.0 * -0.6));
    CHECK(z[1][1][0].item<double>() == Approx(2.0));
  }
  SECTION("random weights, the default scale 30") {
    torch::manual_seed(11);
    ExpertsHead h({}, context(3, 6, 5));
    const at::Tensor f = at::randn({3, 4, 6});
    const at::Tensor z = h.forward(f);
    const at::Tensor w = param(h, "weight");
    for (int64_t k = 0; k < 3; ++k) {
      INFO("expert " << k);
      CHECK(at::allclose(z[k], cosine_by_hand(f[k], w[k], 30.0), 1e-5, 1e-5));
    }
    // |z| <= s: cosine similarities.
    CHECK(z.abs().max().item<double>() <= 30.0 + 1e-4);
  }
}

TEST_CASE("experts: normalize = false is a linear classifier per expert", "[head][experts]") {
  torch::manual_seed(12);
  ExpertsHead h(linear_options(), context(3, 6, 5));
  const at::Tensor f = at::randn({3, 4, 6});
  const at::Tensor z = h.forward(f);
  const at::Tensor w = param(h, "weight"), b = param(h, "bias");
  for (int64_t k = 0; k < 3; ++k) {
    INFO("expert " << k);
    CHECK(at::allclose(z[k], at::matmul(f[k], w[k].t()) + b[k], 1e-5, 1e-6));
  }
  // The scale is the cosine classifiers' only.
  ExpertsHead::Options o = linear_options();
  o.scale = 5.0;
  torch::manual_seed(12);
  ExpertsHead scaled(o, context(3, 6, 5));
  CHECK(at::equal(scaled.forward(f), z));
}

TEST_CASE("experts aggregates by the mean over experts", "[head][experts]") {
  ExpertsHead h({}, context(3, 4, 5));
  const at::Tensor z = at::randn({3, 2, 5});
  const at::Tensor a = h.aggregate(z);
  CHECK(at::allclose(a, (z[0] + z[1] + z[2]) / 3.0, 1e-6, 1e-6));
  CHECK(std::string(ExpertsHead::Options::kAggregations.name(ExpertsHead::Options{}.aggregation)) ==
        "mean");
}

TEST_CASE("experts: aggregation = weights owns expert_weights [K], registered last",
          "[head][experts]") {
  for (const bool normalize : {true, false}) {
    DYNAMIC_SECTION("normalize = " << normalize) {
      ExpertsHead::Options mean_options, o = weights_options();
      mean_options.normalize = o.normalize = normalize;
      torch::manual_seed(21);
      ExpertsHead mean(mean_options, context(3, 4, 5));
      const at::Tensor next_after_mean = at::randn({4});
      torch::manual_seed(21);
      ExpertsHead weighted(o, context(3, 4, 5));
      // Filling expert_weights draws nothing: the generator is where the mean head left it.
      CHECK(at::equal(at::randn({4}), next_after_mean));
      // The mean head has no expert_weights; the weighted one has the mean head's parameters,
      // in the same order and with the same draws, then expert_weights.
      const auto mean_params = mean.module().named_parameters();
      const auto params = weighted.module().named_parameters();
      CHECK_FALSE(mean_params.contains("expert_weights"));
      REQUIRE(params.size() == mean_params.size() + 1);
      for (size_t i = 0; i < mean_params.size(); ++i) {
        CHECK(params[i].key() == mean_params[i].key());
        CHECK(at::equal(params[i].value(), mean_params[i].value()));
      }
      CHECK(params[params.size() - 1].key() == "expert_weights");
      const at::Tensor w = params["expert_weights"];
      CHECK(w.sizes() == at::IntArrayRef({3}));
      CHECK(w.requires_grad());
      CHECK(at::allclose(w, at::full({3}, 1.0 / 3.0), 0.0, 1e-7));
    }
  }
}

TEST_CASE("experts: aggregation = weights is the softmax(w)-weighted sum", "[head][experts]") {
  ExpertsHead h(weights_options(), context(3, 4, 5));
  const at::Tensor z = at::randn({3, 2, 5});
  // At the initialisation 1/K: the mean.
  CHECK(at::allclose(h.aggregate(z), (z[0] + z[1] + z[2]) / 3.0, 1e-6, 1e-6));
  CHECK(at::allclose(h.aggregate(z), ExpertsHead({}, context(3, 4, 5)).aggregate(z), 1e-6, 1e-6));
  // Other weights: sum_k exp(w_k) z_k / sum_k exp(w_k), by hand.
  {
    torch::NoGradGuard g;
    param(h, "expert_weights").copy_(at::tensor({0.5, -1.0, 2.0}));
  }
  const double e0 = std::exp(0.5), e1 = std::exp(-1.0), e2 = std::exp(2.0), s = e0 + e1 + e2;
  CHECK(at::allclose(h.aggregate(z), (e0 * z[0] + e1 * z[1] + e2 * z[2]) / s, 1e-5, 1e-6));
  // Double logits keep their dtype.
  CHECK(h.aggregate(z.to(at::kDouble)).scalar_type() == at::kDouble);

  // The gradient reaches expert_weights: d/dw_j sum(aggregate) = a_j (S_j - sum_k a_k S_k),
  // S_k = sum(z_k).
  h.aggregate(z).sum().backward();
  const at::Tensor g = param(h, "expert_weights").grad();
  REQUIRE(g.defined());
  const at::Tensor a = at::tensor({e0 / s, e1 / s, e2 / s}, at::kFloat);
  const at::Tensor sums = z.sum({1, 2});
  CHECK(at::allclose(g, a * (sums - (a * sums).sum()), 1e-4, 1e-5));
  CHECK(g.abs().sum().item<double>() > 0.0);

  // reset_parameters() puts the weights back to 1/K.
  h.reset_parameters();
  CHECK(at::allclose(param(h, "expert_weights"), at::full({3}, 1.0 / 3.0), 0.0, 1e-7));
  CHECK(std::string(ExpertsHead::Options::kAggregations.name(ExpertsHead::Aggregation::kWeights)) ==
        "weights");
}

TEST_CASE("experts refuses features and logits of the wrong shape", "[head][experts]") {
  ExpertsHead h({}, context(3, 4, 5));
  // Single-expert features [N, D].
  CHECK_THROWS_WITH(h.forward(at::randn({2, 4})),
                    Catch::Contains("[K, N, D] = [3, N, 4]") && Catch::Contains("got [2, 4]"));
  // Wrong number of experts, wrong feature width.
  CHECK_THROWS_WITH(h.forward(at::randn({2, 2, 4})), Catch::Contains("got [2, 2, 4]"));
  CHECK_THROWS_WITH(h.forward(at::randn({3, 2, 6})), Catch::Contains("got [3, 2, 6]"));
  CHECK_THROWS_WITH(h.aggregate(at::randn({2, 5})),
                    Catch::Contains("[K, N, C] = [3, N, 5]") && Catch::Contains("got [2, 5]"));
  CHECK_THROWS_WITH(h.aggregate(at::randn({3, 2, 4})), Catch::Contains("got [3, 2, 4]"));
  CHECK_THROWS_WITH(ExpertsHead({}, context(0, 4, 5)), Catch::Contains("at least 1"));
}

TEST_CASE("experts draws NormedLinear's initialisation, again on reset", "[head][experts]") {
  // uniform(-1, 1) from LibTorch's generator, then every class vector rescaled to unit length.
  torch::manual_seed(3);
  const at::Tensor drawn = at::empty({3, 5, 4}).uniform_(-1, 1);
  torch::manual_seed(3);
  ExpertsHead h({}, context(3, 4, 5));
  const at::Tensor w0 = param(h, "weight").detach().clone();
  CHECK(at::allclose(w0.norm(2, 2), at::ones({3, 5}), 1e-6, 1e-6));
  CHECK(at::allclose(w0, drawn / drawn.norm(2, 2, /*keepdim=*/true), 1e-6, 1e-6));
  // Experts start different.
  CHECK_FALSE(at::allclose(w0[0], w0[1]));

  h.reset_parameters();
  CHECK_FALSE(at::allclose(param(h, "weight"), w0));
  torch::manual_seed(3);
  h.reset_parameters();
  CHECK(at::equal(param(h, "weight"), w0));
}

TEST_CASE("experts with normalize = false draws torch.nn.Linear per expert", "[head][experts]") {
  // The linear head's draws, expert after expert: weight k, then bias k.
  torch::manual_seed(4);
  std::vector<at::Tensor> weights, biases;
  for (int k = 0; k < 3; ++k) {
    at::Tensor w = at::empty({5, 4}), b = at::empty({5});
    tailor::heads::init_linear(w, b, tailor::heads::BiasInit::kDefault);
    weights.push_back(w);
    biases.push_back(b);
  }
  torch::manual_seed(4);
  ExpertsHead h(linear_options(), context(3, 4, 5));
  CHECK(at::equal(param(h, "weight"), at::stack(weights)));
  CHECK(at::equal(param(h, "bias"), at::stack(biases)));
  const at::Tensor w0 = param(h, "weight").detach().clone();
  const at::Tensor b0 = param(h, "bias").detach().clone();
  h.reset_parameters();
  CHECK_FALSE(at::allclose(param(h, "weight"), w0));
  CHECK_FALSE(at::allclose(param(h, "bias"), b0));
}

TEST_CASE("experts: every expert's classifier gets its own gradient", "[head][experts]") {
  for (const bool normalize : {true, false}) {
    DYNAMIC_SECTION("normalize = " << normalize) {
      ExpertsHead::Options o;
      o.normalize = normalize;
      ExpertsHead h(o, context(3, 4, 5));
      const at::Tensor f = at::randn({3, 6, 4});
      // A loss on expert 1 alone reaches weight[1] only.
      h.forward(f)[1].pow(2).sum().backward();
      const at::Tensor g = param(h, "weight").grad();
      REQUIRE(g.defined());
      CHECK(g[0].abs().sum().item<double>() == 0.0);
      CHECK(g[1].abs().sum().item<double>() > 0.0);
      CHECK(g[2].abs().sum().item<double>() == 0.0);
      // The aggregate trains them all.
      h.module().zero_grad();
      h.aggregate(h.forward(f)).pow(2).sum().backward();
      for (int64_t k = 0; k < 3; ++k)
        CHECK(param(h, "weight").grad()[k].abs().sum().item<double>() > 0.0);
    }
  }
}

TEST_CASE("experts README parameter table matches the options schema", "[head][experts]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<ExpertsHead::Options>());
}
