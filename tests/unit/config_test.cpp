// Tests of the experiment-configuration layer: base composition, deep merge, overrides,
// section and schema checks, and the messages users see when something is wrong.
#include "config/experiment.hpp"
#include "config/schema.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Catch::Contains;
using Catch::EndsWith;
using tailor::host::ConfigError;
using tailor::host::origin_of;

namespace {

const fs::path kData = fs::path(TAILOR_TEST_DATA_DIR) / "config";

// The message of the ConfigError `f` throws; fails the test when it throws none.
template <class F>
std::string config_error(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  FAIL("expected a ConfigError");
  return {};
}

const toml::node& at(const toml::table& root, std::string_view path) {
  const toml::node* node = root.at_path(path).node();
  REQUIRE(node != nullptr);
  return *node;
}

int64_t int_at(const toml::table& root, std::string_view path) {
  const auto value = at(root, path).value<int64_t>();
  REQUIRE(value.has_value());
  return *value;
}

// An in-memory document whose nodes report "mem.toml:line:col".
toml::table doc(std::string_view text) {
  return toml::parse(text, std::string_view("mem.toml"));
}

const toml::table* section(const toml::table& root, std::string_view name) {
  const toml::table* table = root[name].as_table();
  REQUIRE(table != nullptr);
  return table;
}

struct LossOptions {
  double gamma = 2.0;
  std::string reduction = "mean";
  int64_t warmup = 0;
  bool normalize = false;
  std::vector<double> weights;
  std::vector<int64_t> milestones = {10, 20};
  std::vector<std::string> tags = {"a"};
  template <class V>
  void visit(V& v) {
    v("gamma", gamma, "Focusing parameter.", tailor::at_least(0.0));
    v("reduction", reduction, "Batch reduction.", tailor::one_of({"mean", "sum"}));
    v("warmup", warmup, "Warm-up epochs.");
    v("normalize", normalize, "Normalise the weights.");
    v("weights", weights, "Per-class weights.");
    v("milestones", milestones, "Epochs.");
    v("tags", tags, "Free-form tags.");
  }
};

struct SmoothOptions {
  double beta = 0.9;
  int64_t epochs = 10;
  template <class V>
  void visit(V& v) {
    v("beta", beta, "EMA factor.", tailor::range(0, 1, true));
    v("epochs", epochs, "Epochs.", tailor::at_least(1));
  }
};

std::vector<tailor::host::SchemaEntry> loss_schema() {
  return tailor::host::parse_schema(tailor::schema_of<LossOptions>());
}

const std::vector<std::string> kSections = {"experiment", "dataset", "backbone", "loss", "train"};

}  // namespace

// ---- composition ---------------------------------------------------------------------------

TEST_CASE("bases merge in order, the leaf wins, and origins point at the defining file") {
  const toml::table root = tailor::host::load_experiment(kData / "compose" / "leaf.toml", {});

  CHECK_FALSE(root.contains("base"));
  CHECK(int_at(root, "train.x") == 1);       // only base A
  CHECK(int_at(root, "train.y") == 2);       // base B overrides base A
  CHECK(int_at(root, "train.z") == 3);       // leaf only
  CHECK(int_at(root, "model.depth") == 56);  // leaf overrides base A inside a merged table
  CHECK(int_at(root, "model.width") == 64);  // base B overrides base A, leaf keeps it

  CHECK_THAT(origin_of(at(root, "train.x")), EndsWith("compose/base_a.toml:3:5"));
  CHECK_THAT(origin_of(at(root, "train.y")), EndsWith("compose/base_b.toml:3:5"));
  CHECK_THAT(origin_of(at(root, "train.z")), EndsWith("compose/leaf.toml:4:5"));
  CHECK_THAT(origin_of(at(root, "model.depth")), EndsWith("compose/leaf.toml:7:9"));
  CHECK_THAT(origin_of(at(root, "model.width")), EndsWith("compose/base_b.toml:6:9"));
}

