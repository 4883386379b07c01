// The sampler and head kinds (ABI 1.3) and the batch-mix kind and multi-expert heads (ABI 1.4)
// through the host's handles: the C glue carries the context, the epoch and the stream; the
// host refuses a stream with a position outside the train split; a head's module, logits,
// reset, evaluation knob and flags cross intact; a batch mix's outputs are checked by name; a
// multi-expert head's own aggregate is used.
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

namespace {

BatchMixContext mix_context() {
  BatchMixContext c;
  c.num_classes = 2;
  c.class_counts = {3, 2};
  c.total_epochs = 4;
  return c;
}

MixInput mix_input() {
  MixInput in;
  in.inputs = at::arange(12, at::kFloat).view({4, 3});
  in.targets = at::tensor(std::vector<int64_t>{0, 1, 1, 0});
  in.clock.epoch = 1;
  in.seed = 9;
  return in;
}

}  // namespace

TEST_CASE("a batch mix crosses the C layer: mixed inputs, paired targets, the second batch",
          "[abi][batch_mix]") {
  const LoadedPlugin& p = loader().load("swap_mix", TAILOR_KIND_BATCH_MIX);
  CHECK(std::string(kind_name(p.kind)) == "batch_mix");
  CHECK(plugin_file_name("swap_mix", TAILOR_KIND_BATCH_MIX) == "batch_mix_swap_mix.so");
  SECTION("one batch") {
    BatchMixPlugin mix(p, section("batch_mix", p).config(), mix_context());
    CHECK_FALSE(mix.wants_second_batch());
    const MixInput in = mix_input();
    const MixOutput out = mix.mix(in);
    CHECK(at::equal(out.inputs, in.inputs.flip(0)));
    CHECK(at::equal(out.targets_b, at::tensor(std::vector<int64_t>{0, 1, 1, 0})));
    CHECK(at::equal(out.mix_weight, at::full({4}, 0.25, at::kFloat)));
  }
  SECTION("a second batch") {
    BatchMixPlugin mix(p, section("batch_mix", p, "second = true").config(), mix_context());
    CHECK(mix.wants_second_batch());
    MixInput in = mix_input();
    in.inputs_b = at::ones({4, 3});
    in.targets_b = at::tensor(std::vector<int64_t>{1, 1, 1, 1});
    const MixOutput out = mix.mix(in);
    CHECK(at::equal(out.inputs, in.inputs_b));
    CHECK(at::equal(out.targets_b, in.targets_b));
  }
  SECTION("a batch left unmixed") {
    BatchMixPlugin mix(p, section("batch_mix", p, "mode = \"skip\"").config(), mix_context());
    CHECK_FALSE(mix.mix(mix_input()).inputs.defined());
  }
}

TEST_CASE("the host refuses a batch mix's malformed output by name", "[abi][batch_mix]") {
  const LoadedPlugin& p = loader().load("swap_mix", TAILOR_KIND_BATCH_MIX);
  auto mixed = [&](const char* mode) {
    BatchMixPlugin mix(p, section("batch_mix", p, std::string("mode = \"") + mode + "\"").config(),
                       mix_context());
    return mix.mix(mix_input());
  };
  CHECK_THROWS_WITH(mixed("bad_shape"), Catch::Contains("batch_mix plugin 'swap_mix'") &&
                                            Catch::Contains("must keep the batch's shape"));
  CHECK_THROWS_WITH(mixed("float_targets"), Catch::Contains("batch_mix plugin 'swap_mix'") &&
                                                Catch::Contains("targets_b as an int64 vector"));
  CHECK_THROWS_WITH(mixed("no_weight"), Catch::Contains("batch_mix plugin 'swap_mix'") &&
                                            Catch::Contains("mix_weight as a float vector"));
  // A second batch asked for but not given fails in the plugin; the host names it.
  BatchMixPlugin second(p, section("batch_mix", p, "second = true").config(), mix_context());
  CHECK_THROWS_WITH(second.mix(mix_input()), Catch::Contains("batch_mix plugin 'swap_mix'") &&
                                                 Catch::Contains("no second batch"));
}

TEST_CASE("a multi-expert head: flag, K in the context, the plugin's aggregate", "[abi][head]") {
  const LoadedPlugin& p = loader().load("max_experts", TAILOR_KIND_HEAD);
  CHECK((p.descriptor->flags & TAILOR_PLUGIN_MULTI_EXPERT) != 0);
  HeadContext context;
  context.in_features = 2;
  context.num_classes = 3;
  context.class_counts = {4, 2, 1};
  context.num_experts = 3;
  HeadPlugin head(p, section("head", p).config(), context);
  REQUIRE(head.multi_expert());
  const at::Tensor f = at::ones({3, 5, 2});
  const at::Tensor z = head.forward(f);
  REQUIRE(z.sizes() == at::IntArrayRef({3, 5, 3}));
  CHECK(z[2][0][0].item<float>() == 6.0f);
  CHECK(at::equal(head.aggregate(z), at::full({5, 3}, 6.0)));  // the plugin's max, not the mean
  CHECK_THROWS_WITH(head.forward(at::ones({2, 5, 2})),
                    Catch::Contains("head plugin 'max_experts'"));
  HeadPlugin bad(p, section("head", p, "bad_aggregate = true").config(), context);
  CHECK_THROWS_WITH(bad.aggregate(z), Catch::Contains("aggregate returned logits of shape") &&
                                          Catch::Contains("expected [5, 3]"));
  // A head without the flag is a single-expert head.
  const LoadedPlugin& single = loader().load("knob_head", TAILOR_KIND_HEAD);
  CHECK((single.descriptor->flags & TAILOR_PLUGIN_MULTI_EXPERT) == 0);
}
