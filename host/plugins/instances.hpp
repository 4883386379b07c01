// host/plugins/instances.hpp - C++ handles over plugin instances, one per kind.
//
// Each call goes through the plugin's C vtable; a non-OK status becomes a PluginError that
// names the plugin, its path and the call. Slots appended after ABI 1.0 are used only when
// the plugin's vtable is large enough to hold them; otherwise the documented default applies.
#pragma once

#include "plugins/loader.hpp"

#include <tailor/components.hpp>

#include <memory>
#include <string>
#include <vector>

namespace tailor::host {

/// Owns one TailorInstance; destroys it through the plugin in the destructor.
class PluginInstance {
 public:
  explicit PluginInstance(const LoadedPlugin& plugin) : plugin_(plugin) {}
  virtual ~PluginInstance();
  PluginInstance(const PluginInstance&) = delete;
  PluginInstance& operator=(const PluginInstance&) = delete;

  const LoadedPlugin& plugin() const { return plugin_; }
  const std::string& name() const { return plugin_.name; }

 protected:
  /// Calls the plugin's create() with `config` and the kind's context struct.
  void create(const TailorConfig& config, const void* kind_context);
  /// Throws PluginError when `status` is not OK.
  void check(TailorStatus status, const TailorError& err, const char* call) const;
  TailorInstance self_ = nullptr;
  const LoadedPlugin& plugin_;
};

/// Static facts of a dataset.
struct DatasetInfo {
  int64_t num_classes = 0;
  Modality modality = Modality::kImage;
  std::vector<int64_t> sample_shape;
  int64_t split_size[3] = {0, 0, 0};
  std::vector<std::string> class_names;
};

class DatasetPlugin final : public PluginInstance {
 public:
  DatasetPlugin(const LoadedPlugin& plugin, const TailorConfig& config);
  const DatasetInfo& info() const { return info_; }
  int64_t size(Split split) const { return info_.split_size[static_cast<int>(split)]; }
  at::Tensor labels(Split split) const;
  /// Thread-safe: called from loader worker threads.
  Batch batch(const BatchRequest& request) const;
  void write_artifacts(const std::string& dir) const;
  /// True when the plugin offers augment_batch (ABI >= 1.2 and the class overrides it).
  bool has_batch_augment() const;
  /// The plugin's training augmentation of `request` applied to `inputs`, the batch served
  /// for `request` without augmentation, on the device `inputs` lives on.
  at::Tensor augment_batch(const BatchRequest& request, const at::Tensor& inputs) const;
  /// For [train] augment_on = "device": throws ConfigError when the plugin has no batched
  /// augmentation, or when it refuses its configuration (tried on one sample on `device`).
  void check_augment_batch(c10::Device device) const;

 private:
  const TailorDatasetVTable* vt_;
  DatasetInfo info_;
};

class BackbonePlugin final : public PluginInstance {
 public:
  BackbonePlugin(const LoadedPlugin& plugin, const TailorConfig& config,
                 const BackboneContext& context);
  int64_t feature_dim() const;
  torch::nn::Module& module() const;
  at::Tensor forward(const at::Tensor& inputs) const;
  bool has_functional_forward() const { return vt_->forward_functional != nullptr; }
  at::Tensor forward_functional(const at::Tensor& inputs, const NamedTensors& params) const;
  /// Number of experts K (1 for plugins built before ABI 1.4); forward() returns [K, N, D]
  /// when K > 1.
  int64_t num_experts() const { return num_experts_; }

