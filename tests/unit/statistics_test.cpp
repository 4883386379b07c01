// Comparison statistics against tests/golden/statistics.py (SciPy, NumPy, plain Python):
// t intervals, quantiles, Holm's adjustment and the paired bootstrap, each to 1e-9.
#include "eval/statistics.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <limits>
#include <string>

using namespace tailor::host;

namespace {

const nlohmann::json& golden() {
  static const nlohmann::json j = [] {
    std::ifstream in(std::string(TAILOR_SOURCE_DIR) + "/tests/golden/data/statistics.json");
    REQUIRE(in.good());
    return nlohmann::json::parse(in);
  }();
  return j;
}

constexpr double kTol = 1e-9;

}  // namespace

TEST_CASE("t intervals match SciPy", "[statistics]") {
  for (const auto& c : golden().at("t_intervals")) {
    const auto values = c.at("values").get<std::vector<double>>();
    INFO("n = " << values.size());
    const Interval r = t_interval(values, c.at("level").get<double>());
    CHECK(r.n == c.at("n").get<int64_t>());
    CHECK(std::abs(r.mean - c.at("mean").get<double>()) < kTol);
    if (r.n >= 2) {
      CHECK(std::abs(r.sd - c.at("sd").get<double>()) < kTol);
      CHECK(std::abs(r.low - c.at("low").get<double>()) < kTol);
      CHECK(std::abs(r.high - c.at("high").get<double>()) < kTol);
      CHECK(std::abs(t_quantile(0.975, static_cast<double>(r.n - 1)) - c.at("t975").get<double>()) <
            kTol);
    } else {
      CHECK(std::isnan(r.low));
      CHECK(std::isnan(r.high));
    }
  }
  for (const auto& c : golden().at("t_quantiles")) {
    INFO("p " << c.at("p") << " dof " << c.at("dof"));
    CHECK(std::abs(t_quantile(c.at("p").get<double>(), c.at("dof").get<double>()) -
                   c.at("value").get<double>()) < kTol);
  }
  CHECK(t_interval({}).n == 0);
  CHECK(std::isnan(t_interval({}).mean));
}

TEST_CASE("quantiles interpolate as NumPy's default rule", "[statistics]") {
  for (const auto& c : golden().at("quantiles")) {
    const double q = c.at("q").get<double>();
    INFO("q = " << q);
    CHECK(std::abs(quantile(c.at("sorted").get<std::vector<double>>(), q) -
                   c.at("value").get<double>()) < kTol);
  }
  CHECK(std::isnan(quantile({}, 0.5)));
}

TEST_CASE("Holm's adjustment matches its definition", "[statistics]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const auto& c : golden().at("holm")) {
    std::vector<double> p;
    for (const auto& v : c.at("p")) p.push_back(v.is_null() ? nan : v.get<double>());
    const auto adjusted = holm(p);
    REQUIRE(adjusted.size() == p.size());
    for (size_t i = 0; i < p.size(); ++i) {
      const auto& expected = c.at("adjusted")[i];
      INFO("case " << c.at("p").dump() << " entry " << i);
      if (expected.is_null())
        CHECK(std::isnan(adjusted[i]));
      else
        CHECK(std::abs(adjusted[i] - expected.get<double>()) < kTol);
    }
  }
}

TEST_CASE("the paired bootstrap matches the reference implementation", "[statistics]") {
  const auto& b = golden().at("bootstrap");
  SplitMix64 first(b.at("seed").get<uint64_t>());
  for (const auto& v : b.at("splitmix64_first"))
    CHECK(first.next() == std::stoull(v.get<std::string>()));

  const auto labels = b.at("labels").get<std::vector<int32_t>>();
  const int64_t classes = b.at("classes").get<int64_t>();
  PairedBootstrap boot(labels, classes, b.at("replicates").get<int64_t>(),
                       b.at("seed").get<uint64_t>());
  const auto runs = b.at("runs").get<std::vector<std::vector<int>>>();
  const auto groups = b.at("groups").get<std::vector<std::vector<int>>>();
  for (size_t r = 0; r < runs.size(); ++r) {
    RunOutcome o;
    o.correct.assign(runs[r].begin(), runs[r].end());
    o.group.assign(groups[r].begin(), groups[r].end());
    CHECK(boot.add(o) == r);
  }
  const std::vector<uint32_t> ones(labels.size(), 1);
  for (size_t r = 0; r < runs.size(); ++r) {
    const auto m = boot.metrics(r, ones);
    for (int k = 0; k < kPairedMetrics; ++k)
      CHECK(std::abs(m[k] - b.at("observed")[r][k].get<double>()) < kTol);
  }

  std::vector<PairedBootstrap::Pairing> pairings;
  std::vector<std::string> names;
  for (const auto& [name, row] : b.at("rows").items()) {
    names.push_back(name);
    pairings.push_back(
        {row.at("row").get<std::vector<size_t>>(), row.at("baseline").get<std::vector<size_t>>()});
  }
  const auto all = boot.compare(pairings);
  for (size_t i = 0; i < names.size(); ++i) {
    // Each row alone gives what it gives among the others.
    const auto alone = boot.compare({pairings[i]});
    const auto& expected = b.at("rows").at(names[i]).at("differences");
    for (int m = 0; m < kPairedMetrics; ++m) {
      INFO(names[i] << " metric " << m);
      const Difference& d = all[i][m];
      const auto& e = expected[m];
      REQUIRE_FALSE(e.is_null());
      CHECK(d.pairs == e.at("pairs").get<int64_t>());
      CHECK(std::abs(d.estimate - e.at("estimate").get<double>()) < kTol);
      CHECK(std::abs(d.low - e.at("low").get<double>()) < kTol);
      CHECK(std::abs(d.high - e.at("high").get<double>()) < kTol);
      CHECK(std::abs(d.p - e.at("p").get<double>()) < kTol);
      CHECK(alone[0][m].p == d.p);
      CHECK(alone[0][m].low == d.low);
    }
  }
}

TEST_CASE("the paired bootstrap refuses inconsistent input", "[statistics]") {
  PairedBootstrap boot({0, 1, 1}, 2, 10, 0);
  CHECK_THROWS_WITH(boot.add({{1, 0}, {0, 0}}), Catch::Contains("2 samples"));
  CHECK_THROWS_WITH(PairedBootstrap({0, 5}, 2, 10, 0), Catch::Contains("label 5"));
  const size_t a = boot.add({{1, 1, 0}, {0, 2}});
  CHECK_THROWS(boot.compare({{{a, a}, {a}}}));
  // A run against itself differs by exactly 0 everywhere: p = 1.
  const auto same = boot.compare({{{a}, {a}}});
  CHECK(same[0][kTop1].estimate == 0.0);
  CHECK(same[0][kTop1].p == 1.0);
  CHECK(std::isnan(same[0][kMedium].estimate));  // no medium class
}
