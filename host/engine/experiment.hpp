// host/engine/experiment.hpp - an experiment file resolved into configured components.
#pragma once

#include "config/schema.hpp"
#include "engine/options.hpp"
#include "plugins/instances.hpp"
#include "plugins/loader.hpp"
#include "report/options.hpp"

#include <toml++/toml.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace tailor::host {

/// One stage with every option resolved (stage tables over the global ones).
struct StagePlan {
  int index = 0;
  StageOptions stage;
  TrainOptions train;
  OptimizerOptions optimizer;
  ScheduleOptions schedule;
  SamplerOptions sampler;
  LossPlugin* loss = nullptr;  ///< owned by the Experiment; stages may share one
};

/// Everything `tailor run` and `tailor validate` need: the merged configuration, every
/// section checked against its schema (defaults filled), the plugins loaded and created,
/// and the list of stages.
class Experiment {
 public:
  /// Loads `file` with its bases and `--set` overrides, checks every section, loads the
  /// plugins and creates the dataset, backbone and losses. Throws ConfigError, PluginError
  /// or tailor::Error. Seeds LibTorch's generator first, so initialisation is reproducible.
  static std::unique_ptr<Experiment> load(const std::filesystem::path& file,
                                          const std::vector<std::string>& overrides,
                                          const std::filesystem::path& executable);

  const std::filesystem::path& file() const { return file_; }
  const ExperimentOptions& experiment() const { return experiment_; }
  const TrainOptions& train() const { return train_; }
  const HeadOptions& head() const { return head_; }
  const EvalOptions& eval() const { return eval_; }
  const MetaOptions& meta() const { return meta_; }
  const ReportOptions& report() const { return report_; }
  const std::vector<StagePlan>& stages() const { return stages_; }
  /// Caps every stage at `epochs` epochs (quick checks of an experiment file).
  void limit_epochs(int64_t epochs);
  DatasetPlugin& dataset() const { return *dataset_; }
  BackbonePlugin& backbone() const { return *backbone_; }
  const std::vector<int64_t>& class_counts() const { return class_counts_; }
  const std::vector<int64_t>& train_labels() const { return train_labels_; }
  c10::Device device() const { return device_; }

  /// The fully resolved configuration (every key, defaults filled, plugin paths absolute)
  /// as TOML text. Loading it again gives the same experiment.
  std::string resolved_toml() const;

 private:
  Experiment() = default;
  LossPlugin& create_loss(const LoadedPlugin& plugin, ResolvedSection section, int64_t epochs);

  std::filesystem::path file_;
  ExperimentOptions experiment_;
  TrainOptions train_;
  HeadOptions head_;
  EvalOptions eval_;
  MetaOptions meta_;
  ReportOptions report_;
  PluginsOptions plugins_;
  std::vector<ResolvedSection> resolved_;        // global sections, in output order
  std::vector<toml::table> resolved_stages_;     // one table per [[stage]]
  PluginLoader loader_;
  std::unique_ptr<DatasetPlugin> dataset_;
  std::unique_ptr<BackbonePlugin> backbone_;
  std::vector<std::unique_ptr<LossPlugin>> losses_;
  std::vector<ResolvedSection> loss_sections_;
  std::vector<StagePlan> stages_;
  std::vector<int64_t> class_counts_;
  std::vector<int64_t> train_labels_;
  c10::Device device_ = c10::Device(c10::kCPU);
};

}  // namespace tailor::host
