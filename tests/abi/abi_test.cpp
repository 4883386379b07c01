// Loads the fixture plugins through the host's loader: compatibility rules, refusals,
// exception safety, payload (autograd across the boundary) and exported symbols.
#include "config/schema.hpp"
#include "plugins/host_api.hpp"
#include "plugins/instances.hpp"
#include "plugins/loader.hpp"

#include <dlfcn.h>
#include <catch2/catch.hpp>

#include <ATen/ATen.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
using namespace tailor;
using namespace tailor::host;
using Catch::Matchers::Contains;

namespace {

const fs::path kFixtures = TAILOR_ABI_FIXTURE_DIR;

PluginLoader& loader() {
  static PluginLoader* l = [] {
    auto* p = new PluginLoader();
    p->add_search_dir(kFixtures);
    return p;
  }();
  return *l;
}

// All defaults, optionally with string overrides, resolved against the plugin's schema.
ResolvedSection defaults(const LoadedPlugin& p, const toml::table& table = {}) {
  return resolve_section("loss", &table, parse_schema(p.schema_text));
}

LossContext context(int64_t classes = 3) {
  LossContext c;
  c.num_classes = classes;
  c.class_counts.assign(static_cast<size_t>(classes), 10);
  return c;
}

std::string refusal(const std::string& name) {
  try {
    loader().load(name, TAILOR_KIND_LOSS);
  } catch (const PluginError& e) {
    return e.what();
  }
  return "(loaded)";
}

std::string exported_symbols(const fs::path& so) {
  const std::string cmd = "nm -D --defined-only '" + so.string() + "' 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(cmd.c_str(), "r"), ::pclose);
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, pipe.get()) != nullptr) out += buf;
  return out;
}

}  // namespace

TEST_CASE("a current plugin loads and its loss backpropagates into host tensors", "[abi]") {
  const LoadedPlugin& p = loader().load("good_loss", TAILOR_KIND_LOSS);
  CHECK(p.name == "good_loss");
  CHECK(p.descriptor->abi_major == TAILOR_ABI_MAJOR);
  CHECK(p.descriptor->abi_minor == TAILOR_ABI_MINOR);
  auto config = defaults(p);
  LossPlugin loss(p, config.config(), context());

  at::Tensor logits = at::tensor({1.0, 2.0, 0.5, -1.0, 0.0, 3.0}, at::kFloat).view({2, 3});
  logits.set_requires_grad(true);
  LossInput in;
  in.logits = logits;
  in.targets = at::tensor({1, 2}, at::kLong);
  at::Tensor value = loss.forward(in);
  value.backward();

  // Reference computed on the host side with the same formula.
  at::Tensor ref_logits = logits.detach().clone().set_requires_grad(true);
  at::Tensor ref = -at::log_softmax(ref_logits, 1).gather(1, in.targets.unsqueeze(1)).mean();
  ref.backward();
  CHECK(value.item<double>() == Approx(ref.item<double>()));
  REQUIRE(logits.grad().defined());
  CHECK(at::allclose(logits.grad(), ref_logits.grad()));
  // A 1.1 slot is used when the plugin has it.
  CHECK(at::allclose(loss.adjust_logits(logits.detach()), logits.detach() + 1.0));
  // A 1.3 slot: the named class vectors cross as a tensor dict.
  const auto vectors = loss.class_vectors();
  REQUIRE(vectors.size() == 2);
  CHECK(vectors[0].first == "weights");
  CHECK(at::equal(vectors[0].second, at::tensor({1.f, 2.f, 3.f})));
  CHECK(vectors[1].first == "margins");
  CHECK(at::equal(vectors[1].second, at::full({3}, 0.5f)));
  // State crosses through the host's tensor dict.
  const auto state = loss.state();
  REQUIRE(state.size() == 1);
  CHECK(state[0].first == "classes");
  CHECK(state[0].second.item<int64_t>() == 3);
}

