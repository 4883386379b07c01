// The sampler and head kinds (ABI 1.3) through the host's handles: the C glue carries the
// context, the epoch and the stream; the host refuses a stream with a position outside the
// train split; a head's module, logits, reset, evaluation knob and flags cross intact.
#include "config/schema.hpp"
#include "plugins/instances.hpp"
#include "plugins/loader.hpp"

#include <catch2/catch.hpp>

#include <ATen/ATen.h>
#include <toml++/toml.h>

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

ResolvedSection section(const char* name, const LoadedPlugin& p, const std::string& toml = "") {
  const toml::table t = toml::parse(toml);
  return resolve_section(name, &t, parse_schema(p.schema_text));
}

SamplerContext five_samples() {
  SamplerContext c;
  c.num_classes = 2;
  c.labels = {0, 1, 0, 0, 1};
  c.class_counts = {3, 2};
  c.total_epochs = 7;
  return c;
}

SamplerEpoch epoch(int64_t e, uint64_t seed) {
  SamplerEpoch out;
  out.clock.epoch = e;
  out.seed = seed;
  return out;
}

}  // namespace

TEST_CASE("a sampler plugin's stream crosses the C layer with its context and epoch",
          "[abi][sampler]") {
  const LoadedPlugin& p = loader().load("stream_sampler", TAILOR_KIND_SAMPLER);
  CHECK(std::string(kind_name(p.kind)) == "sampler");
  const auto config = section("sampler", p);
  SamplerPlugin sampler(p, config.config(), five_samples());
  CHECK(sampler.indices(epoch(3, 12)) == std::vector<int64_t>{4, 3, 2, 1, 0, 2, 3, 2});
  SamplerEpoch with_stats = epoch(0, 5);
  with_stats.val_stats.accuracy = {0.5, 1.0};
  with_stats.val_stats.support = {2, 2};
  CHECK(sampler.indices(with_stats) == std::vector<int64_t>{4, 3, 2, 1, 0, 0, 0, 2, 0, 0});
}

TEST_CASE("the host refuses a sampler stream outside the train split", "[abi][sampler]") {
  const LoadedPlugin& p = loader().load("stream_sampler", TAILOR_KIND_SAMPLER);
  SECTION("past the end") {
    const auto config = section("sampler", p, "mode = \"out_of_range\"");
    SamplerPlugin sampler(p, config.config(), five_samples());
    CHECK_THROWS_WITH(sampler.indices(epoch(1, 0)),
                      Catch::Contains("sampler plugin 'stream_sampler'") &&
                          Catch::Contains("returned index 5 at position 8 of epoch 2") &&
                          Catch::Contains("the train split has 5 samples (valid: 0..4)") &&
                          Catch::Contains("fix the sampler"));
  }
  SECTION("negative") {
    const auto config = section("sampler", p, "mode = \"negative\"");
    SamplerPlugin sampler(p, config.config(), five_samples());
    CHECK_THROWS_WITH(sampler.indices(epoch(0, 0)), Catch::Contains("returned index -1"));
  }
  SECTION("empty") {
    const auto config = section("sampler", p, "mode = \"empty\"");
    SamplerPlugin sampler(p, config.config(), five_samples());
    CHECK_THROWS_WITH(sampler.indices(epoch(0, 0)),
                      Catch::Contains("non-empty int64 vector of train positions"));
  }
}

TEST_CASE("a head plugin's module, logits, reset and knob cross the C layer", "[abi][head]") {
  const LoadedPlugin& p = loader().load("knob_head", TAILOR_KIND_HEAD);
  CHECK(std::string(kind_name(p.kind)) == "head");
  const auto config = section("head", p);
  HeadContext context;
  context.in_features = 3;
  context.num_classes = 2;
  context.class_counts = {4, 1};
  HeadPlugin head(p, config.config(), context);
  CHECK_FALSE(head.has_functional_forward());
  CHECK_FALSE(head.normed_logits());
  REQUIRE(head.module().named_parameters().size() == 1);
  head.reset_parameters();
  const at::Tensor f = at::ones({4, 3});
  CHECK(at::equal(head.forward(f), at::full({4, 2}, 3.0)));
  REQUIRE(head.eval_knob() == "gain");
  head.set_eval_knob(2.0);
  CHECK(head.eval_knob_value() == 2.0);
  head.module().eval();
  CHECK(at::equal(head.forward(f), at::full({4, 2}, 6.0)));
  CHECK_THROWS_WITH(head.set_eval_knob(-1.0), Catch::Contains("head plugin 'knob_head'") &&
                                                  Catch::Contains("set_eval_knob failed") &&
                                                  Catch::Contains("gain must be > 0"));
  CHECK_THROWS_WITH(head.forward_functional(f, {}), Catch::Contains("no functional forward"));
  CHECK_THROWS_WITH(head.forward(at::ones({4, 5})), Catch::Contains("head plugin 'knob_head'"));
}

TEST_CASE("a head's normed-logits flag reaches the descriptor", "[abi][head]") {
  const LoadedPlugin& p = loader().load("normed_head", TAILOR_KIND_HEAD);
  CHECK((p.descriptor->flags & TAILOR_PLUGIN_NORMED_LOGITS) != 0);
}

TEST_CASE("a sampler and a loss may share a name: the kind-qualified file wins", "[abi][loader]") {
  CHECK(plugin_file_name("class_balanced", TAILOR_KIND_SAMPLER) == "sampler_class_balanced.so");
  CHECK(plugin_file_name("linear", TAILOR_KIND_HEAD) == "head_linear.so");
  PluginLoader l;
  l.add_search_dir(TAILOR_PLUGIN_DIR);
  CHECK(l.load("class_balanced", TAILOR_KIND_LOSS).kind == TAILOR_KIND_LOSS);
  CHECK(l.load("class_balanced", TAILOR_KIND_SAMPLER).kind == TAILOR_KIND_SAMPLER);
  CHECK_THROWS_WITH(l.load("ce", TAILOR_KIND_SAMPLER),
                    Catch::Contains("is a loss plugin, but the experiment uses it as a sampler"));
}
