// tailor/components.hpp - the C++ base classes plugin authors implement.
//
// Subclass one of tailor::Dataset, tailor::Backbone, tailor::Loss, tailor::Sampler,
// tailor::Head or tailor::BatchMix, give the class a nested `Options` struct (see
// tailor/options.hpp) and the constructor the kind requires, then name it once with
// TAILOR_DATASET_PLUGIN, TAILOR_BACKBONE_PLUGIN, TAILOR_LOSS_PLUGIN, TAILOR_SAMPLER_PLUGIN,
// TAILOR_HEAD_PLUGIN or TAILOR_BATCH_MIX_PLUGIN (tailor/plugin.hpp). Every virtual call may throw:
// the generated trampolines turn tailor::Error, c10::Error and any other exception into a status
// and message for the host.
#pragma once

#include <ATen/Tensor.h>
#include <c10/core/Device.h>
#include <torch/nn/module.h>

#include <tailor/abi.h>
#include <tailor/error.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tailor {

/// Ordered (name, tensor) pairs: parameter lists, loss state, substituted parameters.
using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

/// Data splits. `val` is a held-out split for model selection; `test` is never tuned on.
enum class Split : int32_t {
  kTrain = TAILOR_SPLIT_TRAIN,
  kVal = TAILOR_SPLIT_VAL,
  kTest = TAILOR_SPLIT_TEST
};

/// Printable split name: "train", "val", "test".
inline const char* split_name(Split s) {
  switch (s) {
    case Split::kTrain:
      return "train";
    case Split::kVal:
      return "val";
    case Split::kTest:
      return "test";
  }
  return "?";
}

/// Input modality of a dataset.
enum class Modality : int32_t { kImage = TAILOR_MODALITY_IMAGE, kVideo = TAILOR_MODALITY_VIDEO };

/// The training clock as components see it. Epochs and steps are 0-based within a stage.
struct Clock {
  int64_t epoch = 0;
  int64_t total_epochs = 0;
  int64_t step = 0;
  int64_t steps_per_epoch = 0;
  int64_t global_step = 0;
  int32_t stage = 0;
};

// ----------------------------------------------------------------------------------------
// Dataset
// ----------------------------------------------------------------------------------------

/// One batch of a dataset: inputs [N, ...sample_shape] float32, targets [N] int64.
struct Batch {
  at::Tensor inputs;
  at::Tensor targets;
};

/// What the host asks a dataset for. `indices` are positions within `split`.
struct BatchRequest {
  Split split = Split::kTrain;
  bool augment = false;  ///< true: training augmentation; false: eval transform
  const int64_t* indices = nullptr;
  size_t count = 0;
  uint64_t seed = 0;  ///< derive per-sample randomness from (seed, position + i)
  /// Position of indices[0] within the whole batch: sample i of this request is sample
  /// `position + i` of the batch. Non-zero when a data-parallel rank asks for its share of a
  /// batch; seed sample i's random stream from (seed, position + i), e.g.
  /// `tailor::SampleRng rng(request.seed, request.position + i)`, and the ranks together
  /// augment exactly as one process does. \since SDK 1.3
  uint64_t position = 0;
};

/// Base class of dataset plugins. Construct with `Class(const Options&)`.
///
/// Load or index the data in the constructor and throw tailor::Error naming the file and the
/// fix when it is missing or malformed. batch() is called concurrently from worker threads:
/// it must not mutate shared state and must be deterministic for a given request.
class Dataset {
 public:
  virtual ~Dataset() = default;

  /// Class names, in label order. Their count is the number of classes.
  virtual const std::vector<std::string>& class_names() const = 0;
  /// Shape of one sample as batch() returns it, e.g. {1, 28, 28} or {3, 16, 112, 112}.
  virtual std::vector<int64_t> sample_shape() const = 0;
  /// Number of samples in `split`; 0 when the dataset has no such split.
  virtual int64_t size(Split split) const = 0;
  /// Labels of every sample of `split`, int64 [size(split)].
  virtual at::Tensor labels(Split split) const = 0;
  /// Decode, augment and stack the requested samples.
  virtual Batch batch(const BatchRequest& request) const = 0;
  /// Input modality. Default: image.
  virtual Modality modality() const { return Modality::kImage; }
  /// Writes artefacts (e.g. the selected long-tail index list) into the run directory.
  virtual void write_artifacts(const std::string& /*dir*/) const {}
  /// The training augmentation of `request` applied to `inputs` = batch(request without
  /// augmentation).inputs, on whatever device `inputs` lives, with tensor ops only. Must equal
  /// batch(request with augmentation).inputs. Used by `[train] augment_on = "device"`;
  /// throw tailor::Error when the configured augmentation has no batched form. The host
  /// offers `augment_on = "device"` exactly for the classes that override this (detected at
  /// compile time by TAILOR_DATASET_PLUGIN; a `kBatchAugment` flag of SDK 1.2 is ignored).
  virtual at::Tensor augment_batch(const BatchRequest& /*request*/,
                                   const at::Tensor& /*inputs*/) const {
    throw Error("this dataset has no batched (device) augmentation");
  }
};

