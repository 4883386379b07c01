// Stages that freeze parts of the model: cRT (frozen backbone, re-initialised head,
// class-balanced sampling) leaves the backbone exactly as stage 1 ended; shift_bn moves only
// BatchNorm statistics; a stage on the unlabeled test inputs moves only the aggregation weights.
#include "engine/checkpoint.hpp"

#include <ATen/ATen.h>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

namespace fs = std::filesystem;

namespace {

std::map<std::string, at::Tensor> by_name(const tailor::NamedTensors& tensors) {
  return {tensors.begin(), tensors.end()};
}

}  // namespace

TEST_CASE("cRT stage keeps the backbone fixed and retrains the head", "[stages]") {
  const fs::path tmp = fs::temp_directory_path() / "tailor_stages_test";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  const std::string src = TAILOR_SOURCE_DIR;
  REQUIRE(std::system(("python3 " + src + "/tests/integration/make_idx_fixture.py " +
                       (tmp / "data").string())
                          .c_str()) == 0);
  const std::string cmd =
      std::string(TAILOR_BINARY) + " run " + src +
      "/tests/integration/tiny.toml --set dataset.root=" + (tmp / "data").string() +
      " --set train.checkpoint_every=1 --out " + (tmp / "run").string() + " > " +
      (tmp / "log.txt").string() + " 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);

  // Epochs 1-2 are stage "features", 3-4 stage "crt".
  const auto start =
      by_name(tailor::host::load_checkpoint(tmp / "run/checkpoints/epoch_1.pt").model);
  const auto stage1 =
      by_name(tailor::host::load_checkpoint(tmp / "run/checkpoints/epoch_2.pt").model);
  const auto stage2 =
      by_name(tailor::host::load_checkpoint(tmp / "run/checkpoints/epoch_4.pt").model);
  int backbone = 0;
  for (const auto& [name, t] : stage1) {
    INFO(name);
    if (name.rfind("backbone.", 0) == 0) {
      ++backbone;
      CHECK(at::equal(t, stage2.at(name)));  // parameters and BatchNorm statistics
    }
  }
  CHECK(backbone > 4);
  CHECK_FALSE(at::equal(stage1.at("head.weight"), stage2.at("head.weight")));
  // Stage 1 itself did train the backbone.
  CHECK_FALSE(at::equal(start.at("backbone.conv1.weight"), stage1.at("backbone.conv1.weight")));
  fs::remove_all(tmp);
}

// MiSLAS's shifted BatchNorm: the same cRT stage with shift_bn = true re-estimates the frozen
// backbone's BatchNorm running statistics on the class-balanced stream, and nothing else of the
// backbone moves.
TEST_CASE("shift_bn moves only a frozen backbone's BatchNorm statistics", "[stages]") {
  const fs::path tmp = fs::temp_directory_path() / "tailor_stages_shift_bn";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  const std::string src = TAILOR_SOURCE_DIR;
  REQUIRE(std::system(("python3 " + src + "/tests/integration/make_idx_fixture.py " +
                       (tmp / "data").string())
                          .c_str()) == 0);
  // tiny.toml with shift_bn = true in its second stage.
  const std::string cmd =
      "sed 's/^reinit = \\[\"head\"\\]$/&\\nshift_bn = true/' " + src +
      "/tests/integration/tiny.toml > " + (tmp / "shift.toml").string() + " && " +
      std::string(TAILOR_BINARY) + " run " + (tmp / "shift.toml").string() +
      " --set dataset.root=" + (tmp / "data").string() + " --set train.checkpoint_every=1 --out " +
      (tmp / "run").string() + " > " + (tmp / "log.txt").string() + " 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  const auto stage1 =
      by_name(tailor::host::load_checkpoint(tmp / "run/checkpoints/epoch_2.pt").model);
  const auto stage2 =
      by_name(tailor::host::load_checkpoint(tmp / "run/checkpoints/epoch_4.pt").model);
  int statistics = 0, fixed = 0;
  for (const auto& [name, t] : stage1) {
    if (name.rfind("backbone.", 0) != 0) continue;
    INFO(name);
    const bool running = name.find("running_mean") != std::string::npos ||
                         name.find("running_var") != std::string::npos;
    const bool counter = name.find("num_batches_tracked") != std::string::npos;
    if (running) {
      ++statistics;
      CHECK_FALSE(at::equal(t, stage2.at(name)));
    } else if (!counter) {
      ++fixed;
      CHECK(at::equal(t, stage2.at(name)));  // weights, biases, BatchNorm's affine parameters
    }
  }
  CHECK(statistics >= 4);
  CHECK(fixed > 4);
  fs::remove_all(tmp);
}

// SADE's test-time aggregation: a stage on the unlabeled test inputs with two views, in which
// only the experts head's aggregation weights are trainable, moves exactly those weights (away
// from their 1/K start) and leaves every other parameter and buffer as training ended.
TEST_CASE("a test-input stage learns only the experts' aggregation weights", "[stages]") {
  const fs::path tmp = fs::temp_directory_path() / "tailor_stages_tta";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  const std::string src = TAILOR_SOURCE_DIR;
  REQUIRE(std::system(("python3 " + src + "/tests/integration/make_idx_fixture.py " +
                       (tmp / "data").string())
                          .c_str()) == 0);
  std::ofstream(tmp / "tta.toml") << R"([experiment]
name = "tta"
seed = 2
threads = 1
[dataset]
plugin = "idx_lt"
class_names = []
imbalance_ratio = 5.0
val_per_class = 4
[backbone]
plugin = "small_cnn"
width = 4
num_experts = 3
[head]
plugin = "experts"
aggregation = "weights"
[loss]
plugin = "sade"
[train]
batch_size = 16
workers = 1
checkpoint_every = 1
[[stage]]
name = "experts"
epochs = 2
freeze = ["head.expert_weights"]
[[stage]]
name = "aggregation"
epochs = 1
inputs = "test"
views = 2
freeze = ["backbone", "head.weight"]
reset_optimizer = true
[stage.loss]
plugin = "sade_aggregation"
[stage.optimizer]
lr = 0.5
nesterov = true
)";
  const std::string cmd = std::string(TAILOR_BINARY) + " run " + (tmp / "tta.toml").string() +
                          " --set dataset.root=" + (tmp / "data").string() + " --out " +
                          (tmp / "run").string() + " > " + (tmp / "log.txt").string() + " 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  const auto trained =
      by_name(tailor::host::load_checkpoint(tmp / "run/checkpoints/epoch_2.pt").model);
  const auto adapted =
      by_name(tailor::host::load_checkpoint(tmp / "run/checkpoints/epoch_3.pt").model);
  const at::Tensor third = at::full({3}, 1.0 / 3.0, at::kFloat);
  REQUIRE(trained.count("head.expert_weights") == 1);
  CHECK(at::allclose(trained.at("head.expert_weights"), third));  // frozen while training
  CHECK_FALSE(at::allclose(adapted.at("head.expert_weights"), third));
  int others = 0;
  for (const auto& [name, t] : trained) {
    if (name == "head.expert_weights") continue;
    INFO(name);
    ++others;
    CHECK(at::equal(t, adapted.at(name)));  // the model in eval mode: no statistic moves
  }
  CHECK(others > 10);
  fs::remove_all(tmp);
}
