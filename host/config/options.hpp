// host/config/options.hpp - typed options of the host-owned experiment sections.
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
  enum class Device { kAuto, kCpu, kCuda };
  static constexpr auto kDevices = tailor::choice<Device>(
      {{"auto", Device::kAuto}, {"cpu", Device::kCpu}, {"cuda", Device::kCuda}});

  std::string name = "experiment";
  int64_t seed = 0;
  std::string output_dir = "runs";
  Device device = Device::kAuto;
  int64_t threads = 0;

  template <class V>
  void visit(V& v) {
    v("name", name, "Run name; the run directory is <output_dir>/<name>/<timestamp>.");
    v("seed", seed, "Seed of every random stream (sampling, augmentation, initialisation).",
      at_least(0));
    v("output_dir", output_dir, "Root of run directories, relative to the working directory.");
    v("device", device, "auto: CUDA when this build and machine have it, else CPU.", kDevices);
    v("threads", threads, "Intra-op CPU threads; 0 = every core this process may use.",
      at_least(0));
  }
};

/// [train]: what every stage shares unless the stage overrides it.
struct TrainOptions {
  enum class Precision { kFp32, kBf16 };
  static constexpr auto kPrecisions =
      tailor::choice<Precision>({{"fp32", Precision::kFp32}, {"bf16", Precision::kBf16}});
  enum class AugmentOn { kLoader, kDevice };
  static constexpr auto kAugmentOn =
      tailor::choice<AugmentOn>({{"loader", AugmentOn::kLoader}, {"device", AugmentOn::kDevice}});

  int64_t epochs = 10;
  int64_t batch_size = 128;
  int64_t workers = 2;
  int64_t prefetch = 4;
  int64_t eval_batch_size = 512;
  int64_t log_every = 50;
  double grad_clip = 0.0;
  int64_t checkpoint_every = 0;
  int64_t max_steps_per_epoch = 0;
  Precision precision = Precision::kFp32;
  bool channels_last = true;
  bool cuda_graph = false;
  AugmentOn augment_on = AugmentOn::kLoader;
  int64_t accumulate = 1;
  bool sync_batchnorm = false;
  double divergence_factor = 0.0;

  template <class V>
  void visit(V& v) {
    v("epochs", epochs,
      "Training epochs (of the single implicit stage when no [[stage]] is given).", at_least(1));
    v("batch_size", batch_size, "Samples per training step.", at_least(1));
    v("workers", workers, "Threads decoding and augmenting batches.", at_least(1));
    v("prefetch", prefetch, "Batches prepared ahead of the training step.", at_least(1));
    v("eval_batch_size", eval_batch_size, "Samples per evaluation step.", at_least(1));
    v("log_every", log_every, "Log the training loss every N steps; 0 = once per epoch.",
      at_least(0));
    v("grad_clip", grad_clip, "Clip the global gradient L2 norm to this value; 0 = off.",
      at_least(0));
    v("checkpoint_every", checkpoint_every,
      "Also keep checkpoints/epoch_<N>.pt every N epochs; 0 = only latest and best.", at_least(0));
    v("max_steps_per_epoch", max_steps_per_epoch,
      "Stop each epoch after this many steps (quick checks of an experiment); 0 = all.",
      at_least(0));
    v("precision", precision,
      "fp32, or bf16: the forward pass and loss autocast to bfloat16 (backward and optimizer "
      "state stay fp32). Evaluation always runs in fp32.",
      kPrecisions);
    v("channels_last", channels_last,
      "Keep 4-D weights and image batches in channels-last memory format: faster convolutions "
      "on CPUs (oneDNN) and recent GPUs. false keeps NCHW (results then differ in the last "
      "float bits, not in expectation).");
    v("cuda_graph", cuda_graph,
      "CUDA only: capture the training step (forward, loss, backward, optimizer step) as a CUDA "
      "graph and replay it for every full batch; recaptured each epoch. Ignored, with a "
      "warning, on CPU, with grad_clip, and for losses that need a meta step or sample indices.");
    v("augment_on", augment_on,
      "loader: loader threads augment each sample on the CPU. device: the loader serves "
      "un-augmented batches and the dataset's batched augmentation runs on the training device "
      "(the GPU), bit-identical to loader; in-memory datasets (cifar_lt, idx_lt) offer it.",
      kAugmentOn);
    v("accumulate", accumulate,
      "Gradient accumulation: each optimizer step runs batch_size / (ranks * accumulate) "
      "samples per rank this many times, summing gradients, so a recipe's global batch is "
      "reachable on fewer GPUs (BatchNorm then sees the smaller micro-batches).",
      at_least(1));
    v("sync_batchnorm", sync_batchnorm,
      "With more than one rank: BatchNorm uses the batch statistics of the whole global batch "
      "(all-reduced across ranks, forward and backward), as one process would; needs a "
      "backbone that supports it. Without it each rank normalises with its own share.");
    v("divergence_factor", divergence_factor,
      "Stop the run when an epoch's mean training loss exceeds this many times the first "
      "epoch's of its stage (a loss that explodes without becoming NaN); 0 = off.",
      at_least(0));
  }
};

