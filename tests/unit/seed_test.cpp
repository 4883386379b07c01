// The shared Catch2 main (catch_main.cpp) reseeds LibTorch's generator at every run of a test
// case, so unseeded draws repeat from test case to test case and from run to run.
#include <ATen/ops/equal.h>
#include <ATen/ops/randn.h>
#include <catch2/catch.hpp>

namespace {
at::Tensor first_draw;  // what the first test case drew first
}

TEST_CASE("seed: the first test case records its first draw", "[seed]") {
  first_draw = at::randn({8});
  CHECK_FALSE(at::equal(at::randn({8}), first_draw));  // the generator does move on
}

TEST_CASE("seed: a later test case starts from the same state", "[seed]") {
  REQUIRE(first_draw.defined());
  CHECK(at::equal(at::randn({8}), first_draw));
}

TEST_CASE("seed: every run of a test case with sections starts from the same state", "[seed]") {
  REQUIRE(first_draw.defined());
  const at::Tensor x = at::randn({8});
  CHECK(at::equal(x, first_draw));
  SECTION("first") {
    CHECK(at::equal(x, first_draw));
  }
  SECTION("second") {
    CHECK(at::equal(x, first_draw));
  }
}