TEST_CASE("a base of a base resolves relative to the file that names it") {
  const toml::table root =
      tailor::host::load_experiment(kData / "nested" / "exp" / "sub" / "run.toml", {});

  CHECK(at(root, "dataset.plugin").value<std::string>() == "fashion_mnist_lt");
  CHECK(int_at(root, "dataset.imbalance_ratio") == 50);
  CHECK(int_at(root, "train.epochs") == 10);
  CHECK_FALSE(root.contains("base"));

  const std::string origin = origin_of(at(root, "dataset.plugin"));
  CHECK_THAT(origin, EndsWith("nested/_base_/data/small.toml:2:10"));
  CHECK_THAT(origin, !Contains(".."));  // paths are normalised
  CHECK_THAT(origin_of(at(root, "dataset.imbalance_ratio")),
             EndsWith("nested/exp/sub/run.toml:4:19"));
  CHECK_THAT(origin_of(at(root, "train.batch_size")),
             EndsWith("nested/_base_/schedules/short.toml:5:14"));
}

TEST_CASE("_delete_ replaces a table and arrays of tables replace as a whole") {
  const toml::table root = tailor::host::load_experiment(kData / "delete" / "leaf.toml", {});

  const toml::table& optimizer = *section(root, "optimizer");
  CHECK(optimizer.size() == 2);
  CHECK(optimizer["name"].value<std::string>() == "adam");
  CHECK(optimizer["lr"].value<double>() == Approx(0.001));
  CHECK_FALSE(optimizer.contains("momentum"));
  CHECK_FALSE(optimizer.contains("_delete_"));

  const toml::table& model = *section(root, "model");
  CHECK_FALSE(model.contains("_delete_"));
  CHECK(model["depth"].value<int64_t>() == 20);

  const toml::array* stages = root["stage"].as_array();
  REQUIRE(stages != nullptr);
  REQUIRE(stages->size() == 1);
  const toml::table& stage = *stages->get(0)->as_table();
  CHECK(stage["epochs"].value<int64_t>() == 5);
  CHECK_FALSE(stage.contains("loss"));
  CHECK_THAT(origin_of(*stage.get("epochs")), EndsWith("delete/leaf.toml:13:10"));
}

// ---- overrides -----------------------------------------------------------------------------

TEST_CASE("overrides parse TOML values, fall back to strings and win over files") {
  const toml::table root = tailor::host::load_experiment(
      kData / "compose" / "leaf.toml",
      {"train.x=5", "train.lr=0.5", "train.amp=true", "loss.plugin=ce", "model.widths=[1, 2, 3]",
       "new.deep.key=\"hi\"", "train.note = spaced out", "train.y=7", "train.y=8",
       "model.head={kind = \"cosine\"}"});

  CHECK(int_at(root, "train.x") == 5);
  CHECK(origin_of(at(root, "train.x")) == "--set train.x=5");
  CHECK(at(root, "train.lr").value<double>() == Approx(0.5));
  CHECK(at(root, "train.lr").is_floating_point());
  CHECK(at(root, "train.amp").value<bool>() == true);
  CHECK(at(root, "loss.plugin").value<std::string>() == "ce");
  CHECK(origin_of(at(root, "loss.plugin")) == "--set loss.plugin=ce");
  CHECK(origin_of(at(root, "loss")) == "--set loss.plugin=ce");  // created table

  const toml::array* widths = at(root, "model.widths").as_array();
  REQUIRE(widths != nullptr);
  CHECK(widths->size() == 3);
  CHECK(widths->get(2)->value<int64_t>() == 3);

  CHECK(at(root, "new.deep.key").value<std::string>() == "hi");
  CHECK(origin_of(at(root, "new.deep")) == "--set new.deep.key=\"hi\"");
  CHECK(at(root, "train.note").value<std::string>() == "spaced out");
  CHECK(origin_of(at(root, "train.note")) == "--set train.note=spaced out");
  CHECK(int_at(root, "train.y") == 8);  // applied in order
  CHECK(at(root, "model.head.kind").value<std::string>() == "cosine");

  // Untouched values keep their file origins.
  CHECK_THAT(origin_of(at(root, "model.depth")), EndsWith("compose/leaf.toml:7:9"));
}