/// [optimizer]
struct OptimizerOptions {
  enum class Type { kSgd, kAdam, kAdamW };
  static constexpr auto kTypes =
      tailor::choice<Type>({{"sgd", Type::kSgd}, {"adam", Type::kAdam}, {"adamw", Type::kAdamW}});
  enum class LrScaling { kNone, kLinear, kSqrt };
  static constexpr auto kLrScalings = tailor::choice<LrScaling>(
      {{"none", LrScaling::kNone}, {"linear", LrScaling::kLinear}, {"sqrt", LrScaling::kSqrt}});

  Type type = Type::kSgd;
  double lr = 0.1;
  double momentum = 0.9;
  bool nesterov = false;
  double weight_decay = 5e-4;
  std::vector<std::string> no_decay = {};
  std::vector<double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double loss_lr = 0.0;
  LrScaling lr_scaling = LrScaling::kNone;
  int64_t lr_base_batch = 256;

  template <class V>
  void visit(V& v) {
    v("type", type, "sgd (coupled L2 decay), adam (coupled), adamw (decoupled).", kTypes);
    v("lr", lr, "Base learning rate (reached after warm-up).", greater_than(0));
    v("momentum", momentum, "SGD momentum.", range(0, 1, /*hi_open=*/true));
    v("nesterov", nesterov, "Nesterov momentum (SGD).");
    v("weight_decay", weight_decay, "Weight decay.", at_least(0));
    v("no_decay", no_decay,
      "Parameters without weight decay: exact names (head.bias), prefixes ending in '.' "
      "(backbone.bn1.), or 'bias' / 'norm' for every bias / every 1-D (normalisation) "
      "parameter.");
    v("betas", betas, "Adam/AdamW betas.", range(0, 1, /*hi_open=*/true));
    v("eps", eps, "Adam/AdamW epsilon.", greater_than(0));
    v("loss_lr", loss_lr,
      "Learning rate of the loss's own learnable parameters (their own group, no decay); "
      "0 = the base lr.",
      at_least(0));
    v("lr_scaling", lr_scaling,
      "Learning-rate rule for the global batch: none (lr as given), linear (lr * batch_size / "
      "lr_base_batch, Goyal et al.) or sqrt (lr * sqrt(batch_size / lr_base_batch)). "
      "batch_size is global, so the rule does not depend on the number of ranks; the factor "
      "is recorded in summary.json.",
      kLrScalings);
    v("lr_base_batch", lr_base_batch, "The global batch size `lr` is given for (lr_scaling).",
      at_least(1));
  }
};