// ----------------------------------------------------------------------------------------
// Backbone
// ----------------------------------------------------------------------------------------

/// What a backbone is built for.
struct BackboneContext {
  std::vector<int64_t> sample_shape;  ///< one sample, as the dataset serves it
  int64_t num_classes = 0;            ///< informational: the host owns the classifier head
  /// True when [train] sync_batchnorm asks the BatchNorm layers to use the statistics of the
  /// whole data-parallel batch (tailor/distributed.hpp). Only set for a backbone class that
  /// declares `static constexpr bool kSyncBatchNorm = true;` (the host refuses the option for
  /// others), and only when the run has more than one rank. \since SDK 1.3
  bool sync_batchnorm = false;
};

/// Base class of backbone plugins. Construct with `Class(const Options&, const BackboneContext&)`.
///
/// A backbone maps a batch of inputs to features [N, feature_dim()]. Every parameter and
/// buffer must be registered on module(): the host moves it between devices, switches
/// train/eval, optimises and checkpoints through it.
///
/// Multi-expert backbones (RIDE, SADE: a shared stem and K expert branches) return
/// num_experts() = K > 1 and then forward() returns [K, N, feature_dim()], expert k's
/// features at [k]. The host pairs them with a multi-expert head (Head::kMultiExpert), which
/// gives each expert its own classifier; a single-expert head is refused at config time.
class Backbone {
 public:
  /// Set to true in a subclass whose BatchNorm layers honour BackboneContext::sync_batchnorm
  /// (the descriptor then carries TAILOR_PLUGIN_SYNC_BATCHNORM). \since SDK 1.3
  static constexpr bool kSyncBatchNorm = false;

  virtual ~Backbone() = default;

  /// The module owning all parameters and buffers.
  virtual torch::nn::Module& module() = 0;
  /// Width of the feature vector.
  virtual int64_t feature_dim() const = 0;
  /// Features of `inputs` with the module's own parameters.
  virtual at::Tensor forward(const at::Tensor& inputs) = 0;
  /// Features of `inputs` with parameters substituted by name from `params` (names as in
  /// module().named_parameters(); names not given use the module's own). Must stay
  /// differentiable w.r.t. the substituted tensors. Needed by full-model meta-learning; the
  /// host sees it exactly for the classes that override it (detected at compile time by
  /// TAILOR_BACKBONE_PLUGIN; a `kFunctionalForward` flag of SDK 1.2 is ignored).
  virtual at::Tensor forward_functional(const at::Tensor& /*inputs*/,
                                        const NamedTensors& /*params*/) {
    throw Error("this backbone has no functional forward");
  }
  /// Number of experts K; forward() returns [K, N, D] when K > 1. Must not change after
  /// construction. Default: 1. \since SDK 1.4
  virtual int64_t num_experts() const { return 1; }
};

// ----------------------------------------------------------------------------------------
// Loss
// ----------------------------------------------------------------------------------------

/// What a loss is built for.
struct LossContext {
  int64_t num_classes = 0;
  std::vector<int64_t> class_counts;  ///< train samples per class
  int64_t feature_dim = 0;
  c10::Device device = c10::Device(c10::kCPU);
  int64_t total_epochs = 0;  ///< epochs of the stage that owns this loss
};

