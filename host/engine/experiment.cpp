// host/engine/experiment.cpp - resolved sections -> plugin instances.
#include "engine/experiment.hpp"

#include "config/experiment.hpp"
#include "engine/preflight.hpp"

#include <spdlog/spdlog.h>
#include <torch/cuda.h>
#include <torch/utils.h>

namespace tailor::host {
namespace {

c10::Device pick_device(ExperimentOptions::Device wanted, int cuda_index) {
  const bool cuda = torch::cuda::is_available();
  if (wanted == ExperimentOptions::Device::kCuda && !cuda)
    throw ConfigError("[experiment] device = \"cuda\", but this build of tailor or this " +
                      std::string("machine has no CUDA; use device = \"auto\" or \"cpu\""));
  if (wanted == ExperimentOptions::Device::kCpu || !cuda) return c10::Device(c10::kCPU);
  if (cuda_index >= static_cast<int>(torch::cuda::device_count()))
    throw ConfigError("local rank " + std::to_string(cuda_index) + " would train on GPU " +
                      std::to_string(cuda_index) + ", but this machine shows " +
                      std::to_string(torch::cuda::device_count()) +
                      " GPUs; start at most that many ranks per node");
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(cuda_index));
}

}  // namespace

LossPlugin& Experiment::create_loss(const PluginSection& section, int64_t epochs) {
  const LoadedPlugin& plugin = *section.plugin;
  LossContext context;
  context.num_classes = dataset_->info().num_classes;
  context.class_counts = class_counts_;
  context.feature_dim = backbone_->feature_dim();
  context.device = device_;
  context.total_epochs = epochs;
  losses_.push_back(std::make_unique<LossPlugin>(plugin, section.values.config(), context));
  LossPlugin& loss = *losses_.back();
  const MetaOptions& meta = config_.meta;
  if ((loss.needs() & TAILOR_LOSS_NEEDS_META_STEP) != 0 &&
      meta.scope == MetaOptions::Scope::kFull && !backbone_->has_functional_forward())
    throw ConfigError("loss '" + plugin.name + "' uses [meta] scope = \"full\", but backbone '" +
                      backbone_->name() + "' has no functional forward; set scope = \"head\"");
  if ((loss.needs() & TAILOR_LOSS_NEEDS_META_STEP) != 0 &&
      meta.scope == MetaOptions::Scope::kFull && meta.bn == MetaOptions::Bn::kEval)
    throw ConfigError(
        "[meta] bn = \"eval\" applies to scope = \"head\" only (scope \"full\" "
        "steps the BatchNorm parameters too and always uses batch statistics); "
        "remove bn or set scope = \"head\"");
  if ((loss.needs() & TAILOR_LOSS_NEEDS_META_STEP) != 0 && meta.split == MetaOptions::Split::kVal &&
      dataset_->size(Split::kVal) == 0)
    throw ConfigError("loss '" + plugin.name + "' needs a meta split, but dataset '" +
                      dataset_->name() + "' has no val split; give the dataset one or set " +
                      "[meta] split = \"train\"");
  if ((loss.needs() & TAILOR_LOSS_NEEDS_VAL_STATS) != 0 && dataset_->size(Split::kVal) == 0)
    throw ConfigError("loss '" + plugin.name + "' learns from per-class validation accuracy, " +
                      "but dataset '" + dataset_->name() + "' has no val split");
  if ((loss.needs() & TAILOR_LOSS_NORMED_HEAD) != 0 &&
      (config_.head.plugin->descriptor->flags & TAILOR_PLUGIN_NORMED_LOGITS) == 0)
    throw ConfigError("loss '" + plugin.name + "' expects cosine logits, but head '" +
                      config_.head.plugin->name + "' does not produce them; set [head] plugin = " +
                      "\"cosine\" (LDAM's NormedLinear), or use a head whose descriptor has " +
                      "TAILOR_PLUGIN_NORMED_LOGITS");
  return loss;
}