TEST_CASE("overrides index arrays of tables") {
  const toml::table root = tailor::host::load_experiment(
      kData / "delete" / "base.toml", {"stage[1].loss.plugin=focal", "stage[0].epochs=3"});
  CHECK(at(root, "stage[1].loss.plugin").value<std::string>() == "focal");
  CHECK(int_at(root, "stage[0].epochs") == 3);
  CHECK(int_at(root, "stage[1].epochs") == 20);

  CHECK_THAT(config_error([] {
               tailor::host::load_experiment(kData / "delete" / "base.toml", {"stage[5].epochs=1"});
             }),
             Contains("index [5] is past the end of stage (it has 2 elements)"));
  CHECK_THAT(config_error([] {
               tailor::host::load_experiment(kData / "delete" / "base.toml",
                                             {"optimizer[0].name=x"});
             }),
             Contains("optimizer is table, not an array"));
}

TEST_CASE("malformed overrides name the override and the expected form") {
  const fs::path leaf = kData / "compose" / "leaf.toml";
  for (const std::string bad : {"train.x", "=3", "train..x=1", "train.x[=1", ".x=1", "a b=1"}) {
    INFO(bad);
    const std::string message = config_error([&] { tailor::host::load_experiment(leaf, {bad}); });
    CHECK_THAT(message, Contains("malformed override '--set " + bad + "'"));
    CHECK_THAT(message, Contains("expected --set section.key=value"));
  }
  CHECK_THAT(config_error([&] { tailor::host::load_experiment(leaf, {"train.x.deeper=1"}); }),
             Contains("train.x is int 1 set at"));
  CHECK_THAT(config_error([&] { tailor::host::load_experiment(leaf, {"base=other.toml"}); }),
             Contains("bases are resolved before overrides"));
}

// ---- bad experiment files ------------------------------------------------------------------

TEST_CASE("override values that are no TOML value at all are errors naming the override") {
  const fs::path leaf = kData / "compose" / "leaf.toml";
  // Found by fuzz_config: invalid UTF-8 escaped as a raw toml::parse_error.
  const std::string bad_utf8 = "train.name=\xff\xfe";
  CHECK_THAT(config_error([&] { tailor::host::load_experiment(leaf, {bad_utf8}); }),
             Contains("override '--set " + bad_utf8 + "': the value is not valid TOML text"));
  // A number out of range is not quietly taken as a string.
  CHECK_THAT(config_error([&] {
               tailor::host::load_experiment(leaf, {"train.epochs=99999999999999999999"});
             }),
             Contains("99999999999999999999 is not a valid TOML number"));
}

TEST_CASE("malformed TOML reports file:line:col") {
  REQUIRE_THROWS_AS(tailor::host::load_experiment(kData / "bad" / "malformed.toml", {}),
                    ConfigError);
  const std::string message =
      config_error([] { tailor::host::load_experiment(kData / "bad" / "malformed.toml", {}); });
  CHECK_THAT(message, Contains("bad/malformed.toml:3:"));
  CHECK_THAT(message, Contains("fix:"));
}

TEST_CASE("a missing base names the including file position and the resolved path") {
  const std::string message =
      config_error([] { tailor::host::load_experiment(kData / "bad" / "missing_base.toml", {}); });
  CHECK_THAT(message, Contains("bad/missing_base.toml:2:35"));
  CHECK_THAT(message, Contains("bad/nope/absent.toml"));
  CHECK_THAT(message, Contains("not found"));

  CHECK_THAT(config_error([] { tailor::host::load_experiment(kData / "bad" / "absent.toml", {}); }),
             Contains("absent.toml' not found"));
}

TEST_CASE("a base cycle lists the chain") {
  REQUIRE_THROWS_WITH(tailor::host::load_experiment(kData / "bad" / "cycle_a.toml", {}),
                      Contains("base cycle: ") && Contains("cycle_a.toml -> ") &&
                          Contains("cycle_b.toml -> ") &&
                          EndsWith("fix: remove one of these base entries"));
  const std::string message =
      config_error([] { tailor::host::load_experiment(kData / "bad" / "cycle_a.toml", {}); });
  CHECK_THAT(message, Contains("bad/cycle_b.toml:1:8: base cycle"));
}