TEST_CASE("the host refuses a meta loss that cannot carry a gradient, naming the plugin", "[abi]") {
  const LoadedPlugin& p = loader().load("good_loss", TAILOR_KIND_LOSS);
  const at::Tensor targets = at::tensor({0, 2}, at::kLong);
  auto logits = [] {
    return at::tensor({2.0, 0.5, -1.0, 0.1, 0.2, 0.3}).view({2, 3}).requires_grad_(true);
  };
  {
    auto config = defaults(p, toml::table{{"scale", 2.0}});
    LossPlugin loss(p, config.config(), context());
    const at::Tensor value = loss.meta_loss(logits(), targets);
    CHECK(value.requires_grad());
    CHECK(value.item<double>() ==
          Approx(2.0 * at::cross_entropy_loss(logits(), targets).item<double>()).epsilon(1e-12));
  }
  {
    auto config = defaults(p, toml::table{{"output", "detached"}});
    LossPlugin loss(p, config.config(), context());
    CHECK_THROWS_WITH(loss.meta_loss(logits(), targets),
                      Contains("loss plugin 'good_loss': meta_loss() must return a floating "
                               "scalar that depends on the logits") &&
                          Contains("without gradient"));
  }
  {
    auto config = defaults(p, toml::table{{"output", "integer"}});
    LossPlugin loss(p, config.config(), context());
    CHECK_THROWS_WITH(loss.meta_loss(logits(), targets), Contains("of Long"));
  }
}

TEST_CASE("a plugin built against the frozen 1.0 headers still loads after the minor bump",
          "[abi]") {
  STATIC_REQUIRE(TAILOR_ABI_MINOR >= 1);
  const LoadedPlugin& p = loader().load("v1_0_loss", TAILOR_KIND_LOSS);
  CHECK(p.descriptor->abi_minor == 0);
  const auto* vt = static_cast<const TailorLossVTable*>(p.descriptor->vtable);
  CHECK(vt->struct_size < sizeof(TailorLossVTable));
  CHECK_FALSE(TAILOR_HAS_MEMBER(vt, TailorLossVTable, adjust_logits));

  toml::table t{{"scale", 2.0}};
  auto config = defaults(p, t);
  LossPlugin loss(p, config.config(), context());
  at::Tensor logits = at::zeros({4, 3}).set_requires_grad(true);
  LossInput in;
  in.logits = logits;
  in.targets = at::tensor({0, 1, 2, 0}, at::kLong);
  at::Tensor value = loss.forward(in);
  CHECK(value.item<double>() == Approx(2.0 * std::log(3.0)));
  value.backward();
  CHECK(logits.grad().defined());
  // The host never calls the slot the 1.0 plugin does not have: identity instead.
  const at::Tensor l = at::randn({2, 3});
  CHECK(at::equal(loss.adjust_logits(l), l));
  CHECK(loss.state().empty());
  // Nor the 1.3 slot; without class_weights either, there is nothing to report.
  CHECK(loss.class_vectors().empty());
}

TEST_CASE("a plugin built before 1.3 reports its class_weights() as the class vector", "[abi]") {
  const LoadedPlugin& p = loader().load("v1_2_loss", TAILOR_KIND_LOSS);
  CHECK(p.descriptor->abi_minor == 2);
  const auto* vt = static_cast<const TailorLossVTable*>(p.descriptor->vtable);
  CHECK(TAILOR_HAS_MEMBER(vt, TailorLossVTable, adjust_logits));
  CHECK_FALSE(TAILOR_HAS_MEMBER(vt, TailorLossVTable, class_vectors));
  auto config = defaults(p);
  LossPlugin loss(p, config.config(), context());
  const auto vectors = loss.class_vectors();
  REQUIRE(vectors.size() == 1);
  CHECK(vectors[0].first == "class_weights");
  CHECK(at::equal(vectors[0].second, at::tensor({1.f, 2.f, 3.f})));
  // Nor the meta_loss slot: the host's cross-entropy stands in.
  CHECK_FALSE(TAILOR_HAS_MEMBER(vt, TailorLossVTable, meta_loss));
  const at::Tensor logits =
      at::tensor({2.0, 0.5, -1.0, 0.1, 0.2, 0.3}).view({2, 3}).requires_grad_(true);
  const at::Tensor targets = at::tensor({0, 2}, at::kLong);
  CHECK(loss.meta_loss(logits, targets).item<double>() ==
        Approx(at::cross_entropy_loss(logits, targets).item<double>()).epsilon(1e-12));
}

TEST_CASE("a plugin claiming a newer minor is refused", "[abi]") {
  const std::string why = refusal("newer_minor");
  CHECK_THAT(why, Contains("newer_minor.so"));
  CHECK_THAT(why, Contains("built for SDK ABI 1." + std::to_string(TAILOR_ABI_MINOR + 1)));
  CHECK_THAT(why, Contains("this host's ABI 1." + std::to_string(TAILOR_ABI_MINOR)));
  CHECK_THAT(why, Contains("upgrade tailor"));
}