/// Capability flags a loss returns from needs().
namespace needs {
constexpr uint32_t kFeatures = TAILOR_LOSS_NEEDS_FEATURES;          ///< read LossInput::features
constexpr uint32_t kIndices = TAILOR_LOSS_NEEDS_INDICES;            ///< read LossInput::indices
constexpr uint32_t kValidationStats = TAILOR_LOSS_NEEDS_VAL_STATS;  ///< on_validation()
constexpr uint32_t kFeatureBank = TAILOR_LOSS_NEEDS_FEATURE_BANK;   ///< on_feature_bank()
constexpr uint32_t kMetaStep = TAILOR_LOSS_NEEDS_META_STEP;         ///< meta_update()
constexpr uint32_t kNormedHead = TAILOR_LOSS_NORMED_HEAD;           ///< cosine classifier
/// forward() honours LossInput::targets_b and mix_weight (a batch-mix plugin's mixed batch);
/// the host refuses a batch mix with a loss that does not say so. \since SDK 1.4
constexpr uint32_t kMixedTargets = TAILOR_LOSS_MIXED_TARGETS;
/// forward() reads LossInput::expert_logits; the host refuses the loss without a
/// multi-expert model. \since SDK 1.4
constexpr uint32_t kExpertLogits = TAILOR_LOSS_NEEDS_EXPERTS;
/// forward() never reads LossInput::targets (a self-supervised objective); only such a loss
/// may train a stage on unlabeled test inputs (`[[stage]] inputs = "test"`), where the
/// targets are -1. \since SDK 1.4
constexpr uint32_t kUnlabeled = TAILOR_LOSS_UNLABELED;
}  // namespace needs

/// One batch as a loss sees it.
struct LossInput {
  at::Tensor logits;    ///< [N, C]; of a multi-expert model, the aggregate of the experts'
  at::Tensor targets;   ///< [N] int64
  at::Tensor features;  ///< [N, D]; undefined unless needs() has kFeatures
  at::Tensor indices;   ///< [N] int64; undefined unless needs() has kIndices
  Clock clock;
  /// A mixed batch's second targets [N] int64 (CutMix, mixup); undefined when the batch was
  /// not mixed. Only passed to losses with needs::kMixedTargets. \since SDK 1.4
  at::Tensor targets_b;
  /// [N] float: the label mass of `targets` in sample i; `targets_b` has 1 - mix_weight.
  /// Defined exactly when targets_b is. \since SDK 1.4
  at::Tensor mix_weight;
  /// [K, N, C]: every expert's logits, for losses with needs::kExpertLogits (RIDE, SADE);
  /// undefined otherwise. \since SDK 1.4
  at::Tensor expert_logits;

  /// Whether the batch was mixed (targets_b and mix_weight are defined).
  bool mixed() const { return targets_b.defined(); }
};

/// The loss of a batch that may be mixed, from `term(targets, multiplier)`, the loss on the
/// given targets with sample i's contribution multiplied by multiplier[i] (an undefined
/// multiplier means 1) and reduced as the loss reduces (its mean, or its weighted mean with
/// the denominator it uses unmixed). Unmixed: term(targets, {}). Mixed: term(targets, m) +
/// term(targets_b, 1 - m), m = mix_weight, which is the official CutMix/mixup criterion
/// `lam * L(out, y_a) + (1 - lam) * L(out, y_b)` when m is lam everywhere, for any L,
/// margins and weights that depend on the target included. \since SDK 1.4
template <class Term>
at::Tensor paired_targets_loss(const LossInput& in, Term&& term) {
  if (!in.mixed()) return term(in.targets, at::Tensor());
  return term(in.targets, in.mix_weight) + term(in.targets_b, in.mix_weight.neg().add(1.0));
}

/// Per-class results of one evaluation pass.
struct ClassStats {
  Split split = Split::kVal;
  std::vector<double> accuracy;  ///< per-class recall in [0,1]; NaN where a class has no sample
  std::vector<int64_t> support;  ///< evaluated samples per class
  Clock clock;
};

/// Base class of loss plugins. Construct with `Class(const Options&, const LossContext&)`.
class Loss {
 public:
  virtual ~Loss() = default;

