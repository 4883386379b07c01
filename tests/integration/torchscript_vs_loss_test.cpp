// The torchscript_loss plugin running examples/vs_loss.pt equals the vs_loss plugin: loss
// values and logit gradients, both plugins loaded through the host's loader as `tailor run`
// loads them.
#include "config/schema.hpp"
#include "plugins/instances.hpp"
#include "plugins/loader.hpp"

#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <vector>

using namespace tailor;
using namespace tailor::host;

namespace {

PluginLoader& loader() {
  static PluginLoader* l = [] {
    auto* p = new PluginLoader();
    p->add_search_dir(TAILOR_PLUGIN_DIR);
    return p;
  }();
  return *l;
}

// The example file under test: a freshly compiled one when the regeneration test ran first
// (TAILOR_TORCHSCRIPT_VS_LOSS), else the committed one.
std::string example() {
  const char* regenerated = std::getenv("TAILOR_TORCHSCRIPT_VS_LOSS");
  return regenerated != nullptr ? regenerated : TORCHSCRIPT_LOSS_EXAMPLE;
}

// A loss of plugin `name` built from the TOML body of its [loss] table.
struct Built {
  ResolvedSection config;
  std::unique_ptr<LossPlugin> loss;
};
Built build(const std::string& name, const std::string& toml, const std::vector<int64_t>& counts) {
  const LoadedPlugin& p = loader().load(name, TAILOR_KIND_LOSS);
  const toml::table table = toml::parse(toml);
  Built b{resolve_section("loss", &table, parse_schema(p.schema_text)), nullptr};
  LossContext context;
  context.num_classes = static_cast<int64_t>(counts.size());
  context.class_counts = counts;
  b.loss = std::make_unique<LossPlugin>(p, b.config.config(), context);
  return b;
}

std::pair<at::Tensor, at::Tensor> value_and_grad(const LossPlugin& loss, const at::Tensor& logits,
                                                 const at::Tensor& targets) {
  at::Tensor z = logits.detach().clone().set_requires_grad(true);
  LossInput in;
  in.logits = z;
  in.targets = targets;
  at::Tensor value = loss.forward(in);
  value.backward();
  return {value.detach(), z.grad()};
}

struct Case {
  const char* name;
  std::vector<int64_t> counts;
  double gamma, tau;
  bool defaults;  // leave gamma and tau unset: each side's defaults (0.3, 1.0)
};

}  // namespace

TEST_CASE("examples/vs_loss.pt gives the vs_loss plugin's values and gradients",
          "[torchscript_loss][vs_loss]") {
  const std::string script = example();
  INFO("script " << script);
  const std::vector<Case> cases = {
      {"defaults", {500, 120, 40, 10, 3}, 0.3, 1.0, true},
      {"readme", {5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50}, 0.2, 1.2, false},
      {"la_only", {300, 30, 3}, 0.0, 1.0, false},
      {"cdt_only", {300, 30, 3}, 0.5, 0.0, false},
      {"large", {1000, 700, 90, 15, 8, 1, 2}, 0.8, 2.0, false},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.name) {
      const std::string values =
          "gamma = " + std::to_string(c.gamma) + "\ntau = " + std::to_string(c.tau) + "\n";
      const Built cpp = build("vs_loss", c.defaults ? "" : values, c.counts);
      const Built scripted = build(
          "torchscript_loss",
          "script = \"" + script + "\"\n" +
              (c.defaults ? std::string()
                          : "param_names = [\"gamma\", \"tau\"]\nparam_values = [" +
                                std::to_string(c.gamma) + ", " + std::to_string(c.tau) + "]\n"),
          c.counts);
      const auto classes = static_cast<int64_t>(c.counts.size());
      for (const auto dtype : {at::kFloat, at::kDouble}) {
        const double tol = dtype == at::kFloat ? 1e-6 : 1e-12;
        for (int draw = 0; draw < 3; ++draw) {
          INFO((dtype == at::kFloat ? "float32" : "float64") << ", draw " << draw);
          const at::Tensor logits = at::randn({16, classes}, at::kDouble).mul(3.0).to(dtype);
          const at::Tensor targets = at::randint(classes, {16}, at::kLong);
          const auto [cpp_value, cpp_grad] = value_and_grad(*cpp.loss, logits, targets);
          const auto [ts_value, ts_grad] = value_and_grad(*scripted.loss, logits, targets);
          CHECK(ts_value.scalar_type() == dtype);
          CHECK(ts_grad.scalar_type() == dtype);
          CHECK(ts_value.item<double>() ==
                Approx(cpp_value.item<double>()).epsilon(tol).margin(tol));
          const double grad_diff = (ts_grad - cpp_grad).abs().max().item<double>();
          CHECK(grad_diff <= tol);
        }
      }
    }
  }
}

TEST_CASE("the committed examples/vs_loss.pt is the example script's current output",
          "[torchscript_loss]") {
  const char* regenerated = std::getenv("TAILOR_TORCHSCRIPT_VS_LOSS");
  if (regenerated == nullptr) {
    WARN("TAILOR_TORCHSCRIPT_VS_LOSS is not set: no freshly compiled file to compare with");
    return;
  }
  // The TorchScript code records (not the debug records, which hold the source path).
  const auto code = [](const std::string& path) {
    caffe2::serialize::PyTorchStreamReader reader(path);
    std::vector<std::pair<std::string, std::string>> records;
    for (const std::string& name : reader.getAllRecords()) {
      if (name.rfind("code/", 0) != 0 || name.find(".debug_pkl") != std::string::npos) continue;
      const auto [data, size] = reader.getRecord(name);
      records.emplace_back(name, std::string(static_cast<const char*>(data.get()), size));
    }
    return records;
  };
  const auto committed = code(TORCHSCRIPT_LOSS_EXAMPLE);
  REQUIRE_FALSE(committed.empty());
  INFO("regenerate with: /usr/bin/python3 plugins/losses/torchscript_loss/examples/vs_loss.py");
  CHECK(committed == code(regenerated));
}
