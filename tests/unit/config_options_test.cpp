// Typed choices and required options: what the SDK's visitors write into a schema, how the
// host reads it back, and the errors an experiment gets.
#include "config/experiment.hpp"
#include "config/schema.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using Catch::Contains;
using tailor::host::ConfigError;
using tailor::host::parse_schema;
using tailor::host::read_section;
using tailor::host::resolve_section;

namespace {

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

toml::table doc(std::string_view text) {
  return toml::parse(text, std::string_view("mem.toml"));
}

struct ReduceOptions {
  enum class Reduction { kMean, kBatchMean, kSum };
  static constexpr auto kReductions =
      tailor::choice<Reduction>({{"mean", Reduction::kMean},
                                 {"batch_mean", Reduction::kBatchMean},
                                 {"sum", Reduction::kSum}});

  Reduction reduction = Reduction::kBatchMean;
  std::string root;
  int64_t width = 3;
  template <class V>
  void visit(V& v) {
    v("reduction", reduction, "Batch reduction.", kReductions);
    v("root", root, "Data folder.", tailor::required());
    v("width", width, "Width.", tailor::required(tailor::at_least(1.0)));
  }
};

struct DuplicateChoice {
  enum class E { kA, kB };
  E e = E::kA;
  template <class V>
  void visit(V& v) {
    v("e", e, "Two names for one member.", tailor::choice<E>({{"a", E::kA}, {"a", E::kB}}));
  }
};

}  // namespace

TEST_CASE("a choice is a string option in the schema and an enum member in the struct") {
  const std::string text = tailor::schema_of<ReduceOptions>();
  CHECK(text.substr(0, text.find('\n')) ==
        "reduction\tstring\t\"batch_mean\"\tone of: mean, batch_mean, sum\tBatch reduction.");

  const auto options =
      read_section<ReduceOptions>(doc("[r]\nreduction = \"sum\"\nroot = \"x\"\nwidth = 2\n"), "r");
  CHECK(options.reduction == ReduceOptions::Reduction::kSum);
  CHECK(std::string(ReduceOptions::kReductions.name(options.reduction)) == "sum");

  // The default is the string of the struct's initial value.
  tailor::host::ResolvedSection resolved;
  read_section<ReduceOptions>(doc("[r]\nroot = \"x\"\nwidth = 2\n"), "r", &resolved);
  CHECK(resolved.table()["reduction"].value<std::string>() == "batch_mean");
  CHECK(std::string(resolved.find("reduction")->origin) == "default");
}

TEST_CASE("a bad choice lists the choices and names section, key and origin") {
  CHECK(config_error([] {
          read_section<ReduceOptions>(doc("[r]\nreduction = \"avg\"\nroot = \"x\"\nwidth = 2\n"),
                                      "r");
        }) == "mem.toml:2:13: [r] reduction must be one of: mean, batch_mean, sum, got \"avg\"");
  // A choice is still a string: another type is the host's type error.
  CHECK_THAT(config_error([] {
               read_section<ReduceOptions>(doc("[r]\nreduction = 1\nroot = \"x\"\nwidth = 2\n"),
                                           "r");
             }),
             Contains("[r] reduction: expected string, got int 1"));
  // The way back from outside a schema: value() refuses an unknown string, naming the choices.
  CHECK(ReduceOptions::kReductions.value("mean") == ReduceOptions::Reduction::kMean);
  CHECK_THROWS_WITH(ReduceOptions::kReductions.value("avg"),
                    "\"avg\" is not one of: mean, batch_mean, sum");
  CHECK_THROWS_WITH(tailor::schema_of<DuplicateChoice>(),
                    Contains("e: choice \"a\" repeats a name or a value of an earlier entry"));
}

TEST_CASE("a required option has no default and a missing one names section, key and fix") {
  const auto schema = parse_schema(tailor::schema_of<ReduceOptions>());
  REQUIRE(schema.size() == 3);
  CHECK(schema[1].key == "root");
  CHECK(schema[1].required);
  CHECK(schema[1].default_literal.empty());
  CHECK(schema[2].required);
  CHECK(schema[2].constraint == ">= 1");
  CHECK_FALSE(schema[0].required);

  const toml::table missing = doc("x = 1\n[dataset]\nwidth = 2\n");
  CHECK(config_error([&] { resolve_section("dataset", missing["dataset"].as_table(), schema); }) ==
        "mem.toml:2:1: [dataset] root is required and was not set (Data folder.); fix: add root "
        "= \"...\" to [dataset], or pass --set dataset.root=...");
  CHECK_THAT(config_error([&] { resolve_section("dataset", nullptr, schema); }),
             Contains("[dataset] root is required and was not set") &&
                 Contains("the experiment has no [dataset] table"));
  CHECK_THAT(config_error([] { read_section<ReduceOptions>(doc("[r]\nroot = \"x\"\n"), "r"); }),
             Contains("[r] width is required") && Contains("--set r.width=..."));

  const auto options = read_section<ReduceOptions>(doc("[r]\nroot = \"\"\nwidth = 4\n"), "r");
  CHECK(options.root.empty());  // given, even if empty: the component judges the value
  CHECK(options.width == 4);
  CHECK_THAT(
      config_error([] { read_section<ReduceOptions>(doc("[r]\nroot = \"x\"\nwidth = 0\n"), "r"); }),
      Contains("mem.toml:3:9: [r] width must be >= 1, got 0"));
}

TEST_CASE("read_options refuses a config that lacks a required key") {
  // What a plugin sees if a host passed no value for a required key.
  TailorValue width{};
  width.struct_size = sizeof(TailorValue);
  width.type = TAILOR_VALUE_INT;
  width.key = "width";
  width.origin = "mem.toml:3:9";
  width.int_value = 2;
  const TailorConfig config{sizeof(TailorConfig), "dataset", 1, &width};
  CHECK_THROWS_WITH(tailor::read_options<ReduceOptions>(config),
                    Contains("[dataset] root is required (it has no default) but was not given"));
}

TEST_CASE("schema text round trip: every field survives writer, parser and writer again") {
  const std::string text = tailor::schema_of<ReduceOptions>();
  CHECK(text ==
        "reduction\tstring\t\"batch_mean\"\tone of: mean, batch_mean, sum\tBatch reduction.\n"
        "root\tstring\t" TAILOR_SCHEMA_REQUIRED
        "\t\tData folder.\n"
        "width\tint\t" TAILOR_SCHEMA_REQUIRED "\t>= 1\tWidth.\n");
  std::string again;
  for (const auto& e : parse_schema(text))
    again += e.key + "\t" + e.type + "\t" +
             (e.required ? TAILOR_SCHEMA_REQUIRED : e.default_literal) + "\t" + e.constraint +
             "\t" + e.doc + "\n";
  CHECK(again == text);

  // A host that predates required keys parses the default column as a TOML literal; the
  // marker is none, so such a host refuses the schema instead of inventing a value.
  CHECK_THROWS_AS(toml::parse("v = " TAILOR_SCHEMA_REQUIRED), toml::parse_error);
}