TEST_CASE("base and _delete_ of the wrong type are errors") {
  CHECK_THAT(
      config_error([] { tailor::host::load_experiment(kData / "bad" / "base_type.toml", {}); }),
      Contains(
          "base_type.toml:1:8: base must be a file path or an array of file paths, got int 3"));
  CHECK_THAT(
      config_error([] { tailor::host::load_experiment(kData / "bad" / "delete_type.toml", {}); }),
      Contains("delete_type.toml:2:12: _delete_ must be true or false"));
}

TEST_CASE("unknown sections are rejected with a did-you-mean") {
  const toml::table root =
      tailor::host::load_experiment(kData / "bad" / "unknown_section.toml", {});
  REQUIRE_THROWS_WITH(
      tailor::host::check_sections(root, kSections),
      Contains("unknown_section.toml:4:2: unknown section [lossx]; did you mean [loss]?"));
  CHECK_THAT(config_error([&] { tailor::host::check_sections(root, kSections); }),
             Contains("valid sections: experiment, dataset, backbone, loss, train"));
  CHECK_NOTHROW(tailor::host::check_sections(doc("[loss]\n[train]\n"), kSections));
  CHECK_THAT(config_error([] { tailor::host::check_sections(doc("seed = 1\n"), kSections); }),
             Contains("mem.toml:1:1: unknown top-level key 'seed'"));
}

TEST_CASE("did_you_mean picks the closest candidate within the distance limit") {
  using tailor::host::did_you_mean;
  CHECK(did_you_mean("gama", {"reduction", "gamma"}) == "gamma");
  CHECK(did_you_mean("lossx", {"loss", "train"}) == "loss");
  CHECK(did_you_mean("bacbkone", {"backbone"}) == "backbone");  // distance 2
  CHECK(did_you_mean("zzzzzz", {"gamma", "beta"}).empty());
  CHECK(did_you_mean("imbalance_rato", {"imbalance_ratio"}) == "imbalance_ratio");
  // max(2, 15 / 3) = 5 edits allowed for a 15-character word, 6 are too many.
  CHECK(did_you_mean("abcdefghijklmno", {"abcdefghijXXXXX"}) == "abcdefghijXXXXX");
  CHECK(did_you_mean("abcdefghijklmno", {"abcdefghiXXXXXX"}).empty());
  CHECK(did_you_mean("x", {}).empty());
}

// ---- schemas and sections ------------------------------------------------------------------

TEST_CASE("parse_schema reads SchemaWriter output") {
  const auto schema = loss_schema();
  REQUIRE(schema.size() == 7);
  CHECK(schema[0].key == "gamma");
  CHECK(schema[0].type == "float");
  CHECK(schema[0].default_literal == "2.0");
  CHECK(schema[0].constraint == ">= 0");
  CHECK(schema[0].doc == "Focusing parameter.");
  CHECK(schema[1].default_literal == "\"mean\"");
  CHECK(schema[4].type == "float[]");
  CHECK(schema[4].default_literal == "[]");
  CHECK(schema[5].default_literal == "[10, 20]");
}

TEST_CASE("parse_schema rejects malformed text") {
  using tailor::host::parse_schema;
  CHECK_THAT(config_error([] { parse_schema("gamma\tfloat\t2.0\n"); }),
             Contains("schema line 1: expected 5 tab-separated fields"));
  CHECK_THAT(config_error([] { parse_schema("a\tint\t1\t\tok\n\ngamma\tdouble\t2.0\t\tdoc\n"); }),
             Contains("schema line 3: unknown type 'double'"));
  CHECK_THAT(config_error([] { parse_schema("gamma\tfloat\t\"x\"\t\tdoc\n"); }),
             Contains("default '\"x\"' of key 'gamma' is not a TOML literal of type float"));
  CHECK_THAT(config_error([] { parse_schema("gamma\tfloat\tnot toml\t\tdoc\n"); }),
             Contains("is not a TOML literal"));
  CHECK_THAT(config_error([] { parse_schema("a\tint\t1\t\t\na\tint\t2\t\t\n"); }),
             Contains("schema line 2: duplicate key 'a'"));
  CHECK_THAT(config_error([] { parse_schema("a b\tint\t1\t\t\n"); }),
             Contains("invalid key 'a b'"));
  CHECK(parse_schema("").empty());
}

