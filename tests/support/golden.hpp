// tests/support/golden.hpp - reads the golden values tests/golden/make_goldens.py wrote.
//
// A golden file is JSON: {"generator": ..., "cases": [{"name", "options", "tensors": {name:
// {"shape": [...], "dtype": "float64"|"int64", "data": [...]}}, "scalars": {...}}]}.
#pragma once

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

namespace tailor::test {

struct GoldenCase {
  std::string name;
  nlohmann::json options;
  nlohmann::json raw;

  /// A tensor of the case, as `dtype` (float data; float32 unless asked) or int64.
  at::Tensor tensor(const std::string& key, at::ScalarType dtype = at::kFloat) const {
    const auto& t = raw.at("tensors").at(key);
    const std::vector<int64_t> shape = t.at("shape").get<std::vector<int64_t>>();
    if (t.at("dtype") == "int64") {
      const auto data = t.at("data").get<std::vector<int64_t>>();
      return at::tensor(data, at::kLong).view(shape).clone();
    }
    const auto data = t.at("data").get<std::vector<double>>();
    return at::tensor(data, at::kDouble).view(shape).to(dtype);
  }
  double scalar(const std::string& key) const { return raw.at("scalars").at(key).get<double>(); }
  bool has(const std::string& key) const { return raw.at("tensors").contains(key); }
};

/// How closely a loss computed in `dtype` must match the float64 reference: float32
/// arithmetic to a relative 1e-5 (values) and rtol 1e-4, atol 1e-6 (gradients); float64
/// arithmetic, with every constant of the loss held in float64, to 1e-12.
struct Tolerance {
  double value;
  double rtol;
  double atol;
};
inline Tolerance tolerance(at::ScalarType dtype) {
  return dtype == at::kDouble ? Tolerance{1e-12, 1e-12, 1e-12} : Tolerance{1e-5, 1e-4, 1e-6};
}

/// Cases of tests/golden/data/<name>.json.
inline std::vector<GoldenCase> load_golden(const std::string& name) {
  const std::string path = std::string(TAILOR_SOURCE_DIR) + "/tests/golden/data/" + name + ".json";
  std::ifstream file(path);
  INFO("golden file " << path);
  REQUIRE(file.good());
  const nlohmann::json j = nlohmann::json::parse(file);
  std::vector<GoldenCase> cases;
  for (const auto& c : j.at("cases"))
    cases.push_back(
        {c.at("name").get<std::string>(), c.value("options", nlohmann::json::object()), c});
  REQUIRE(!cases.empty());
  return cases;
}

}  // namespace tailor::test
