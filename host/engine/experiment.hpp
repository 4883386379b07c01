// host/engine/experiment.hpp - a resolved configuration made into components.
#pragma once

#include "engine/resolve.hpp"
#include "plugins/instances.hpp"

#include <memory>
#include <string>
#include <vector>

namespace tailor::host {

/// One stage as the trainer runs it: its resolved options, its loss and its sampler.
struct StagePlan : StageSettings {
  LossPlugin* loss = nullptr;            ///< owned by the Experiment; stages may share one
  SamplerPlugin* sampler = nullptr;      ///< owned by the Experiment; one per stage
  BatchMixPlugin* batch_mix = nullptr;   ///< owned by the Experiment; null: no mixing
  SamplerPlugin* mix_sampler = nullptr;  ///< the batch mix's second stream, when it wants one
};

/// The components of a resolved configuration: the dataset, backbone, losses, head and
/// samplers created through their plugins, the train labels and class counts, the device,
/// and the stages.
class Experiment {
 public:
  /// Creates every component of `config` (reading the dataset). Seeds LibTorch's generator
  /// first, so initialisation is reproducible. `cuda_index` is the GPU a CUDA run trains on
  /// (a data-parallel rank's local rank); `world_size` the ranks of the run (sync_batchnorm
  /// applies only to several). Throws ConfigError, PluginError or tailor::Error.
  static std::unique_ptr<Experiment> build(ResolvedConfig config, int cuda_index = 0,
                                           int world_size = 1);

  const ResolvedConfig& config() const { return config_; }
  const std::filesystem::path& file() const { return config_.file; }
  const ExperimentOptions& experiment() const { return config_.experiment; }
  const TrainOptions& train() const { return config_.train; }
  const EvalOptions& eval() const { return config_.eval; }
  const MetaOptions& meta() const { return config_.meta; }
  const ReportOptions& report() const { return config_.report; }
  const std::vector<StagePlan>& stages() const { return stages_; }
  DatasetPlugin& dataset() const { return *dataset_; }
  BackbonePlugin& backbone() const { return *backbone_; }
  HeadPlugin& head() const { return *head_; }
  const std::vector<int64_t>& class_counts() const { return class_counts_; }
  const std::vector<int64_t>& train_labels() const { return train_labels_; }
  c10::Device device() const { return device_; }

 private:
  explicit Experiment(ResolvedConfig config) : config_(std::move(config)) {}
  LossPlugin& create_loss(const PluginSection& section, int64_t epochs);
  /// The stage's batch mix and its second sampler; refuses a loss without mixed targets.
  void create_batch_mix(StagePlan& plan, const BatchMixSection& section,
                        const SamplerContext& sampler);
  void create_head();

  ResolvedConfig config_;
  std::unique_ptr<DatasetPlugin> dataset_;
  std::unique_ptr<BackbonePlugin> backbone_;
  std::vector<std::unique_ptr<LossPlugin>> losses_;  // parallel to config_.losses
  std::unique_ptr<HeadPlugin> head_;
  std::vector<std::unique_ptr<SamplerPlugin>> samplers_;  // parallel to stages_
  std::vector<std::unique_ptr<BatchMixPlugin>> batch_mixes_;
  std::vector<std::unique_ptr<SamplerPlugin>> mix_samplers_;
  std::vector<StagePlan> stages_;
  std::vector<int64_t> class_counts_;
  std::vector<int64_t> train_labels_;
  c10::Device device_ = c10::Device(c10::kCPU);
};

}  // namespace tailor::host