  /// Capability flags from tailor::needs. Default: logits and targets only.
  virtual uint32_t needs() const { return 0; }
  /// Scalar loss of one batch, differentiable w.r.t. logits (and features).
  virtual at::Tensor forward(const LossInput& input) = 0;
  /// Called before the first step of every epoch.
  virtual void on_epoch_start(const Clock& /*clock*/) {}
  /// Per-class accuracy after every validation pass (needs kValidationStats).
  virtual void on_validation(const ClassStats& /*stats*/) {}
  /// Train-split features and labels at epoch start (needs kFeatureBank).
  virtual void on_feature_bank(const at::Tensor& /*features*/, const at::Tensor& /*labels*/,
                               const Clock& /*clock*/) {}
  /// Learnable parameters the host optimises in their own group (e.g. DRO-LT's ε).
  virtual NamedTensors parameters() { return {}; }
  /// Meta update from the look-ahead loss on a balanced meta batch (needs kMetaStep).
  virtual void meta_update(const at::Tensor& /*meta_loss*/, const Clock& /*clock*/) {}
  /// The loss of the meta batch (logits at the looked-ahead parameters [M, C], targets [M]),
  /// whose value meta_update() then receives; it must stay differentiable w.r.t. the logits.
  /// Default: an undefined tensor, for which the host takes the mean cross-entropy.
  /// Difficulty-Net's official code uses its base loss (Balanced Softmax on ImageNet-LT).
  /// \since ABI 1.3
  virtual at::Tensor meta_loss(const at::Tensor& /*logits*/, const at::Tensor& /*targets*/) const {
    return {};
  }
  /// All state a resumed run needs (weights, optimiser moments of meta parameters, ...).
  virtual NamedTensors state() const { return {}; }
  /// Restores what state() returned.
  virtual void load_state(const NamedTensors& /*state*/) {}
  /// Current per-class weights [C], logged with every epoch in metrics.jsonl; undefined when
  /// the loss has none.
  virtual at::Tensor class_weights() const { return {}; }
  /// Named per-class vectors [C] that reports plot over epochs: the weights a loss applies,
  /// its margins, logit offsets, learned per-class parameters. Short lower_snake_case names
  /// ("weights", "margins", "drw_weights"); a vector that does not apply right now (DRW
  /// weights before re-weighting starts) is left out. Read once per epoch after its last
  /// training step; any device and floating dtype. A loss that has class_weights() should
  /// list them here too. Default: none. \since ABI 1.3
  virtual NamedTensors class_vectors() const { return {}; }
  /// Logits as the loss wants them evaluated (post-hoc logit adjustment). Default: as is.
  virtual at::Tensor adjust_logits(const at::Tensor& logits) const { return logits; }
};

// ----------------------------------------------------------------------------------------
// Sampler
// ----------------------------------------------------------------------------------------

/// What a sampler is built for (once per stage). \since SDK 1.3
struct SamplerContext {
  int64_t num_classes = 0;
  std::vector<int64_t> class_counts;  ///< train samples per class
  std::vector<int64_t> labels;        ///< label of every train sample, in split order
  int64_t total_epochs = 0;           ///< epochs of the stage that owns this sampler
};

/// What a sampler is told at the start of every epoch. \since SDK 1.3
struct SamplerEpoch {
  Clock clock;        ///< epoch (0-based within the stage), total_epochs, stage
  uint64_t seed = 0;  ///< the epoch's seed (run seed mixed with the epochs completed before)
  /// Per-class statistics of the last validation pass; empty `accuracy` before the first.
  ClassStats val_stats;
  bool has_val_stats() const { return !val_stats.accuracy.empty(); }
};

/// Base class of sampler plugins. Construct with `Class(const Options&, const SamplerContext&)`.
///
/// indices() returns the epoch's *global* stream of train positions: any length, repetition
/// allowed. Under data parallelism every rank calls it with the same arguments and takes its
/// share of every batch, so a sampler never sees ranks. The stream must be a pure function of
/// the context and the epoch's arguments (a resumed run asks again for the interrupted
/// epoch), drawn from generators seeded with SamplerEpoch::seed, never LibTorch's. Throw
/// tailor::Error from the constructor for a context the sampler cannot serve (a class
/// without samples). \since SDK 1.3
class Sampler {
 public:
  virtual ~Sampler() = default;

  /// Positions in the train split for one epoch.
  virtual std::vector<int64_t> indices(const SamplerEpoch& epoch) = 0;
};

// ----------------------------------------------------------------------------------------
// Head
// ----------------------------------------------------------------------------------------

/// What a head is built for. \since SDK 1.3
struct HeadContext {
  int64_t in_features = 0;  ///< the backbone's feature_dim
  int64_t num_classes = 0;
  std::vector<int64_t> class_counts;  ///< train samples per class
  /// The backbone's number of experts K (>= 1). Only multi-expert heads are built for K > 1.
  /// \since SDK 1.4
  int64_t num_experts = 1;
};

/// Base class of head plugins: the classifier on the backbone's features, logits [N, C] =
/// head(features [N, D]). Construct with `Class(const Options&, const HeadContext&)`.
///
/// Register every parameter and buffer on module(): the host moves it between devices,
/// switches train/eval, optimises ("head.<name>") and checkpoints through it. The host
/// creates the head after the losses with LibTorch's generator seeded by the run, on the
/// CPU, so weights drawn in the constructor are reproducible. \since SDK 1.3
class Head {
 public:
  /// Set to true in a subclass whose logits are scaled cosine similarities (LDAM's
  /// NormedLinear); the descriptor then carries TAILOR_PLUGIN_NORMED_LOGITS, which losses
  /// that need a cosine classifier require.
  static constexpr bool kNormedLogits = false;
  /// Set to true in a subclass that classifies K experts' features: forward() then maps
  /// [K, N, D] to [K, N, C] (one classifier per expert, K = HeadContext::num_experts, also
  /// when K = 1) and aggregate() combines the experts' logits. The descriptor then carries
  /// TAILOR_PLUGIN_MULTI_EXPERT. \since SDK 1.4
  static constexpr bool kMultiExpert = false;