/// [schedule]: per-epoch learning-rate schedule of a stage.
struct ScheduleOptions {
  enum class Type { kConstant, kStep, kMultistep, kCosine };
  static constexpr auto kTypes = tailor::choice<Type>({{"constant", Type::kConstant},
                                                       {"step", Type::kStep},
                                                       {"multistep", Type::kMultistep},
                                                       {"cosine", Type::kCosine}});

  Type type = Type::kCosine;
  std::vector<int64_t> milestones = {};
  int64_t step_size = 30;
  double gamma = 0.1;
  double min_lr = 0.0;
  int64_t warmup_epochs = 0;
  double warmup_start = 0.0;

  template <class V>
  void visit(V& v) {
    v("type", type, "constant, step (every step_size epochs), multistep, cosine.", kTypes);
    v("milestones", milestones, "multistep: epochs (0-based within the stage) where lr *= gamma.",
      at_least(1));
    v("step_size", step_size, "step: epochs between decays.", at_least(1));
    v("gamma", gamma, "Decay factor of step and multistep.", greater_than(0));
    v("min_lr", min_lr, "cosine: final learning rate.", at_least(0));
    v("warmup_epochs", warmup_epochs,
      "Linear warm-up: epoch e < warmup uses lr * (e + 1) / warmup_epochs (LDAM-DRW's rule), "
      "or starts from warmup_start * lr when warmup_start > 0.",
      at_least(0));
    v("warmup_start", warmup_start, "Warm-up start factor; 0 = LDAM-DRW's (e+1)/warmup rule.",
      range(0, 1));
  }
};

/// [eval]: the evaluation convention (recorded in every run).
struct EvalOptions {
  int64_t val_every = 1;
  int64_t test_every = 1;
  int64_t many_threshold = 100;
  int64_t few_threshold = 20;
  int64_t majority_threshold = 0;
  int64_t ece_bins = 15;
  std::vector<double> tau_sweep = {};
  bool temperature_scaling = true;

  template <class V>
  void visit(V& v) {
    v("val_every", val_every, "Evaluate on val every N epochs (and after the last); 0 = never.",
      at_least(0));
    v("test_every", test_every,
      "Evaluate on test every N epochs (and after the last; best-on-val epochs always).",
      at_least(0));
    v("many_threshold", many_threshold, "Many-shot classes have more than this many train samples.",
      at_least(0));
    v("few_threshold", few_threshold, "Few-shot classes have fewer than this many train samples.",
      at_least(0));
    v("majority_threshold", majority_threshold,
      "Majority/minority groups (CDB on EGTEA: 600): classes with more / fewer train samples "
      "than this, each with its mean recall and mean precision; 0 = off.",
      at_least(0));
    v("ece_bins", ece_bins, "Equal-width confidence bins of the expected calibration error.",
      at_least(1));
    v("tau_sweep", tau_sweep,
      "Candidate values of the head's evaluation knob (tau_norm's tau); the one with the best "
      "val top-1 is kept, for test too. Ignored for a head without a knob.",
      at_least(0));
    v("temperature_scaling", temperature_scaling,
      "Fit a softmax temperature on every val pass (min NLL) and report the test ECE after "
      "it (ece_ts, overall and per shot group) with the T used; predictions are unchanged.");
  }
};

/// [meta]: the one-step look-ahead for losses that learn from a balanced meta batch.
struct MetaOptions {
  enum class Scope { kHead, kFull };
  static constexpr auto kScopes =
      tailor::choice<Scope>({{"head", Scope::kHead}, {"full", Scope::kFull}});
  enum class Split { kVal, kTrain };
  static constexpr auto kSplits =
      tailor::choice<Split>({{"val", Split::kVal}, {"train", Split::kTrain}});

  enum class Bn { kTrain, kEval };
  static constexpr auto kBns = tailor::choice<Bn>({{"train", Bn::kTrain}, {"eval", Bn::kEval}});

