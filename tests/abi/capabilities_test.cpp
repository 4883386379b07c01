// Optional plugin capabilities come from the overrides alone: a class that overrides
// augment_batch / forward_functional gets the vtable slot without declaring a flag, and a
// class that declares the retired flag without the override gets none.
#include "config/schema.hpp"
#include "plugins/instances.hpp"
#include "plugins/loader.hpp"

#include <catch2/catch.hpp>

#include <ATen/ATen.h>

using namespace tailor;
using namespace tailor::host;

namespace {

PluginLoader& loader() {
  static PluginLoader* l = [] {
    auto* p = new PluginLoader();
    p->add_search_dir(TAILOR_ABI_FIXTURE_DIR);
    return p;
  }();
  return *l;
}

ResolvedSection no_options(const char* section, const LoadedPlugin& p) {
  return resolve_section(section, nullptr, parse_schema(p.schema_text));
}

}  // namespace

TEST_CASE("a dataset that overrides augment_batch offers it without a flag", "[abi]") {
  const LoadedPlugin& p = loader().load("caps_dataset", TAILOR_KIND_DATASET);
  const auto config = no_options("dataset", p);
  DatasetPlugin dataset(p, config.config());
  REQUIRE(dataset.has_batch_augment());
  BatchRequest r;
  const int64_t idx[2] = {0, 1};
  r.indices = idx;
  r.count = 2;
  r.augment = true;
  const at::Tensor out = dataset.augment_batch(r, at::zeros({2, 1, 2, 2}));
  CHECK(at::equal(out, at::ones({2, 1, 2, 2})));  // the override ran, not the base's throw
}

TEST_CASE("a dataset with the old flag but no override offers no augment_batch", "[abi]") {
  const LoadedPlugin& p = loader().load("caps_dataset_flag_only", TAILOR_KIND_DATASET);
  const auto config = no_options("dataset", p);
  DatasetPlugin dataset(p, config.config());
  CHECK_FALSE(dataset.has_batch_augment());
  CHECK_THROWS_WITH(dataset.augment_batch(BatchRequest{}, at::zeros({1, 1, 2, 2})),
                    Catch::Contains("augment_on = \"loader\""));
}

TEST_CASE("a backbone that overrides forward_functional offers it without a flag", "[abi]") {
  const LoadedPlugin& p = loader().load("caps_backbone", TAILOR_KIND_BACKBONE);
  const auto config = no_options("backbone", p);
  BackboneContext context;
  context.sample_shape = {1, 2, 2};
  context.num_classes = 2;
  BackbonePlugin backbone(p, config.config(), context);
  REQUIRE(backbone.has_functional_forward());
  const at::Tensor x = at::ones({3, 1, 2, 2});
  const at::Tensor features = backbone.forward_functional(x, {{"scale", at::full({1}, 2.0)}});
  CHECK(at::equal(features, at::full({3, 1}, 8.0)));
}
