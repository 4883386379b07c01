// Tests of focal_example with tailor's plugin test kit: options read and checked as the host
// does, gamma = 0 is cross-entropy, the gradient against finite differences, README table.
#include "focal_example.hpp"

#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <vector>

using focal_example::FocalExample;
using tailor::testing::loss_context;
using tailor::testing::options;

TEST_CASE("focal_example reads its options as the host does", "[focal_example]") {
  CHECK(options<FocalExample::Options>("").gamma == 2.0);  // the default
  CHECK(options<FocalExample::Options>("gamma = 0.5").gamma == 0.5);
  CHECK_THROWS_WITH(options<FocalExample::Options>("gamma = -1.0"),
                    "exp.toml:1:9: [loss] gamma must be >= 0, got -1");
  CHECK_THROWS_WITH(options<FocalExample::Options>("gama = 1.0"),
                    Catch::Contains("unknown key 'gama' in [loss]; did you mean 'gamma'?"));
  CHECK_THROWS_WITH(options<FocalExample::Options>("gamma = \"high\""),
                    Catch::Contains("[loss] gamma: expected float, got string"));
}

TEST_CASE("focal_example with gamma 0 is cross-entropy", "[focal_example]") {
  FocalExample loss(options<FocalExample::Options>("gamma = 0"), loss_context({500, 100, 10}));
  const at::Tensor logits = at::randn({6, 3});
  const at::Tensor targets = at::tensor(std::vector<int64_t>{0, 1, 2, 0, 1, 2});
  CHECK(loss.forward({logits, targets}).item<double>() ==
        Approx(at::cross_entropy_loss(logits, targets).item<double>()).epsilon(1e-6));
}

TEST_CASE("focal_example gradient matches finite differences", "[focal_example]") {
  for (const char* gamma : {"gamma = 0.5", "gamma = 2.0"}) {
    FocalExample loss(options<FocalExample::Options>(gamma), loss_context({500, 100, 10}));
    const at::Tensor logits = 3.0 * at::randn({8, 3});
    const at::Tensor targets = at::tensor(std::vector<int64_t>{0, 1, 2, 0, 0, 1, 2, 2});
    const auto check = tailor::testing::check_loss_gradient(loss, {logits, targets});
    INFO(gamma << ": " << check.message);
    CHECK(check.ok);
  }
}

TEST_CASE("focal_example README parameter table matches the options schema", "[focal_example]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<FocalExample::Options>());
}