TEST_CASE("a plugin of another ABI major is refused", "[abi]") {
  SECTION("descriptor says major 2") {
    const std::string why = refusal("wrong_major");
    CHECK_THAT(why, Contains("built for SDK ABI 2."));
    CHECK_THAT(why, Contains("rebuild the plugin"));
  }
  SECTION("library exports only tailor_plugin_v2") {
    const std::string why = refusal("entry_v2");
    CHECK_THAT(why, Contains("built for tailor SDK ABI 2"));
    CHECK_THAT(why, Contains("tailor_plugin_v2"));
  }
}

TEST_CASE("a shared library without the entry point is not a tailor plugin", "[abi]") {
  const std::string why = refusal("no_entry");
  CHECK_THAT(why, Contains("no_entry.so"));
  CHECK_THAT(why, Contains("not a tailor plugin"));
}

TEST_CASE("a file that is not ELF is refused without loading", "[abi]") {
  const fs::path dir = fs::temp_directory_path() / "tailor_abi_not_elf";
  fs::create_directories(dir);
  std::ofstream(dir / "text.so") << "this is not a shared library\n";
  PluginLoader l;
  l.add_search_dir(dir);
  CHECK_THROWS_WITH(l.load("text", TAILOR_KIND_LOSS), Contains("not a readable ELF"));
  fs::remove_all(dir);
}

TEST_CASE("a fingerprint mismatch is refused before dlopen", "[abi]") {
  const fs::path sentinel = fs::temp_directory_path() / "tailor_abi_poison_sentinel";
  fs::remove(sentinel);
  ::setenv("TAILOR_TEST_SENTINEL", sentinel.c_str(), 1);
  const std::string why = refusal("other_torch");
  CHECK_THAT(why, Contains("other_torch.so"));
  CHECK_THAT(why, Contains("refused before loading"));
  CHECK_THAT(why, Contains("tailor_fp_v1_00000000deadbeef"));
  CHECK_THAT(why, Contains(host_fingerprint_marker()));
  CHECK_THAT(why, Contains("rebuild the plugin"));
  CHECK_FALSE(fs::exists(sentinel));  // its static constructor never ran

  // Control: the poison does fire when the file is really loaded, so the check above means
  // something.
  void* handle = ::dlopen((kFixtures / "other_torch.so").c_str(), RTLD_NOW | RTLD_LOCAL);
  REQUIRE(handle != nullptr);
  CHECK(fs::exists(sentinel));
  fs::remove(sentinel);
  ::unsetenv("TAILOR_TEST_SENTINEL");
}

TEST_CASE("a plugin built against an SDK of another ABI major is refused before dlopen", "[abi]") {
  // sdk_major2 was compiled against a tailor/abi.h that says TAILOR_ABI_MAJOR 2 and nothing
  // else changed: the entry symbol and the marker follow from that constant.
  const fs::path sentinel = fs::temp_directory_path() / "tailor_abi_major2_sentinel";
  fs::remove(sentinel);
  ::setenv("TAILOR_TEST_SENTINEL", sentinel.c_str(), 1);
  const std::string why = refusal("sdk_major2");
  CHECK_THAT(why, Contains("sdk_major2.so"));
  CHECK_THAT(why, Contains("built for tailor SDK ABI 2"));
  CHECK_THAT(why, Contains("tailor_plugin_v2"));
  CHECK_FALSE(fs::exists(sentinel));  // its static constructor never ran

  void* handle = ::dlopen((kFixtures / "sdk_major2.so").c_str(), RTLD_NOW | RTLD_LOCAL);
  REQUIRE(handle != nullptr);
  CHECK(::dlsym(handle, "tailor_plugin_v2") != nullptr);
  CHECK(::dlsym(handle, "tailor_fp_v2_0123456789abcdef") != nullptr);
  CHECK(fs::exists(sentinel));  // control: the poison fires when the file is really loaded
  fs::remove(sentinel);
  ::unsetenv("TAILOR_TEST_SENTINEL");
}

TEST_CASE("a descriptor with a bad magic number is refused", "[abi]") {
  CHECK_THAT(refusal("bad_magic"), Contains("bad magic number"));
}

