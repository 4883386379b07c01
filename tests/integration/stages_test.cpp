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
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

const std::string kSource = TAILOR_SOURCE_DIR;

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A fresh temporary directory with the IDX fixture in data/, removed after the test; run()
// trains an experiment on it into run/ with a checkpoint after every epoch.
struct Workspace {
  explicit Workspace(const std::string& name) : dir(fs::temp_directory_path() / name) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    REQUIRE(std::system(("python3 " + kSource + "/tests/integration/make_idx_fixture.py " +
                         (dir / "data").string())
                            .c_str()) == 0);
  }
  ~Workspace() { fs::remove_all(dir); }

  // `tailor run experiment` on the fixture; on failure the run's output is in the report.
  bool run(const fs::path& experiment) const {
    const fs::path log = dir / "log.txt";
    const std::string cmd = std::string(TAILOR_BINARY) + " run " + experiment.string() +
                            " --set dataset.root=" + (dir / "data").string() +
                            " --set train.checkpoint_every=1 --out " + (dir / "run").string() +
                            " > " + log.string() + " 2>&1";
    if (std::system(cmd.c_str()) == 0) return true;
    UNSCOPED_INFO(read_text(log));
    return false;
  }

  // Parameters and buffers by name after `epoch` epochs (counted over all stages).
  std::map<std::string, at::Tensor> model_after(int epoch) const {
    const auto checkpoint = tailor::host::load_checkpoint(
        dir / "run/checkpoints" / ("epoch_" + std::to_string(epoch) + ".pt"));
    return {checkpoint.model.begin(), checkpoint.model.end()};
  }

  fs::path dir;
};

}  // namespace

TEST_CASE("cRT stage keeps the backbone fixed and retrains the head", "[stages]") {
  const Workspace ws("tailor_stages_test");
  REQUIRE(ws.run(kSource + "/tests/integration/tiny.toml"));

  // Epochs 1-2 are stage "features", 3-4 stage "crt".
  const auto start = ws.model_after(1);
  const auto stage1 = ws.model_after(2);
  const auto stage2 = ws.model_after(4);
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
}

// MiSLAS's shifted BatchNorm: the same cRT stage with shift_bn = true re-estimates the frozen
// backbone's BatchNorm running statistics on the class-balanced stream, and nothing else of the
// backbone moves.
TEST_CASE("shift_bn moves only a frozen backbone's BatchNorm statistics", "[stages]") {
  const Workspace ws("tailor_stages_shift_bn");
  // tiny.toml with shift_bn = true in its second stage.
  std::string toml = read_text(kSource + "/tests/integration/tiny.toml");
  const std::string reinit = "reinit = [\"head\"]\n";
  const size_t at = toml.find(reinit);
  REQUIRE(at != std::string::npos);
  toml.insert(at + reinit.size(), "shift_bn = true\n");
  std::ofstream(ws.dir / "shift.toml") << toml;
  REQUIRE(ws.run(ws.dir / "shift.toml"));
  const auto stage1 = ws.model_after(2);
  const auto stage2 = ws.model_after(4);
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
}

// SADE's test-time aggregation: a stage on the unlabeled test inputs with two views, in which
// only the experts head's aggregation weights are trainable, moves exactly those weights (away
// from their 1/K start) and leaves every other parameter and buffer as training ended.
TEST_CASE("a test-input stage learns only the experts' aggregation weights", "[stages]") {
  const Workspace ws("tailor_stages_tta");
  std::ofstream(ws.dir / "tta.toml") << R"([experiment]
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
  REQUIRE(ws.run(ws.dir / "tta.toml"));
  const auto trained = ws.model_after(2);
  const auto adapted = ws.model_after(3);
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
}