void Experiment::create_batch_mix(StagePlan& plan, const BatchMixSection& section,
                                  const SamplerContext& sampler) {
  const std::string& mix = section.mix.plugin->name;
  if ((plan.loss->needs() & TAILOR_LOSS_MIXED_TARGETS) == 0)
    throw ConfigError("stage '" + plan.stage.name + "': batch mix '" + mix +
                      "' mixes samples of two classes, but loss '" + plan.loss->name() +
                      "' cannot take mixed targets (its needs() lacks tailor::needs::"
                      "kMixedTargets); use a loss that can (ce, balanced_softmax, "
                      "logit_adjustment, ldam) or set [batch_mix] plugin = \"none\"");
  if (plan.train.cuda_graph)
    spdlog::warn("stage '{}': [train] cuda_graph is ignored with batch mix '{}'", plan.stage.name,
                 mix);
  BatchMixContext context;
  context.num_classes = sampler.num_classes;
  context.class_counts = sampler.class_counts;
  context.total_epochs = sampler.total_epochs;
  try {
    batch_mixes_.push_back(std::make_unique<BatchMixPlugin>(*section.mix.plugin,
                                                            section.mix.values.config(), context));
    plan.batch_mix = batch_mixes_.back().get();
    if (plan.batch_mix->wants_second_batch()) {
      mix_samplers_.push_back(std::make_unique<SamplerPlugin>(
          *section.sampler.plugin, section.sampler.values.config(), sampler));
      plan.mix_sampler = mix_samplers_.back().get();
    }
  } catch (const PluginError& error) {
    throw ConfigError("stage '" + plan.stage.name + "': " + error.what());
  }
}

// After the losses, as the host-built head was: its weights are the next draws from
// LibTorch's generator.
void Experiment::create_head() {
  HeadContext context;
  context.in_features = backbone_->feature_dim();
  TAILOR_CHECK(context.in_features > 0, "backbone '", backbone_->name(), "' reports feature_dim ",
               context.in_features, "; it must be positive");
  context.num_classes = dataset_->info().num_classes;
  context.class_counts = class_counts_;
  context.num_experts = backbone_->num_experts();
  const std::string& head_name = config_.head.plugin->name;
  const bool multi = (config_.head.plugin->descriptor->flags & TAILOR_PLUGIN_MULTI_EXPERT) != 0;
  if (context.num_experts > 1 && !multi)
    throw ConfigError("backbone '" + backbone_->name() + "' has " +
                      std::to_string(context.num_experts) + " experts, but head '" + head_name +
                      "' is a single-expert head; set [head] plugin = \"experts\" (one "
                      "classifier per expert) or [backbone] num_experts = 1");
  for (const auto& loss : losses_) {
    const uint32_t needs = loss->needs();
    if ((needs & TAILOR_LOSS_NEEDS_EXPERTS) != 0 && context.num_experts < 2)
      throw ConfigError("loss '" + loss->name() + "' trains several experts, but backbone '" +
                        backbone_->name() + "' has one; set [backbone] num_experts (e.g. 3) " +
                        "and [head] plugin = \"experts\"");
    const uint32_t per_feature =
        TAILOR_LOSS_NEEDS_FEATURES | TAILOR_LOSS_NEEDS_FEATURE_BANK | TAILOR_LOSS_NEEDS_META_STEP;
    if (multi && (needs & per_feature) != 0)
      throw ConfigError("loss '" + loss->name() +
                        "' reads the features or takes a meta step, which a multi-expert model "
                        "(head '" +
                        head_name +
                        "') does not offer: its features are per expert; "
                        "use a single-expert head and backbone with this loss");
  }
  head_ = std::make_unique<HeadPlugin>(*config_.head.plugin, config_.head.values.config(), context);
  bool meta = false;
  for (const auto& loss : losses_)
    meta = meta || (loss->needs() & TAILOR_LOSS_NEEDS_META_STEP) != 0;
  if (meta && !head_->has_functional_forward())
    throw ConfigError("a loss takes a meta step, but head '" + head_->name() +
                      "' has no functional forward for the look-ahead; use a head that " +
                      "provides one (linear, cosine, tau_norm, lws)");
}