 private:
  const TailorBackboneVTable* vt_;
  int64_t num_experts_ = 1;
};

class LossPlugin final : public PluginInstance {
 public:
  LossPlugin(const LoadedPlugin& plugin, const TailorConfig& config, const LossContext& context);
  uint32_t needs() const { return needs_; }
  at::Tensor forward(const LossInput& input) const;
  void on_epoch_start(const Clock& clock) const;
  void on_validation(const ClassStats& stats) const;
  void on_feature_bank(const at::Tensor& features, const at::Tensor& labels,
                       const Clock& clock) const;
  NamedTensors parameters() const;
  void meta_update(const at::Tensor& meta_loss, const Clock& clock) const;
  /// The meta batch's loss: the plugin's meta_loss(), or the mean cross-entropy where the
  /// plugin has no such slot (built before ABI 1.3) or leaves the result undefined.
  at::Tensor meta_loss(const at::Tensor& logits, const at::Tensor& targets) const;
  NamedTensors state() const;
  void load_state(const NamedTensors& state) const;
  at::Tensor class_weights() const;
  /// Post-hoc logit adjustment; identity for plugins built before ABI 1.1.
  at::Tensor adjust_logits(const at::Tensor& logits) const;
  /// Named per-class vectors for reports. A plugin built before ABI 1.3 has no such slot:
  /// its class_weights(), when defined, under the name "class_weights".
  NamedTensors class_vectors() const;

 private:
  const TailorLossVTable* vt_;
  uint32_t needs_ = 0;
};

/// A sampler plugin: the epoch's global index stream, checked against the train split.
class SamplerPlugin final : public PluginInstance {
 public:
  SamplerPlugin(const LoadedPlugin& plugin, const TailorConfig& config,
                const SamplerContext& context);
  /// Positions in the train split for `epoch`. Throws PluginError for an empty stream or a
  /// position outside [0, train size), naming the plugin, the index and the fix.
  std::vector<int64_t> indices(const SamplerEpoch& epoch) const;

 private:
  const TailorSamplerVTable* vt_;
  int64_t num_samples_ = 0;
};

/// A head plugin: features -> logits, its module, the optional evaluation knob.
class HeadPlugin final : public PluginInstance {
 public:
  HeadPlugin(const LoadedPlugin& plugin, const TailorConfig& config, const HeadContext& context);
  torch::nn::Module& module() const;
  /// Logits [N, num_classes]; throws PluginError for another shape.
  at::Tensor forward(const at::Tensor& features) const;
  bool has_functional_forward() const { return vt_->forward_functional != nullptr; }
  at::Tensor forward_functional(const at::Tensor& features, const NamedTensors& params) const;
  void reset_parameters() const;
  /// Name of the evaluation transform's knob ("tau"); empty when the head has none.
  const std::string& eval_knob() const { return eval_knob_; }
  double eval_knob_value() const;
  void set_eval_knob(double value) const;
  /// The descriptor says the logits are scaled cosine similarities.
  bool normed_logits() const {
    return (plugin_.descriptor->flags & TAILOR_PLUGIN_NORMED_LOGITS) != 0;
  }
  /// The descriptor says the head classifies K experts: forward() maps [K, N, D] to
  /// [K, N, C] and aggregate() combines them.
  bool multi_expert() const {
    return (plugin_.descriptor->flags & TAILOR_PLUGIN_MULTI_EXPERT) != 0;
  }
  /// The experts' logits [K, N, C] -> the model's logits [N, C]: the plugin's aggregate(),
  /// or the mean where it has none.
  at::Tensor aggregate(const at::Tensor& expert_logits) const;

 private:
  const TailorHeadVTable* vt_;
  int64_t num_classes_ = 0;
  int64_t num_experts_ = 1;
  std::string eval_knob_;
};

/// A batch-mix plugin: mixes a training batch, returns paired targets.
class BatchMixPlugin final : public PluginInstance {
 public:
  BatchMixPlugin(const LoadedPlugin& plugin, const TailorConfig& config,
                 const BatchMixContext& context);
  /// The plugin asks for a second batch per step (TAILOR_MIX_NEEDS_SECOND_BATCH).
  bool wants_second_batch() const { return second_batch_; }
  /// The mixed batch; `inputs` undefined when the plugin left this batch unmixed. Throws
  /// PluginError for outputs of the wrong shape, type or range, naming the plugin.
  MixOutput mix(const MixInput& input) const;

 private:
  const TailorBatchMixVTable* vt_;
  bool second_batch_ = false;
};

}  // namespace tailor::host
