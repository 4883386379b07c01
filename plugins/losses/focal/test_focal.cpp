// Tests of the focal loss: golden values from PyTorch, option checks, README table.
#include "focal.hpp"

#include "../../../tests/support/golden.hpp"

#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

using tailor::plugins::FocalLoss;
using tailor::testing::loss_context;
using tailor::testing::options;

TEST_CASE("focal matches the PyTorch reference", "[focal][golden]") {
  for (const auto& g : tailor::test::load_golden("focal")) {
    DYNAMIC_SECTION(g.name) {
      FocalLoss::Options o;
      o.form = g.options.value("form", o.form);
      o.gamma = g.options.value("gamma", o.gamma);
      o.alpha = g.options.value("alpha", o.alpha);
      o.class_weights = g.options.value("class_weights", o.class_weights);
      o.detach_modulator = g.options.value("detach_modulator", o.detach_modulator);
      o.reduction = g.options.value("reduction", o.reduction);
      at::Tensor logits = g.tensor("logits").set_requires_grad(true);
      FocalLoss loss(o, loss_context(std::vector<int64_t>(logits.size(1), 1)));
      tailor::LossInput in;
      in.logits = logits;
      in.targets = g.tensor("targets");
      at::Tensor value = loss.forward(in);
      value.backward();
      // float32 arithmetic against a float64 reference.
      CHECK(value.item<double>() == Approx(g.scalar("loss")).epsilon(1e-5));
      CHECK(at::allclose(logits.grad(), g.tensor("grad"), /*rtol=*/1e-4, /*atol=*/1e-6));
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

TEST_CASE("focal stays finite for saturated logits and gamma below 1", "[focal]") {
  for (const char* form : {"softmax", "sigmoid"}) {
    FocalLoss::Options o;
    o.form = form;
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
  SECTION("class_weights of the wrong length") {
    FocalLoss::Options o;
    o.class_weights = {1.0, 2.0};
    CHECK_THROWS_WITH(FocalLoss(o, loss_context({1, 1, 1})),
                      Catch::Contains("class_weights has 2 entries but the dataset has 3 classes"));
  }
}

TEST_CASE("focal README parameter table matches the options schema", "[focal]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<FocalLoss::Options>());
}
