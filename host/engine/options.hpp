// host/engine/options.hpp - typed options of the host-owned experiment sections.
//
// Each struct is read from its TOML table with the same visit() protocol plugins use, so
// unknown keys, wrong types and out-of-range values are reported with file:line:col.
#pragma once

#include <tailor/options.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace tailor::host {

/// [experiment]
struct ExperimentOptions {
  std::string name = "experiment";
  int64_t seed = 0;
  std::string output_dir = "runs";
  std::string device = "auto";
  int64_t threads = 0;

  template <class V>
  void visit(V& v) {
    v("name", name, "Run name; the run directory is <output_dir>/<name>/<timestamp>.");
    v("seed", seed, "Seed of every random stream (sampling, augmentation, initialisation).",
      at_least(0));
    v("output_dir", output_dir, "Root of run directories, relative to the working directory.");
    v("device", device, "auto: CUDA when this build and machine have it, else CPU.",
      one_of({"auto", "cpu", "cuda"}));
    v("threads", threads, "Intra-op CPU threads; 0 = every core this process may use.",
      at_least(0));
  }
};

/// [train]
struct TrainOptions {
  int64_t epochs = 10;
  int64_t batch_size = 128;
  double lr = 0.1;
  double momentum = 0.9;
  bool nesterov = false;
  double weight_decay = 5e-4;
  std::string schedule = "cosine";
  std::vector<int64_t> milestones = {};
  double gamma = 0.1;
  int64_t warmup_epochs = 0;
  int64_t workers = 2;
  int64_t prefetch = 4;
  int64_t eval_batch_size = 512;
  int64_t log_every = 50;

  template <class V>
  void visit(V& v) {
    v("epochs", epochs, "Training epochs.", at_least(1));
    v("batch_size", batch_size, "Samples per training step.", at_least(1));
    v("lr", lr, "Base learning rate (after warm-up).", greater_than(0));
    v("momentum", momentum, "SGD momentum.", range(0, 1, /*hi_open=*/true));
    v("nesterov", nesterov, "Nesterov momentum.");
    v("weight_decay", weight_decay, "Coupled L2 weight decay.", at_least(0));
    v("schedule", schedule, "Learning-rate schedule after warm-up.",
      one_of({"constant", "cosine", "multistep"}));
    v("milestones", milestones, "Epochs at which multistep multiplies the rate by gamma.",
      at_least(1));
    v("gamma", gamma, "Multistep decay factor.", greater_than(0));
    v("warmup_epochs", warmup_epochs, "Linear warm-up epochs from lr/warmup to lr.", at_least(0));
    v("workers", workers, "Threads decoding and augmenting batches.", at_least(1));
    v("prefetch", prefetch, "Batches prepared ahead of the training step.", at_least(1));
    v("eval_batch_size", eval_batch_size, "Samples per evaluation step.", at_least(1));
    v("log_every", log_every, "Log the training loss every N steps; 0 = once per epoch.",
      at_least(0));
  }
};

/// [plugins]
struct PluginsOptions {
  std::vector<std::string> paths;

  template <class V>
  void visit(V& v) {
    v("paths", paths,
      "Extra plugin directories, searched first; relative paths are relative to the "
      "experiment file.");
  }
};

}  // namespace tailor::host
