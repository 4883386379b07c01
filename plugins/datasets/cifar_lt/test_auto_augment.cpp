// Tests of the AutoAugment CIFAR-10 policy against torchvision's outputs, byte for byte.
#include "auto_augment.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <string>
#include <vector>

using tailor::plugins::AugmentOp;
using tailor::plugins::AutoAugmentCifar10;
using tailor::plugins::AutoAugmentDraw;

namespace {

const nlohmann::json& golden() {
  static const nlohmann::json j = [] {
    const std::string path =
        std::string(TAILOR_SOURCE_DIR) + "/tests/golden/data/cifar_lt_autoaugment.json";
    std::ifstream file(path);
    if (!file.good()) throw std::runtime_error("cannot open golden file " + path);
    return nlohmann::json::parse(file);
  }();
  return j;
}

AugmentOp op_named(const std::string& name) {
  for (int i = 0; i < tailor::plugins::kAugmentOpCount; ++i)
    if (name == tailor::plugins::augment_op_name(static_cast<AugmentOp>(i)))
      return static_cast<AugmentOp>(i);
  FAIL("unknown op " << name);
  return AugmentOp::kInvert;
}

std::vector<uint8_t> from_hex(const std::string& hex) {
  std::vector<uint8_t> out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  return out;
}

}  // namespace

TEST_CASE("autoaugment policy table is torchvision's CIFAR-10 policy", "[cifar_lt][autoaugment]") {
  const auto& expected = golden().at("policy");
  const auto& policy = tailor::plugins::cifar10_policy();
  REQUIRE(expected.size() == policy.size());
  for (size_t i = 0; i < policy.size(); ++i)
    for (size_t j = 0; j < 2; ++j) {
      INFO("sub-policy " << i << " step " << j);
      const auto& e = expected[i][j];
      CHECK(e[0].get<std::string>() == tailor::plugins::augment_op_name(policy[i][j].op));
      CHECK(e[1].get<double>() == policy[i][j].probability);
      CHECK((e[2].is_null() ? -1 : e[2].get<int>()) == policy[i][j].magnitude_bin);
    }
}

TEST_CASE("autoaugment magnitude tables equal torchvision's", "[cifar_lt][autoaugment]") {
  for (const auto& [size, h, w] : {std::tuple{"32x32", 32, 32}, std::tuple{"12x16", 12, 16}}) {
    const AutoAugmentCifar10 aa(h, w);
    for (const auto& [name, values] : golden().at("magnitudes").at(size).items()) {
      const auto v = values.get<std::vector<double>>();
      for (size_t bin = 0; bin < v.size(); ++bin) {
        INFO(size << " " << name << " bin " << bin);
        CHECK(aa.magnitude(op_named(name), static_cast<int>(bin)) == v[bin]);
      }
    }
  }
}

TEST_CASE("autoaugment operations equal torchvision's _apply_op byte for byte",
          "[cifar_lt][autoaugment][golden]") {
  std::map<std::string, std::vector<uint8_t>> images;
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& [name, image] : golden().at("images").items()) {
    images[name] = from_hex(image.at("data").get<std::string>());
    shapes[name] = image.at("shape").get<std::vector<int64_t>>();
  }
  int cases = 0;
  for (const auto& c : golden().at("cases")) {
    const std::string image = c.at("image").get<std::string>();
    const std::string op = c.at("op").get<std::string>();
    const AutoAugmentCifar10 aa(shapes[image][1], shapes[image][2]);
    // The magnitude torchvision used is the table value, negated for negative cases.
    if (!c.at("bin").is_null()) {
      const double m = aa.magnitude(op_named(op), c.at("bin").get<int>());
      CHECK(c.at("magnitude").get<double>() == (c.at("negative").get<bool>() ? -m : m));
    }
    std::vector<uint8_t> out = images[image];
    aa.apply_op(out.data(), op_named(op), c.at("magnitude").get<double>());
    const std::vector<uint8_t> expected = from_hex(c.at("out").get<std::string>());
    REQUIRE(out.size() == expected.size());
    int64_t mismatches = 0;
    for (size_t i = 0; i < out.size(); ++i) mismatches += out[i] != expected[i];
    INFO(image << " " << op << " magnitude " << c.at("magnitude").get<double>());
    CHECK(mismatches == 0);
    ++cases;
  }
  CHECK(cases == 58);
}

TEST_CASE("autoaugment applies a sub-policy's steps by probability and sign",
          "[cifar_lt][autoaugment]") {
  const AutoAugmentCifar10 aa(12, 16);
  std::vector<uint8_t> image(3 * 12 * 16);
  for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<uint8_t>((i * 37) % 251);

  // Sub-policy 1: (Rotate, 0.7, bin 2), (TranslateX, 0.3, bin 9).
  AutoAugmentDraw draw;
  draw.sub_policy = 1;
  draw.uniform = {0.5, 0.2};
  draw.negate = {true, false};
  std::vector<uint8_t> got = image, expected = image;
  aa.apply(got.data(), draw);
  aa.apply_op(expected.data(), AugmentOp::kRotate, -aa.magnitude(AugmentOp::kRotate, 2));
  aa.apply_op(expected.data(), AugmentOp::kTranslateX, aa.magnitude(AugmentOp::kTranslateX, 9));
  CHECK(got == expected);

  // Both uniforms above their probabilities: nothing happens.
  draw.uniform = {0.71, 0.31};
  got = image;
  aa.apply(got.data(), draw);
  CHECK(got == image);

  // Sub-policy 5, step 2 is Posterize (unsigned): negate has no effect.
  draw.sub_policy = 5;
  draw.uniform = {0.9, 0.1};
  draw.negate = {true, true};
  got = image;
  expected = image;
  aa.apply(got.data(), draw);
  aa.apply_op(expected.data(), AugmentOp::kPosterize, 5.0);
  CHECK(got == expected);
}