TEST_CASE("an absent section resolves to the defaults") {
  const auto resolved = tailor::host::resolve_section("loss", nullptr, loss_schema());
  const TailorConfig& config = resolved.config();
  CHECK(config.struct_size == sizeof(TailorConfig));
  CHECK(std::string(config.section) == "loss");
  REQUIRE(config.count == 7);
  for (size_t i = 0; i < config.count; ++i) {
    CHECK(config.values[i].struct_size == sizeof(TailorValue));
    CHECK(std::string(config.values[i].origin) == "default");
  }
  CHECK(std::string(config.values[0].key) == "gamma");
  CHECK(config.values[0].type == TAILOR_VALUE_FLOAT);
  CHECK(config.values[0].float_value == 2.0);
  CHECK(config.values[1].type == TAILOR_VALUE_STRING);
  CHECK(std::string(config.values[1].string_value) == "mean");
  CHECK(config.values[3].type == TAILOR_VALUE_BOOL);
  CHECK(config.values[4].type == TAILOR_VALUE_FLOAT_ARRAY);
  CHECK(config.values[4].count == 0);
  CHECK(config.values[5].type == TAILOR_VALUE_INT_ARRAY);
  REQUIRE(config.values[5].count == 2);
  CHECK(config.values[5].ints[1] == 20);
  CHECK(config.values[6].type == TAILOR_VALUE_STRING_ARRAY);
  CHECK(std::string(config.values[6].strings[0]) == "a");

  const toml::table table = resolved.table();
  CHECK(table.size() == 7);
  CHECK(table["gamma"].value<double>() == 2.0);
  CHECK(table["reduction"].value<std::string>() == "mean");
  CHECK(table["milestones"].as_array()->size() == 2);
  CHECK(table["normalize"].value<bool>() == false);
}

TEST_CASE("resolved values carry their origins; defaults fill the gaps") {
  const toml::table root = doc("[loss]\nplugin = \"focal\"\ngamma = 3\nweights = [1, 2.5]\n");
  const auto resolved = tailor::host::resolve_section("loss", section(root, "loss"), loss_schema());
  const TailorValue* gamma = resolved.find("gamma");
  REQUIRE(gamma != nullptr);
  CHECK(gamma->type == TAILOR_VALUE_FLOAT);  // an int is widened for a float key
  CHECK(gamma->float_value == 3.0);
  CHECK(std::string(gamma->origin) == "mem.toml:3:9");
  const TailorValue* weights = resolved.find("weights");
  REQUIRE(weights->type == TAILOR_VALUE_FLOAT_ARRAY);
  REQUIRE(weights->count == 2);
  CHECK(weights->floats[0] == 1.0);
  CHECK(weights->floats[1] == 2.5);
  CHECK(std::string(resolved.find("warmup")->origin) == "default");

  const toml::table table = resolved.table();
  CHECK(table["gamma"].is_floating_point());
  CHECK(table["plugin"].value<std::string>() == "focal");  // ignored keys are kept
  CHECK(table["warmup"].value<int64_t>() == 0);            // default filled in
  CHECK(table.size() == 8);

  const auto options = tailor::read_options<LossOptions>(resolved.config());
  CHECK(options.gamma == 3.0);
  CHECK(options.weights == std::vector<double>{1.0, 2.5});
  CHECK(options.milestones == std::vector<int64_t>{10, 20});
}

TEST_CASE("the TailorConfig survives moving its ResolvedSection") {
  const toml::table root = doc("[loss]\nreduction = \"sum\"\ntags = [\"x\", \"y\"]\n");
  auto first = tailor::host::resolve_section("loss", section(root, "loss"), loss_schema());
  const TailorConfig* config = &first.config();
  tailor::host::ResolvedSection second = std::move(first);
  tailor::host::ResolvedSection third;
  third = std::move(second);
  CHECK(&third.config() == config);
  CHECK(third.name() == "loss");
  CHECK(std::string(third.config().section) == "loss");
  CHECK(std::string(third.find("reduction")->string_value) == "sum");
  CHECK(std::string(third.find("tags")->strings[1]) == "y");
}