std::unique_ptr<Experiment> Experiment::build(ResolvedConfig config, int cuda_index,
                                              int world_size) {
  std::unique_ptr<Experiment> e(new Experiment(std::move(config)));
  const ResolvedConfig& c = e->config_;
  e->device_ = pick_device(c.experiment.device, cuda_index);

  // The same seed gives the same initialisation: seed before any plugin creates weights.
  torch::manual_seed(static_cast<uint64_t>(c.experiment.seed));
  const std::string& dataset_name = c.dataset.plugin->name;
  e->dataset_ = std::make_unique<DatasetPlugin>(*c.dataset.plugin, c.dataset.values.config());
  const DatasetInfo& info = e->dataset_->info();
  TAILOR_CHECK(info.num_classes > 1, "dataset '", dataset_name, "' reports ", info.num_classes,
               " classes; at least 2 are needed");
  TAILOR_CHECK(e->dataset_->size(Split::kTrain) > 0, "dataset '", dataset_name,
               "' has an empty train split");
  const at::Tensor labels = e->dataset_->labels(Split::kTrain).to(at::kLong).contiguous();
  TAILOR_CHECK(labels.numel() == e->dataset_->size(Split::kTrain), "dataset '", dataset_name,
               "' returned ", labels.numel(), " train labels for ",
               e->dataset_->size(Split::kTrain), " samples");
  TAILOR_CHECK(labels.min().item<int64_t>() >= 0 && labels.max().item<int64_t>() < info.num_classes,
               "dataset '", dataset_name, "' has train labels outside [0, ", info.num_classes, ")");
  e->train_labels_.assign(labels.data_ptr<int64_t>(), labels.data_ptr<int64_t>() + labels.numel());
  const at::Tensor counts = labels.bincount({}, info.num_classes);
  e->class_counts_.assign(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + counts.numel());

  BackboneContext backbone_context;
  backbone_context.sample_shape = info.sample_shape;
  backbone_context.num_classes = info.num_classes;
  bool sync = false;
  for (const auto& s : c.stages) sync = sync || s.train.sync_batchnorm;
  if (sync && world_size > 1 &&
      (c.backbone.plugin->descriptor->flags & TAILOR_PLUGIN_SYNC_BATCHNORM) == 0)
    throw ConfigError("[train] sync_batchnorm = true, but backbone '" + c.backbone.plugin->name +
                      "' cannot synchronise its BatchNorm across ranks (its descriptor lacks "
                      "TAILOR_PLUGIN_SYNC_BATCHNORM); set sync_batchnorm = false or use a "
                      "backbone that supports it (resnet, resnet32_cifar, small_cnn)");
  backbone_context.sync_batchnorm = sync && world_size > 1;
  e->backbone_ = std::make_unique<BackbonePlugin>(*c.backbone.plugin, c.backbone.values.config(),
                                                  backbone_context);

  // Losses in the order of the configuration: the global one first (a stage without its
  // own loss table shares it), then one per stage table.
  std::vector<LossPlugin*> losses;
  for (size_t i = 0; i < c.losses.size(); ++i) {
    size_t owner = 0;
    while (i != 0 && c.stages[owner].loss != i) ++owner;
    losses.push_back(&e->create_loss(c.losses[i], c.stages[owner].stage.epochs));
  }
  e->create_head();
  for (const StageConfig& s : c.stages) {
    StagePlan plan;
    static_cast<StageSettings&>(plan) = s;
    plan.loss = losses[s.loss];
    SamplerContext sampler;
    sampler.num_classes = info.num_classes;
    sampler.class_counts = e->class_counts_;
    sampler.labels = e->train_labels_;
    sampler.total_epochs = s.stage.epochs;
    try {
      e->samplers_.push_back(
          std::make_unique<SamplerPlugin>(*s.sampler.plugin, s.sampler.values.config(), sampler));
    } catch (const PluginError& error) {
      throw ConfigError("stage '" + plan.stage.name + "': " + error.what());
    }
    plan.sampler = e->samplers_.back().get();
    if (s.batch_mix) e->create_batch_mix(plan, *s.batch_mix, sampler);
    if (s.stage.inputs == StageOptions::Inputs::kTest) {
      if ((plan.loss->needs() & TAILOR_LOSS_UNLABELED) == 0)
        throw ConfigError("stage '" + plan.stage.name + "' trains on the unlabeled test inputs " +
                          "(inputs = \"test\"), but loss '" + plan.loss->name() +
                          "' reads labels (its needs() lacks tailor::needs::kUnlabeled); give "
                          "the stage a self-supervised loss such as sade_aggregation");
      if (e->dataset_->size(Split::kTest) == 0)
        throw ConfigError("stage '" + plan.stage.name +
                          "' trains on the test inputs, but dataset '" + dataset_name +
                          "' has no test split");
    }
    if (plan.batch_mix != nullptr &&
        (s.stage.views > 1 || s.stage.inputs == StageOptions::Inputs::kTest))
      throw ConfigError("stage '" + plan.stage.name + "': batch mix '" + plan.batch_mix->name() +
                        "' cannot mix several views or unlabeled inputs; set [stage.batch_mix] "
                        "plugin = \"none\" for this stage");
    if ((plan.loss->needs() & TAILOR_LOSS_NEEDS_META_STEP) != 0 && plan.train.accumulate > 1)
      throw ConfigError("stage '" + plan.stage.name + "': loss '" + plan.loss->name() +
                        "' takes a meta step on every batch, which gradient accumulation would "
                        "split; set [train] accumulate = 1 for it");
    e->stages_.push_back(plan);
  }
  preflight(*e);
  return e;
}

}  // namespace tailor::host