  int64_t batch_size = 100;
  Scope scope = Scope::kHead;
  Split split = Split::kVal;
  Bn bn = Bn::kTrain;

  template <class V>
  void visit(V& v) {
    v("batch_size", batch_size, "Samples of the class-balanced meta batch drawn every step.",
      at_least(1));
    v("scope", scope,
      "Parameters of the virtual step: head (features detached; any backbone) or full (every "
      "parameter; needs a backbone with a functional forward).",
      kScopes);
    v("split", split, "Split the meta batches are drawn from.", kSplits);
    v("bn", bn,
      "BatchNorm while scope \"head\" computes the meta batch's features: train (official "
      "code: batch statistics, and the running statistics move as in any training forward) "
      "or eval (running statistics; nothing moves). Scope \"full\" always uses batch "
      "statistics and restores the running ones.",
      kBns);
  }
};

/// One [[stage]]: a phase of training with its own epochs and overrides.
struct StageOptions {
  enum class Inputs { kTrain, kTest };
  static constexpr auto kInputs =
      tailor::choice<Inputs>({{"train", Inputs::kTrain}, {"test", Inputs::kTest}});

  std::string name = "";
  int64_t epochs = 0;
  std::vector<std::string> freeze = {};
  std::vector<std::string> reinit = {};
  bool reset_optimizer = false;
  bool shift_bn = false;
  Inputs inputs = Inputs::kTrain;
  int64_t views = 1;

  template <class V>
  void visit(V& v) {
    v("name", name, "Stage name for logs and metrics; default stage<i>.");
    v("epochs", epochs, "Epochs of this stage (required).", at_least(1));
    v("freeze", freeze,
      "Parts kept fixed: backbone, head, or parameter-name prefixes such as backbone.layer1. "
      "Frozen backbones also keep their BatchNorm statistics (eval mode).");
    v("reinit", reinit, "Parts re-initialised when the stage starts: head.");
    v("reset_optimizer", reset_optimizer,
      "Start the stage with a fresh optimizer state; otherwise momentum carries over when the "
      "trainable parameters are the same.");
    v("shift_bn", shift_bn,
      "With freeze = [\"backbone\"]: keep the backbone's BatchNorm in training mode, so its "
      "running statistics are re-estimated on this stage's sampler while every weight stays "
      "fixed (MiSLAS's shifted BatchNorm).");
    v("inputs", inputs,
      "What the stage trains on: the train split, or the test split's inputs without their "
      "labels (test-time adaptation such as SADE's aggregation; the loss must declare that it "
      "reads no labels, and the targets it gets are -1).",
      kInputs);
    v("views", views,
      "Augmented views of every image, concatenated along the batch (view 1 of the batch, "
      "then view 2, ...); the loss sees views x batch_size samples.",
      range(1, 4));
  }
};

/// [distributed]: data-parallel training over several processes (torchrun, Slurm, or
/// `tailor run --nproc N`); ignored by a single process.
struct DistributedOptions {
  int64_t timeout_s = 300;
  int64_t bucket_cap_mb = 25;
  bool find_unused_parameters = false;
  bool broadcast_buffers = true;

  template <class V>
  void visit(V& v) {
    v("timeout_s", timeout_s,
      "Seconds a rank waits for the others (rendezvous, every collective) before it stops with "
      "a message naming the rank that stopped answering.",
      at_least(1));
    v("bucket_cap_mb", bucket_cap_mb,
      "Gradient bucket size of the Reducer (DistributedDataParallel's bucket_cap_mb).",
      at_least(1));
    v("find_unused_parameters", find_unused_parameters,
      "Let the Reducer find parameters a step did not use (needed when some parameters get no "
      "gradient in a step; costs a graph traversal per step).");
    v("broadcast_buffers", broadcast_buffers,
      "Broadcast rank 0's buffers (BatchNorm running statistics) before every forward, as "
      "DistributedDataParallel does.");
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