TEST_CASE("unknown keys are rejected with a did-you-mean and the valid keys") {
  const toml::table root = doc("[loss]\nplugin = \"focal\"\ngama = 2.0\n");
  REQUIRE_THROWS_WITH(
      tailor::host::resolve_section("loss", section(root, "loss"), loss_schema()),
      Contains("mem.toml:3:1: unknown key 'gama' in [loss]; did you mean 'gamma'? (valid keys: "
               "gamma, reduction, warmup, normalize, weights, milestones, tags)"));

  // Without "plugin" among the ignored keys it is an unknown key too.
  const toml::table plain = doc("[train]\nplugin = \"x\"\n");
  CHECK_THAT(config_error([&] {
               tailor::host::resolve_section("train", section(plain, "train"), loss_schema(), {});
             }),
             Contains("unknown key 'plugin' in [train]"));
}

TEST_CASE("wrong types are rejected with the expected type and a fix") {
  const auto schema = loss_schema();
  auto resolve = [&](std::string_view text) {
    const toml::table root = doc(text);
    return config_error(
        [&] { tailor::host::resolve_section("loss", section(root, "loss"), schema); });
  };
  CHECK_THAT(resolve("[loss]\ngamma = \"x\"\n"),
             Contains("mem.toml:2:9: [loss] gamma: expected float, got string \"x\"; fix: write a "
                      "number, e.g. gamma = 2.0"));
  CHECK_THAT(resolve("[loss]\nwarmup = 1.5\n"),
             Contains("[loss] warmup: expected int, got float 1.5; fix: write a whole number"));
  CHECK_THAT(resolve("[loss]\nnormalize = 1\n"),
             Contains("[loss] normalize: expected bool, got int 1; fix: write true or false"));
  CHECK_THAT(resolve("[loss]\nreduction = 3\n"),
             Contains("[loss] reduction: expected string, got int 3"));
  CHECK_THAT(resolve("[loss]\nweights = [1.0, \"a\"]\n"),
             Contains("mem.toml:2:17: [loss] weights[1]: expected float, got string \"a\""));
  CHECK_THAT(resolve("[loss]\nmilestones = [1, 2.5]\n"),
             Contains("[loss] milestones[1]: expected int, got float 2.5"));
  CHECK_THAT(resolve("[loss]\nweights = 1.0\n"),
             Contains("[loss] weights: expected float[], got float 1.0"));
  CHECK_THAT(resolve("[loss]\n[loss.gamma]\nx = 1\n"),
             Contains("mem.toml:2:1: [loss] gamma: expected float, got table"));
}

TEST_CASE("read_section fills typed options and reports constraint violations with origin") {
  tailor::host::ResolvedSection resolved;
  const toml::table good = doc("[smooth]\nbeta = 0.5\n");
  const auto options = tailor::host::read_section<SmoothOptions>(good, "smooth", &resolved);
  CHECK(options.beta == 0.5);
  CHECK(options.epochs == 10);
  CHECK(resolved.name() == "smooth");
  CHECK(std::string(resolved.find("beta")->origin) == "mem.toml:2:8");
  CHECK(resolved.table()["epochs"].value<int64_t>() == 10);

  CHECK(tailor::host::read_section<SmoothOptions>(doc(""), "smooth").beta == 0.9);

  REQUIRE_THROWS_WITH(
      tailor::host::read_section<SmoothOptions>(doc("[smooth]\nbeta = 1.5\n"), "smooth"),
      Contains("mem.toml:2:8: [smooth] beta must be [0, 1), got 1.5"));
  REQUIRE_THROWS_AS(
      tailor::host::read_section<SmoothOptions>(doc("[smooth]\nepochs = 0\n"), "smooth"),
      ConfigError);
  CHECK_THAT(config_error(
                 [] { tailor::host::read_section<SmoothOptions>(doc("smooth = 3\n"), "smooth"); }),
             Contains("mem.toml:1:10: [smooth] must be a table, got int 3"));
  CHECK_THAT(config_error([] {
               tailor::host::read_section<SmoothOptions>(doc("[smooth]\nbeat = 0.5\n"), "smooth");
             }),
             Contains("did you mean 'beta'?"));
}

