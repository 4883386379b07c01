// tests/support/class_vectors.hpp - reads what a loss's class_vectors() reports, by name.
#pragma once

#include <tailor/components.hpp>

#include <ATen/ATen.h>
#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace tailor::test {

/// The names of `vectors`, in order.
inline std::vector<std::string> vector_names(const NamedTensors& vectors) {
  std::vector<std::string> names;
  for (const auto& [name, t] : vectors) names.push_back(name);
  return names;
}

/// The values of the vector called `name` as doubles; fails the test when it is absent or
/// not one value per class.
inline std::vector<double> vector_values(const NamedTensors& vectors, const std::string& name,
                                         int64_t classes) {
  for (const auto& [n, t] : vectors) {
    if (n != name) continue;
    REQUIRE(t.defined());
    REQUIRE(t.dim() == 1);
    REQUIRE(t.numel() == classes);
    const at::Tensor d = t.detach().to(at::kCPU, at::kDouble).contiguous();
    return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
  }
  FAIL("no class vector named '" << name << "'");
  return {};
}

}  // namespace tailor::test
