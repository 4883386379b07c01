// host/engine/experiment.hpp - an experiment file resolved into configured components.
#pragma once

#include "config/schema.hpp"
#include "engine/model.hpp"
#include "engine/options.hpp"
#include "plugins/instances.hpp"
#include "plugins/loader.hpp"

#include <toml++/toml.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace tailor::host {

/// Everything `tailor run` and `tailor validate` need: the merged configuration, every
/// section checked against its schema (defaults filled), and the plugins loaded and created.
class Experiment {
 public:
  /// Loads `file` with its bases and `--set` overrides, checks every section, loads the
  /// plugins and creates the dataset, backbone and loss. Throws ConfigError or PluginError.
  static std::unique_ptr<Experiment> load(const std::filesystem::path& file,
                                          const std::vector<std::string>& overrides,
                                          const std::filesystem::path& executable);

  const std::filesystem::path& file() const { return file_; }
  const ExperimentOptions& experiment() const { return experiment_; }
  const TrainOptions& train() const { return train_; }
  const HeadOptions& head() const { return head_; }
  DatasetPlugin& dataset() const { return *dataset_; }
  BackbonePlugin& backbone() const { return *backbone_; }
  LossPlugin& loss() const { return *loss_; }
  const std::vector<int64_t>& class_counts() const { return class_counts_; }
  c10::Device device() const { return device_; }

  /// The fully resolved configuration (every key, defaults filled) as TOML text.
  std::string resolved_toml() const;

 private:
  Experiment() = default;

  std::filesystem::path file_;
  ExperimentOptions experiment_;
  TrainOptions train_;
  HeadOptions head_;
  PluginsOptions plugins_;
  std::vector<ResolvedSection> resolved_;
  PluginLoader loader_;
  std::unique_ptr<DatasetPlugin> dataset_;
  std::unique_ptr<BackbonePlugin> backbone_;
  std::unique_ptr<LossPlugin> loss_;
  std::vector<int64_t> class_counts_;
  c10::Device device_ = c10::Device(c10::kCPU);
};

}  // namespace tailor::host