TEST_CASE("override values are checked like file values, with the override as origin") {
  const toml::table root =
      tailor::host::load_experiment(kData / "compose" / "leaf.toml", {"loss.gamma=high"});
  CHECK_THAT(config_error([&] {
               tailor::host::resolve_section("loss", section(root, "loss"), loss_schema());
             }),
             Contains("--set loss.gamma=high: [loss] gamma: expected float, got string \"high\""));
}

// ---- layers, constraints, keys of other sections ------------------------------------------

TEST_CASE("layered sections take each key from the first layer that sets it") {
  const toml::table root =
      doc("[loss]\ngamma = 1.0\nreduction = \"sum\"\n[stage.loss]\ngamma = 3.0\n");
  const auto* stage = root.at_path("stage.loss").as_table();
  const auto resolved =
      tailor::host::resolve_section("stage[0].loss", {stage, section(root, "loss")}, loss_schema());
  CHECK(resolved.find("gamma")->float_value == 3.0);
  CHECK(std::string(resolved.find("gamma")->origin) == "mem.toml:5:9");
  CHECK(std::string(resolved.find("reduction")->string_value) == "sum");
  CHECK(std::string(resolved.find("reduction")->origin) == "mem.toml:3:13");
  CHECK(std::string(resolved.find("warmup")->origin) == "default");
  // An unknown key in any layer is reported at its own place.
  const toml::table bad = doc("[loss]\ngamma = 1.0\n[stage.loss]\ngama = 3.0\n");
  CHECK_THAT(config_error([&] {
               tailor::host::resolve_section(
                   "stage[0].loss", {bad.at_path("stage.loss").as_table(), section(bad, "loss")},
                   loss_schema());
             }),
             Contains("mem.toml:4:1: unknown key 'gama' in [stage[0].loss]; did you mean 'gamma'?"));
}

TEST_CASE("schema constraints are checked by the host with the value's origin") {
  const toml::table root = doc("[loss]\ngamma = -1.0\n");
  CHECK_THAT(config_error([&] {
               tailor::host::resolve_section("loss", section(root, "loss"), loss_schema());
             }),
             Contains("mem.toml:2:9: [loss] gamma must be >= 0, got -1"));
  const toml::table choice = doc("[loss]\nreduction = \"max\"\n");
  CHECK_THAT(config_error([&] {
               tailor::host::resolve_section("loss", section(choice, "loss"), loss_schema());
             }),
             Contains("[loss] reduction must be one of: mean, sum, got \"max\""));
}

TEST_CASE("parse_constraint reads back every form Constraint::text() writes") {
  using tailor::host::parse_constraint;
  for (const tailor::Constraint& c :
       {tailor::at_least(0), tailor::greater_than(0.5), tailor::range(0, 1),
        tailor::range(-2, 3.25, /*hi_open=*/true), tailor::one_of({"a", "b c", "d"})}) {
    const tailor::Constraint back = parse_constraint(c.text());
    CHECK(back.text() == c.text());
  }
  const auto bounded = parse_constraint("(0, 1]");
  CHECK(bounded.check(0.0).has_value());
  CHECK_FALSE(bounded.check(1.0).has_value());
  CHECK(parse_constraint("< 4").check(4.0).has_value());
  CHECK_FALSE(parse_constraint("<= 4").check(4.0).has_value());
  CHECK(parse_constraint("").text().empty());
  CHECK_THROWS_AS(parse_constraint("between 1 and 2"), ConfigError);
}

TEST_CASE("an unknown key that belongs to another section names that section") {
  const toml::table root = doc("[train]\nlr = 0.1\n");
  auto elsewhere = [](const std::string& key) {
    return key == "lr" ? std::string("[optimizer] lr") : std::string();
  };
  CHECK_THAT(config_error([&] {
               tailor::host::resolve_section("train", {section(root, "train")}, loss_schema(), {},
                                             elsewhere);
             }),
             Contains("mem.toml:2:1: unknown key 'lr' in [train]; did you mean [optimizer] lr?"));
}