TEST_CASE("exceptions thrown in a plugin become errors and the host keeps running", "[abi]") {
  const LoadedPlugin& p = loader().load("good_loss", TAILOR_KIND_LOSS);
  struct Case {
    const char* kind;
    const char* message;
    const char* status;
  };
  const Case cases[] = {{"std", "fixture: std::runtime_error thrown", "runtime error"},
                        {"tailor", "fixture: tailor::Error thrown", "invalid argument"},
                        {"c10", "fixture: TORCH_CHECK failed", "torch error"},
                        {"other", "unknown exception", "internal error"}};
  for (const auto& c : cases) {
    DYNAMIC_SECTION("create throws " << c.kind) {
      toml::table t{{"throw_in", "create"}, {"throw_kind", c.kind}};
      auto config = defaults(p, t);
      CHECK_THROWS_WITH(LossPlugin(p, config.config(), context()),
                        Contains("loss plugin 'good_loss'") && Contains("create failed") &&
                            Contains(c.status) && Contains(c.message));
    }
    DYNAMIC_SECTION("forward throws " << c.kind) {
      toml::table t{{"throw_in", "forward"}, {"throw_kind", c.kind}};
      auto config = defaults(p, t);
      LossPlugin loss(p, config.config(), context());
      LossInput in;
      in.logits = at::zeros({1, 3});
      in.targets = at::zeros({1}, at::kLong);
      CHECK_THROWS_WITH(loss.forward(in), Contains("forward failed") && Contains(c.message));
    }
  }
  // After all of that, the same plugin still works.
  auto config = defaults(p);
  LossPlugin loss(p, config.config(), context());
  LossInput in;
  in.logits = at::zeros({2, 3});
  in.targets = at::zeros({2}, at::kLong);
  CHECK(loss.forward(in).item<double>() == Approx(std::log(3.0)));
}

TEST_CASE("an option outside its constraint is reported by the host and by the plugin", "[abi]") {
  const LoadedPlugin& p = loader().load("good_loss", TAILOR_KIND_LOSS);
  // The host checks the schema's constraint before any instance exists...
  toml::table t{{"scale", -1.0}};
  CHECK_THROWS_WITH(defaults(p, t), Contains("[loss] scale must be > 0, got -1"));
  // ...and the plugin still enforces it on a value that reaches it unchecked.
  auto config = defaults(p);
  TailorConfig raw = config.config();
  std::vector<TailorValue> values(raw.values, raw.values + raw.count);
  for (auto& v : values)
    if (std::string(v.key) == "scale") v.float_value = -1.0;
  raw.values = values.data();
  CHECK_THROWS_WITH(LossPlugin(p, raw, context()), Contains("[loss] scale must be > 0, got -1"));
}

TEST_CASE("one file is loaded once, whatever path names it", "[abi]") {
  const fs::path dir = fs::temp_directory_path() / "tailor_abi_links";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::create_symlink(kFixtures / "good_loss.so", dir / "good_loss.so");
  const LoadedPlugin& direct = loader().load_file(kFixtures / "good_loss.so");
  const LoadedPlugin& linked = loader().load_file(dir / "good_loss.so");
  CHECK(&direct == &linked);
  fs::remove_all(dir);
}

TEST_CASE("a plugin is found only under its own name and kind", "[abi]") {
  CHECK_THROWS_WITH(loader().load("good_loss", TAILOR_KIND_DATASET),
                    Contains("is a loss plugin, but the experiment uses it as a dataset"));
  CHECK_THROWS_WITH(
      loader().load("missing_plugin", TAILOR_KIND_LOSS),
      Contains("no loss plugin named 'missing_plugin'") && Contains("tailor plugins list"));
  const fs::path dir = fs::temp_directory_path() / "tailor_abi_renamed";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(kFixtures / "good_loss.so", dir / "renamed.so");
  PluginLoader l;
  l.add_search_dir(dir);
  CHECK_THROWS_WITH(l.load("renamed", TAILOR_KIND_LOSS),
                    Contains("registers the name 'good_loss'"));
  fs::remove_all(dir);
}

TEST_CASE("plugins export only the entry point and the fingerprint marker", "[abi]") {
  std::vector<fs::path> libraries = {kFixtures / "good_loss.so"};
  for (const auto& entry : fs::directory_iterator(TAILOR_PLUGIN_DIR))
    if (entry.path().extension() == ".so") libraries.push_back(entry.path());
  REQUIRE(libraries.size() >= 2);
  for (const auto& so : libraries) {
    INFO(so.string());
    std::set<std::string> names;
    std::istringstream lines(exported_symbols(so));
    for (std::string line; std::getline(lines, line);) {
      std::istringstream fields(line);
      std::string address, type, name;
      if (fields >> address >> type >> name) names.insert(name);
    }
    CHECK(names == std::set<std::string>{TAILOR_ENTRY_SYMBOL, host_fingerprint_marker()});
  }
}
