// Tests of the focal loss: golden values from PyTorch, option checks, README table.
#include "focal.hpp"

#include "../../../tests/support/class_vectors.hpp"
#include "../../../tests/support/golden.hpp"

#include <cmath>

#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

using tailor::plugins::FocalLoss;
using tailor::testing::loss_context;
using tailor::testing::options;

TEST_CASE("focal matches the PyTorch reference", "[focal][golden]") {
  for (const auto& g : tailor::test::load_golden("focal"))
    for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
      DYNAMIC_SECTION(g.name << " " << dtype) {
        FocalLoss::Options o;
        o.form = o.kForms.value(g.options.value("form", o.kForms.name(o.form)));
        o.gamma = g.options.value("gamma", o.gamma);
        o.alpha = g.options.value("alpha", o.alpha);
        o.class_weights = g.options.value("class_weights", o.class_weights);
        o.detach_modulator = g.options.value("detach_modulator", o.detach_modulator);
        o.reduction =
            o.kReductions.value(g.options.value("reduction", o.kReductions.name(o.reduction)));
        o.weight_mode = o.kWeightModes.value(
            g.options.value("weight_mode", o.kWeightModes.name(o.weight_mode)));
        at::Tensor logits = g.tensor("logits", dtype).set_requires_grad(true);
        FocalLoss loss(o, loss_context(std::vector<int64_t>(logits.size(1), 1)));
        tailor::LossInput in;
        in.logits = logits;
        in.targets = g.tensor("targets");
        at::Tensor value = loss.forward(in);
        value.backward();
        const auto tol = tailor::test::tolerance(dtype);
        CHECK(value.item<double>() == Approx(g.scalar("loss")).epsilon(tol.value));
        CHECK(at::allclose(logits.grad(), g.tensor("grad", dtype), tol.rtol, tol.atol));
      }
    }
}

TEST_CASE("focal with gamma 0 is cross-entropy", "[focal]") {
  const at::Tensor logits = at::randn({6, 4}, at::kFloat);
  const at::Tensor targets = at::tensor(std::vector<int64_t>{0, 1, 2, 3, 0, 1});
  FocalLoss::Options o;
  o.gamma = 0.0;
  FocalLoss loss(o, loss_context({1, 1, 1, 1}));
  tailor::LossInput in{logits, targets};
  CHECK(loss.forward(in).item<double>() ==
        Approx(at::cross_entropy_loss(logits, targets).item<double>()).epsilon(1e-6));
}

TEST_CASE("focal official_ldam_drw puts the weight inside the modulator", "[focal]") {
  // One sample, two classes, logits (0, 0): CE = log 2, p_y = 1/2. With w_y = 2 and gamma = 1
  // the default weighs (1 - 1/2) log 2 by 2; LDAM-DRW's form takes p = exp(-2 log 2) = 1/4,
  // so (1 - 1/4) 2 log 2.
  FocalLoss::Options o;
  o.gamma = 1.0;
  o.class_weights = {2.0, 1.0};
  const tailor::LossInput in{at::zeros({1, 2}), at::tensor(std::vector<int64_t>{0})};
  CHECK(FocalLoss(o, loss_context({1, 1})).forward(in).item<double>() == Approx(std::log(2.0)));
  o.weight_mode = FocalLoss::Options::WeightMode::kOfficialLdamDrw;
  CHECK(FocalLoss(o, loss_context({1, 1})).forward(in).item<double>() ==
        Approx(1.5 * std::log(2.0)));
}

TEST_CASE("focal stays finite for saturated logits and gamma below 1", "[focal]") {
  for (const char* form : {"softmax", "sigmoid"}) {
    FocalLoss::Options o;
    o.form = o.kForms.value(form);
    o.gamma = 0.5;
    FocalLoss loss(o, loss_context({1, 1, 1}));
    at::Tensor logits = at::tensor(std::vector<float>{200.f, -200.f, 0.f, -150.f, 150.f, -90.f})
                            .view({2, 3})
                            .set_requires_grad(true);
    tailor::LossInput in{logits, at::tensor(std::vector<int64_t>{0, 1})};
    at::Tensor value = loss.forward(in);
    value.backward();
    INFO(form);
    CHECK(std::isfinite(value.item<double>()));
    CHECK(at::isfinite(logits.grad()).all().item<bool>());
  }
}

TEST_CASE("focal rejects bad options with clear messages", "[focal]") {
  SECTION("negative gamma") {
    CHECK_THROWS_WITH(options<FocalLoss::Options>("gamma = -1.0"),
                      "exp.toml:1:9: [loss] gamma must be >= 0, got -1");
  }
  SECTION("unknown form") {
    CHECK_THROWS_WITH(options<FocalLoss::Options>("form = \"softmx\""),
                      "exp.toml:1:8: [loss] form must be one of: softmax, sigmoid, got \"softmx\"");
  }
  SECTION("alpha with the softmax form") {
    FocalLoss::Options o;
    o.alpha = 0.25;
    CHECK_THROWS_WITH(FocalLoss(o, loss_context({1, 1, 1})), Catch::Contains("sigmoid form only"));
  }
  SECTION("official_ldam_drw with the sigmoid form") {
    FocalLoss::Options o;
    o.form = FocalLoss::Options::Form::kSigmoid;
    o.weight_mode = FocalLoss::Options::WeightMode::kOfficialLdamDrw;
    CHECK_THROWS_WITH(FocalLoss(o, loss_context({1, 1, 1})),
                      Catch::Contains("use it with form = \"softmax\""));
  }
  SECTION("unknown weight_mode") {
    CHECK_THROWS_WITH(options<FocalLoss::Options>("weight_mode = \"inside\""),
                      "exp.toml:1:15: [loss] weight_mode must be one of: outside, "
                      "official_ldam_drw, got \"inside\"");
  }
  SECTION("class_weights of the wrong length") {
    FocalLoss::Options o;
    o.class_weights = {1.0, 2.0};
    CHECK_THROWS_WITH(FocalLoss(o, loss_context({1, 1, 1})),
                      Catch::Contains("class_weights has 2 entries but the dataset has 3 classes"));
  }
}

TEST_CASE("focal reports its class weights as a class vector", "[focal]") {
  FocalLoss::Options o;
  CHECK(FocalLoss(o, loss_context({1, 1})).class_vectors().empty());
  o.class_weights = {0.25, 4.0};
  const auto v = FocalLoss(o, loss_context({1, 1})).class_vectors();
  CHECK(tailor::test::vector_names(v) == std::vector<std::string>{"weights"});
  CHECK(tailor::test::vector_values(v, "weights", 2) == std::vector<double>{0.25, 4.0});
}

TEST_CASE("focal README parameter table matches the options schema", "[focal]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<FocalLoss::Options>());
}