  virtual ~Head() = default;

  /// The module owning all parameters and buffers.
  virtual torch::nn::Module& module() = 0;
  /// Logits of `features`. When module() is in evaluation mode, apply the post-hoc
  /// evaluation transform (if the head has one).
  virtual at::Tensor forward(const at::Tensor& features) = 0;
  /// forward() with parameters substituted by name from `params` (names as in
  /// module().named_parameters(); names not given use the module's own), differentiable
  /// w.r.t. them. The meta-learning look-ahead needs it; the host sees it exactly for the
  /// classes that override it.
  virtual at::Tensor forward_functional(const at::Tensor& /*features*/,
                                        const NamedTensors& /*params*/) {
    throw Error("this head has no functional forward");
  }
  /// Draws every parameter again as the constructor did (a stage's reinit = ["head"]).
  virtual void reset_parameters() = 0;
  /// Name of the one scalar knob of the evaluation transform ("tau"), which [eval]
  /// tau_sweep chooses on val and checkpoints keep; nullptr when the head has none.
  virtual const char* eval_knob() const { return nullptr; }
  /// The knob's value (only called when eval_knob() is not nullptr).
  virtual double eval_knob_value() const { return 0.0; }
  /// Sets the knob; throw tailor::Error for a value out of range.
  virtual void set_eval_knob(double /*value*/) { throw Error("this head has no evaluation knob"); }
  /// Multi-expert heads: the model's logits [N, C] from the experts' logits [K, N, C] (what
  /// evaluation scores, and what losses without needs::kExpertLogits train). Default: the
  /// mean over experts. Override for learned weights or routing. \since SDK 1.4
  virtual at::Tensor aggregate(const at::Tensor& expert_logits) { return expert_logits.mean(0); }
};

// ----------------------------------------------------------------------------------------
// BatchMix
// ----------------------------------------------------------------------------------------

/// What a batch mix is built for (once per stage). \since SDK 1.4
struct BatchMixContext {
  int64_t num_classes = 0;
  std::vector<int64_t> class_counts;  ///< train samples per class
  int64_t total_epochs = 0;           ///< epochs of the stage that owns this batch mix
};

/// One training batch as a batch mix sees it, on the training device after augmentation.
/// \since SDK 1.4
struct MixInput {
  at::Tensor inputs;     ///< [N, ...sample_shape]
  at::Tensor targets;    ///< [N] int64
  at::Tensor inputs_b;   ///< a second batch of the same shape from the second sampler stream
  at::Tensor targets_b;  ///< its targets; both undefined unless wants_second_batch()
  /// The step's seed: draw every random number (lambda, box, permutation) from it, e.g.
  /// with tailor::SampleRng(seed, 0), so that a step is reproducible and every
  /// data-parallel rank draws the same numbers.
  uint64_t seed = 0;
  Clock clock;
};

/// What a batch mix returns. Leave `inputs` undefined to pass the batch on unmixed (a mix
/// probability, a schedule that mixes only in some epochs).
struct MixOutput {
  at::Tensor inputs;      ///< [N, ...] the mixed inputs
  at::Tensor targets_b;   ///< [N] int64 second targets
  at::Tensor mix_weight;  ///< [N] float: label mass of the original targets (of targets_b: 1 - it)
};

/// Base class of batch-mix plugins: between the loader and the model, mixes the inputs of a
/// training batch and returns paired targets, which LossInput carries to losses that declare
/// needs::kMixedTargets (tailor::paired_targets_loss). Construct with
/// `Class(const Options&, const BatchMixContext&)`. \since SDK 1.4
class BatchMix {
 public:
  virtual ~BatchMix() = default;

  /// True: the host draws a second batch for every step from the second sampler stream
  /// (`[batch_mix.sampler]`, default class_balanced), e.g. CMO's minority-oversampled batch.
  virtual bool wants_second_batch() const { return false; }
  /// The mixed batch.
  virtual MixOutput mix(const MixInput& input) = 0;
};

}  // namespace tailor
