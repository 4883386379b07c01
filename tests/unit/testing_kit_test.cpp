// Tests of the plugin test kit (sdk/testing): options checked exactly as the host checks a
// section, loss_context, the finite-difference gradient check and the README-table check.
#include "config/experiment.hpp"
#include "config/schema.hpp"

#include <tailor/testing.hpp>

#include <catch2/catch.hpp>

#include <ATen/ATen.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using tailor::testing::check_loss_gradient;
using tailor::testing::loss_context;
using tailor::testing::options;

namespace {

struct Opts {
  double gamma = 2.0;
  double eps = 1e-4;
  int64_t hidden = 8;
  std::vector<double> weights;
  std::string mode = "fast";

  template <class V>
  void visit(V& v) {
    v("gamma", gamma, "Focusing parameter.", tailor::at_least(0.0));
    v("eps", eps, "A small float.", tailor::greater_than(0.0));
    v("hidden", hidden, "Width.", tailor::at_least(1.0));
    v("weights", weights, "Per-class weights.", tailor::at_least(0.0));
    v("mode", mode, "How.", tailor::one_of({"fast", "exact"}));
  }
};

// What the host reports for the same text as the body of [loss] in exp.toml: its section
// checker, then the plugin-side read_options() (as `tailor run` does), or "" when accepted.
std::string host_message(const std::string& body) {
  try {
    const toml::table table = toml::parse(body, std::string_view("exp.toml"));
    const auto section = tailor::host::resolve_section(
        "loss", &table, tailor::host::parse_schema(tailor::schema_of<Opts>()));
    tailor::read_options<Opts>(section.config());
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

std::string kit_message(const std::string& body) {
  try {
    options<Opts>(body);
  } catch (const tailor::Error& e) {
    return e.what();
  }
  return "";
}

// Cross-entropy written with autograd, in the dtype of its logits.
class Ce : public tailor::Loss {
 public:
  at::Tensor forward(const tailor::LossInput& in) override {
    return -in.logits.log_softmax(1).gather(1, in.targets.unsqueeze(1)).mean();
  }
};

// Cross-entropy plus a term whose value is 0 but whose autograd gradient is 1e-3 at one
// logit: the gradient is wrong there and only there.
class CeWithWrongGradient : public tailor::Loss {
 public:
  at::Tensor forward(const tailor::LossInput& in) override {
    const at::Tensor x = in.logits.select(0, 2).select(0, 1);
    return Ce().forward(in) + 1e-3 * (x - x.detach());
  }
};

class CastsToFloat : public tailor::Loss {
 public:
  at::Tensor forward(const tailor::LossInput& in) override {
    return Ce().forward(in).to(at::kFloat);
  }
};

class Detached : public tailor::Loss {
 public:
  at::Tensor forward(const tailor::LossInput& in) override { return in.logits.detach().sum(); }
};

class NotScalar : public tailor::Loss {
 public:
  at::Tensor forward(const tailor::LossInput& in) override { return in.logits.sum(1); }
};

// A loss with a learnable parameter of its own.
class Scaled : public tailor::Loss {
 public:
  at::Tensor forward(const tailor::LossInput& in) override {
    return Ce().forward(in) * scale_.to(in.logits.scalar_type());
  }
  at::Tensor scale_ = at::ones({}, at::kDouble).requires_grad_(true);
};

tailor::LossInput batch() {
  return {at::randn({4, 3}) * 2.0, at::tensor(std::vector<int64_t>{0, 2, 1, 2})};
}

struct TempReadme {
  fs::path path =
      fs::temp_directory_path() / ("tailor_kit_readme_" + std::to_string(::getpid()) + ".md");
  explicit TempReadme(const std::string& text) { std::ofstream(path) << text; }
  ~TempReadme() { fs::remove(path); }
};

const char* const kTableHead =
    "# plugin\n\nSome text.\n\n| key | type | default | constraint | meaning |\n"
    "|---|---|---|---|---|\n";

}  // namespace

TEST_CASE("options reads a TOML snippet into the options struct", "[testing_kit]") {
  const Opts defaults = options<Opts>("");
  CHECK(defaults.gamma == 2.0);
  CHECK(defaults.weights.empty());
  const Opts o =
      options<Opts>("plugin = \"mine\"\ngamma = 1\nweights = [1, 0.5]\nmode = \"exact\"");
  CHECK(o.gamma == 1.0);  // an int is widened for a float key
  CHECK(o.weights == std::vector<double>{1.0, 0.5});
  CHECK(o.mode == "exact");
  CHECK(o.hidden == 8);
}

TEST_CASE("options refuses what the host refuses, with the host's messages", "[testing_kit]") {
  for (const std::string body : {"gama = 1.0", "gamma = \"high\"", "weights = [1.0, \"a\"]",
                                 "gamma = -1.0", "weights = [1.0, -2.0]", "mode = \"slow\"",
                                 "hidden = 0", "eps = 0.0", "[sub]\nx = 1", "hidden = 2.5"}) {
    INFO(body);
    const std::string expected = host_message(body);
    CHECK_FALSE(expected.empty());
    CHECK(kit_message(body) == expected);
  }
  CHECK(kit_message("gamma = -1.0") == "exp.toml:1:9: [loss] gamma must be >= 0, got -1");
  CHECK(kit_message("\n\nmode = \"slow\"") ==
        "exp.toml:3:8: [loss] mode must be one of: fast, exact, got \"slow\"");
  CHECK_THAT(kit_message("gama = 1.0"),
             Catch::StartsWith("exp.toml:1:1: unknown key 'gama' in [loss]; did you mean "
                               "'gamma'? (valid keys: gamma, eps, hidden, weights, mode)"));
  // The section and file names are the caller's.
  CHECK_THROWS_WITH(options<Opts>("hidden = 0", "stage[1].loss", "stage2.toml"),
                    "stage2.toml:1:10: [stage[1].loss] hidden must be >= 1, got 0");
}

TEST_CASE("options reports a TOML syntax error with its position", "[testing_kit]") {
  CHECK_THROWS_WITH(options<Opts>("gamma = 1.0\ngamma ="), Catch::StartsWith("exp.toml:2:"));
  CHECK_THROWS_AS(options<Opts>("gamma = = 1"), tailor::Error);
}

TEST_CASE("loss_context is what a dataset with those counts gives a loss", "[testing_kit]") {
  const tailor::LossContext c = loss_context({500, 100, 10});
  CHECK(c.num_classes == 3);
  CHECK(c.class_counts == std::vector<int64_t>{500, 100, 10});
  CHECK(c.feature_dim == 0);
  CHECK(c.device == c10::Device(c10::kCPU));
  CHECK(loss_context({1, 2}, 16).feature_dim == 16);
}

TEST_CASE("check_loss_gradient passes a correct gradient", "[testing_kit]") {
  Ce ce;
  const auto check = check_loss_gradient(ce, batch());
  INFO(check.message);
  CHECK(check.ok);
  CHECK(check.max_abs_error < 1e-8);
  CHECK_THAT(check.message, Catch::EndsWith(": ok"));
  CHECK(check.worst.size() == 2);
}

TEST_CASE("check_loss_gradient finds and names a wrong element", "[testing_kit]") {
  CeWithWrongGradient wrong;
  const auto check = check_loss_gradient(wrong, batch());
  INFO(check.message);
  CHECK_FALSE(check.ok);
  CHECK(check.worst == std::vector<int64_t>{2, 1});
  CHECK(check.autograd - check.finite_difference == Approx(1e-3).epsilon(1e-4));
  CHECK(check.max_abs_error == Approx(1e-3).epsilon(1e-4));
  CHECK_THAT(check.message, Catch::Contains("logits [4, 3]") && Catch::Contains("logits[2, 1]") &&
                                Catch::EndsWith(": FAIL"));
  // A looser tolerance accepts it.
  tailor::testing::GradientCheckOptions loose;
  loose.atol = 2e-3;
  CHECK(check_loss_gradient(wrong, batch(), loose).ok);
}

TEST_CASE("check_loss_gradient refuses losses it cannot check", "[testing_kit]") {
  CastsToFloat casts;
  CHECK_THROWS_WITH(check_loss_gradient(casts, batch()),
                    Catch::Contains("compute in the logits' dtype"));
  Detached detached;
  CHECK_THROWS_WITH(check_loss_gradient(detached, batch()),
                    Catch::Contains("does not depend on the logits"));
  NotScalar not_scalar;
  CHECK_THROWS_WITH(check_loss_gradient(not_scalar, batch()),
                    Catch::Contains("must return a scalar, got [4]"));
  Ce ce;
  CHECK_THROWS_WITH(check_loss_gradient(ce, tailor::LossInput{}),
                    Catch::Contains("input.logits is undefined"));
  tailor::testing::GradientCheckOptions no_slack;
  no_slack.atol = 0.0;
  CHECK_THROWS_WITH(check_loss_gradient(ce, batch(), no_slack), Catch::Contains("atol"));
}

TEST_CASE("check_loss_gradient leaves the loss's own gradients alone", "[testing_kit]") {
  Scaled scaled;
  CHECK(check_loss_gradient(scaled, batch()).ok);
  CHECK_FALSE(scaled.scale_.grad().defined());
}

TEST_CASE("readme_table_differences compares the table with the schema", "[testing_kit]") {
  using tailor::testing::readme_table_differences;
  const std::string schema = tailor::schema_of<Opts>();
  const std::string rows =
      "| `gamma` | float | `2.0` | `>= 0` | Focusing. |\n"
      "| `eps` | float | `0.0001` | > 0 | Small. |\n"
      "| `hidden` | int | `8` | >= 1 | Width. |\n"
      "| `weights` | float[] | `[]` | >= 0 | Weights. |\n"
      "| `mode` | string | `\"fast\"` | one of: fast, exact | How. |\n";

  SECTION("a matching table, compact or padded, a float default in another form") {
    CHECK(readme_table_differences(TempReadme(kTableHead + rows).path, schema).empty());
    const std::string padded =
        "| key     | type    | default   | constraint          | meaning   |\n"
        "|---------|---------|-----------|---------------------|-----------|\n"
        "| `gamma`   | float   | `2.0`     | `>= 0`              | Focusing. |\n"
        "| `eps`     | float   | `1e-4`    | `> 0`               | Small.    |\n"
        "| `hidden`  | int     | `8`       | `>= 1`              | Width.    |\n"
        "| `weights` | float[] | `[]`      | `>= 0`              | Weights.  |\n"
        "| `mode`    | string  | `\"fast\"`  | one of: fast, exact | How.      |\n"
        "\nMore text.\n| a | b |\n";
    CHECK(readme_table_differences(TempReadme(padded).path, schema).empty());
  }
  SECTION("a wrong default and a wrong constraint") {
    std::string text = kTableHead + rows;
    text.replace(text.find("`8`"), 3, "`16`");
    text.replace(text.find("one of: fast, exact"), 19, "one of: fast");
    const auto d = readme_table_differences(TempReadme(text).path, schema);
    REQUIRE(d.size() == 2);
    CHECK(d[0] == "README row 3 ('hidden'): default is '16', the schema says '8'");
    CHECK(d[1] ==
          "README row 5 ('mode'): constraint is 'one of: fast', the schema says 'one of: fast, "
          "exact'");
  }
  SECTION("a missing row, then an extra one") {
    std::string text = kTableHead + rows;
    const size_t mode = text.find("| `mode`");
    const auto missing = readme_table_differences(TempReadme(text.substr(0, mode)).path, schema);
    REQUIRE(missing.size() == 1);
    CHECK(missing[0] == "README has no row for schema key 'mode' (key 5 of 5)");
    const auto extra = readme_table_differences(
        TempReadme(text + "| `beta` | float | `0.5` | | Extra. |\n").path, schema);
    REQUIRE(extra.size() == 1);
    CHECK(extra[0] == "README row 6 ('beta') is not in the schema");
  }
  SECTION("rows out of order") {
    std::string text = kTableHead + rows;
    const size_t eps = text.find("| `eps`"), hidden = text.find("| `hidden`");
    const std::string eps_row = text.substr(eps, hidden - eps);
    text.erase(eps, eps_row.size());
    text.insert(text.find("| `weights`"), eps_row);
    const auto d = readme_table_differences(TempReadme(text).path, schema);
    REQUIRE(d.size() == 2);
    CHECK(d[0] == "README row 2 ('hidden'): the schema's key 2 is 'eps'");
  }
  SECTION("no table, no file") {
    const auto none =
        readme_table_differences(TempReadme("# plugin\n\nNo options.\n").path, schema);
    REQUIRE(none.size() == 1);
    CHECK_THAT(none[0], Catch::Contains("has no parameter table"));
    CHECK(readme_table_differences(TempReadme("# plugin\n").path, "").empty());
    const auto missing = readme_table_differences("/nonexistent/README.md", schema);
    REQUIRE(missing.size() == 1);
    CHECK(missing[0] == "cannot read the README /nonexistent/README.md");
  }
}
