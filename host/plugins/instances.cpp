// host/plugins/instances.cpp - status-checked calls into plugin vtables.
#include "plugins/instances.hpp"

#include "config/experiment.hpp"
#include "plugins/host_api.hpp"

#include <tailor/payload.hpp>

#include <cstring>

namespace tailor::host {
namespace {

TailorError new_error() {
  TailorError err;
  err.struct_size = sizeof(TailorError);
  err.code = TAILOR_OK;
  err.message[0] = '\0';
  return err;
}

TailorClock to_c(const Clock& k) {
  TailorClock c;
  c.struct_size = sizeof(TailorClock);
  c.epoch = k.epoch;
  c.total_epochs = k.total_epochs;
  c.step = k.step;
  c.steps_per_epoch = k.steps_per_epoch;
  c.global_step = k.global_step;
  c.stage = k.stage;
  return c;
}

const char* status_name(TailorStatus s) {
  switch (s) {
    case TAILOR_ERR_INVALID_ARGUMENT:
      return "invalid argument";
    case TAILOR_ERR_TORCH:
      return "torch error";
    case TAILOR_ERR_RUNTIME:
      return "runtime error";
    case TAILOR_ERR_UNSUPPORTED:
      return "unsupported";
    default:
      return "internal error";
  }
}

template <typename VTable>
const VTable* vtable_of(const LoadedPlugin& p) {
  return static_cast<const VTable*>(p.descriptor->vtable);
}

}  // namespace

void PluginInstance::create(const TailorConfig& config, const void* kind_context) {
  const LoadedPlugin& plugin = plugin_;
  TailorCreateArgs args;
  args.struct_size = sizeof(TailorCreateArgs);
  args.api = host_api();
  args.config = &config;
  args.kind_context = kind_context;
  TailorError err = new_error();
  TailorInstance instance = nullptr;
  check(plugin.descriptor->create(&args, &instance, &err), err, "create");
  if (instance == nullptr)
    throw PluginError(kind_name(plugin.kind) + std::string(" plugin '") + plugin.name + "' (" +
                      plugin.path.string() + "): create returned no instance");
  self_ = instance;
}

PluginInstance::~PluginInstance() {
  if (self_ != nullptr) plugin_.descriptor->destroy(self_);
}

void PluginInstance::check(TailorStatus status, const TailorError& err, const char* call) const {
  if (status == TAILOR_OK) return;
  throw PluginError(std::string(kind_name(plugin_.kind)) + " plugin '" + plugin_.name + "' (" +
                    plugin_.path.string() + "): " + call + " failed (" + status_name(status) +
                    "): " + std::string(err.message, strnlen(err.message, sizeof err.message)));
}

// -- dataset ---------------------------------------------------------------------------------

DatasetPlugin::DatasetPlugin(const LoadedPlugin& plugin, const TailorConfig& config)
    : PluginInstance(plugin), vt_(vtable_of<TailorDatasetVTable>(plugin)) {
  create(config, nullptr);
  TailorDatasetInfo c{};
  c.struct_size = sizeof(TailorDatasetInfo);
  TailorError err = new_error();
  check(vt_->info(self_, &c, &err), err, "info");
  info_.num_classes = c.num_classes;
  info_.modality = static_cast<Modality>(c.modality);
  info_.sample_shape.assign(c.input_shape, c.input_shape + c.input_rank);
  for (int i = 0; i < 3; ++i) info_.split_size[i] = c.split_size[i];
  for (int64_t i = 0; i < c.num_classes; ++i) {
    const char* name = vt_->class_name(self_, i);
    info_.class_names.emplace_back(name != nullptr ? name : std::to_string(i));
  }
}

at::Tensor DatasetPlugin::labels(Split split) const {
  at::Tensor out;
  TailorError err = new_error();
  check(vt_->labels(self_, static_cast<int32_t>(split), payload::handle(out), &err), err, "labels");
  return out;
}

namespace {
TailorBatchRequest c_request(const BatchRequest& r) {
  TailorBatchRequest c;
  c.struct_size = sizeof(TailorBatchRequest);
  c.split = static_cast<int32_t>(r.split);
  c.augment = r.augment ? 1 : 0;
  c.indices = r.indices;
  c.count = r.count;
  c.seed = r.seed;
  c.position = r.position;
  return c;
}
}  // namespace

Batch DatasetPlugin::batch(const BatchRequest& r) const {
  const TailorBatchRequest c = c_request(r);
  Batch b;
  TailorError err = new_error();
  check(vt_->batch(self_, &c, payload::handle(b.inputs), payload::handle(b.targets), &err), err,
        "batch");
  return b;
}

void DatasetPlugin::write_artifacts(const std::string& dir) const {
  if (vt_->write_artifacts == nullptr) return;
  TailorError err = new_error();
  check(vt_->write_artifacts(self_, dir.c_str(), &err), err, "write_artifacts");
}

bool DatasetPlugin::has_batch_augment() const {
  return TAILOR_HAS_MEMBER(vt_, TailorDatasetVTable, augment_batch) &&
         vt_->augment_batch != nullptr;
}

at::Tensor DatasetPlugin::augment_batch(const BatchRequest& r, const at::Tensor& inputs) const {
  if (!has_batch_augment())
    throw PluginError("dataset plugin '" + plugin_.name + "' (" + plugin_.path.string() +
                      ") has no batched augmentation; set [train] augment_on = \"loader\"");
  const TailorBatchRequest c = c_request(r);
  at::Tensor out;
  TailorError err = new_error();
  check(vt_->augment_batch(self_, &c, payload::handle(inputs), payload::handle(out), &err), err,
        "augment_batch");
  return out;
}

void DatasetPlugin::check_augment_batch(c10::Device device) const {
  if (!has_batch_augment())
    throw ConfigError("[train] augment_on = \"device\": dataset plugin '" + name() +
                      "' has no batched augmentation; set augment_on = \"loader\"");
  const int64_t first = 0;
  const Batch probe = batch({Split::kTrain, false, &first, 1, 0});
  try {
    augment_batch({Split::kTrain, true, &first, 1, 0}, probe.inputs.to(device));
  } catch (const std::exception& e) {
    throw ConfigError(std::string("[train] augment_on = \"device\": ") + e.what());
  }
}

// -- backbone --------------------------------------------------------------------------------

namespace {
TailorBackboneContext backbone_context(const BackboneContext& c) {
  TailorBackboneContext out{};
  out.struct_size = sizeof(TailorBackboneContext);
  out.input_rank = static_cast<int32_t>(c.sample_shape.size());
  for (size_t i = 0; i < c.sample_shape.size() && i < 4; ++i)
    out.input_shape[i] = c.sample_shape[i];
  out.num_classes = c.num_classes;
  out.sync_batchnorm = c.sync_batchnorm ? 1 : 0;
  return out;
}
}  // namespace

BackbonePlugin::BackbonePlugin(const LoadedPlugin& plugin, const TailorConfig& config,
                               const BackboneContext& context)
    : PluginInstance(plugin), vt_(vtable_of<TailorBackboneVTable>(plugin)) {
  const TailorBackboneContext c = backbone_context(context);
  create(config, &c);
  if (TAILOR_HAS_MEMBER(vt_, TailorBackboneVTable, num_experts) && vt_->num_experts != nullptr)
    num_experts_ = vt_->num_experts(self_);
  if (num_experts_ < 1)
    throw PluginError("backbone plugin '" + plugin_.name + "' (" + plugin_.path.string() +
                      ") reports " + std::to_string(num_experts_) +
                      " experts; num_experts() must be at least 1");
}

int64_t BackbonePlugin::feature_dim() const {
  return vt_->feature_dim(self_);
}

torch::nn::Module& BackbonePlugin::module() const {
  return payload::module(vt_->module(self_));
}

at::Tensor BackbonePlugin::forward(const at::Tensor& inputs) const {
  at::Tensor out;
  TailorError err = new_error();
  check(vt_->forward(self_, payload::handle(inputs), payload::handle(out), &err), err, "forward");
  return out;
}

at::Tensor BackbonePlugin::forward_functional(const at::Tensor& inputs,
                                              const NamedTensors& params) const {
  if (vt_->forward_functional == nullptr)
    throw PluginError("backbone plugin '" + plugin_.name +
                      "' has no functional forward, which full-model meta-learning needs; use a "
                      "backbone that provides one or restrict the look-ahead to the head");
  TensorDict dict{params};
  at::Tensor out;
  TailorError err = new_error();
  check(vt_->forward_functional(self_, payload::handle(inputs), dict.handle(), payload::handle(out),
                                &err),
        err, "forward_functional");
  return out;
}

// -- loss ------------------------------------------------------------------------------------

LossPlugin::LossPlugin(const LoadedPlugin& plugin, const TailorConfig& config,
                       const LossContext& context)
    : PluginInstance(plugin), vt_(vtable_of<TailorLossVTable>(plugin)) {
  TAILOR_CHECK(static_cast<int64_t>(context.class_counts.size()) == context.num_classes,
               "loss context: ", context.class_counts.size(), " class counts for ",
               context.num_classes, " classes");
  TailorLossContext c{};
  c.struct_size = sizeof(TailorLossContext);
  c.num_classes = context.num_classes;
  c.class_counts = context.class_counts.data();
  c.feature_dim = context.feature_dim;
  c.device_type = context.device.is_cuda() ? 1 : 0;
  c.device_index = context.device.has_index() ? context.device.index() : 0;
  c.total_epochs = context.total_epochs;
  create(config, &c);
  needs_ = vt_->needs != nullptr ? vt_->needs(self_) : 0;
}

at::Tensor LossPlugin::forward(const LossInput& in) const {
  TailorClock clock = to_c(in.clock);
  TailorLossInput c;
  c.struct_size = sizeof(TailorLossInput);
  c.logits = payload::handle(in.logits);
  c.targets = payload::handle(in.targets);
  c.features = in.features.defined() ? payload::handle(in.features) : nullptr;
  c.indices = in.indices.defined() ? payload::handle(in.indices) : nullptr;
  c.clock = &clock;
  c.targets_b = in.targets_b.defined() ? payload::handle(in.targets_b) : nullptr;
  c.mix_weight = in.mix_weight.defined() ? payload::handle(in.mix_weight) : nullptr;
  c.expert_logits = in.expert_logits.defined() ? payload::handle(in.expert_logits) : nullptr;
  at::Tensor out;
  TailorError err = new_error();
  check(vt_->forward(self_, &c, payload::handle(out), &err), err, "forward");
  const std::string who = "loss plugin '" + plugin_.name + "' (" + plugin_.path.string() + ")";
  if (!out.defined() || out.numel() != 1)
    throw PluginError(who + ": forward must return a scalar tensor");
  if (!at::isFloatingType(out.scalar_type()))
    throw PluginError(who + ": forward returned a " +
                      std::string(c10::toString(out.scalar_type())) +
                      " tensor; a loss must be a floating-point value computed from the logits "
                      "(no argmax, comparison or integer cast on the way)");
  // Training differentiates the loss: one cut off from the logits would fail in backward()
  // with LibTorch's message that names no plugin.
  if (at::GradMode::is_enabled() && in.logits.requires_grad() && !out.requires_grad())
    throw PluginError(who +
                      ": forward returned a tensor detached from the logits, so no "
                      "gradient reaches the model; compute the loss from the input tensors "
                      "without .detach(), .item() or a NoGradGuard");
  return out;
}

void LossPlugin::on_epoch_start(const Clock& clock) const {
  if (vt_->on_epoch_start == nullptr) return;
  TailorClock c = to_c(clock);
  TailorError err = new_error();
  check(vt_->on_epoch_start(self_, &c, &err), err, "on_epoch_start");
}

void LossPlugin::on_validation(const ClassStats& stats) const {
  if (vt_->on_validation == nullptr) return;
  TailorClock clock = to_c(stats.clock);
  TailorClassStats c;
  c.struct_size = sizeof(TailorClassStats);
  c.split = static_cast<int32_t>(stats.split);
  c.num_classes = static_cast<int64_t>(stats.accuracy.size());
  c.accuracy = stats.accuracy.data();
  c.support = stats.support.data();
  c.clock = &clock;
  TailorError err = new_error();
  check(vt_->on_validation(self_, &c, &err), err, "on_validation");
}

void LossPlugin::on_feature_bank(const at::Tensor& features, const at::Tensor& labels,
                                 const Clock& clock) const {
  if (vt_->on_feature_bank == nullptr) return;
  TailorClock k = to_c(clock);
  TailorFeatureBank c;
  c.struct_size = sizeof(TailorFeatureBank);
  c.features = payload::handle(features);
  c.labels = payload::handle(labels);
  c.clock = &k;
  TailorError err = new_error();
  check(vt_->on_feature_bank(self_, &c, &err), err, "on_feature_bank");
}

NamedTensors LossPlugin::parameters() const {
  TensorDict dict;
  if (vt_->parameters == nullptr) return {};
  TailorError err = new_error();
  check(vt_->parameters(self_, dict.handle(), &err), err, "parameters");
  return dict.items;
}

void LossPlugin::meta_update(const at::Tensor& meta_loss, const Clock& clock) const {
  if (vt_->meta_update == nullptr) return;
  TailorClock c = to_c(clock);
  TailorError err = new_error();
  check(vt_->meta_update(self_, payload::handle(meta_loss), &c, &err), err, "meta_update");
}

at::Tensor LossPlugin::meta_loss(const at::Tensor& logits, const at::Tensor& targets) const {
  at::Tensor out;
  if (TAILOR_HAS_MEMBER(vt_, TailorLossVTable, meta_loss) && vt_->meta_loss != nullptr) {
    TailorError err = new_error();
    check(vt_->meta_loss(self_, payload::handle(logits), payload::handle(targets),
                         payload::handle(out), &err),
          err, "meta_loss");
  }
  if (!out.defined()) return at::cross_entropy_loss(logits, targets);
  TAILOR_CHECK(
      out.numel() == 1 && out.is_floating_point() && out.requires_grad(), "loss plugin '", name(),
      "': meta_loss() must return a floating scalar that depends on the logits, got ", out.numel(),
      " element(s) of ", out.scalar_type(), out.requires_grad() ? "" : " without gradient");
  return out;
}

NamedTensors LossPlugin::state() const {
  TensorDict dict;
  if (vt_->state_save == nullptr) return {};
  TailorError err = new_error();
  check(vt_->state_save(self_, dict.handle(), &err), err, "state_save");
  return dict.items;
}

void LossPlugin::load_state(const NamedTensors& state) const {
  if (vt_->state_load == nullptr) return;
  TensorDict dict{state};
  TailorError err = new_error();
  check(vt_->state_load(self_, dict.handle(), &err), err, "state_load");
}

at::Tensor LossPlugin::class_weights() const {
  at::Tensor out;
  if (vt_->class_weights == nullptr) return out;
  TailorError err = new_error();
  check(vt_->class_weights(self_, payload::handle(out), &err), err, "class_weights");
  return out;
}

at::Tensor LossPlugin::adjust_logits(const at::Tensor& logits) const {
  if (!TAILOR_HAS_MEMBER(vt_, TailorLossVTable, adjust_logits) || vt_->adjust_logits == nullptr)
    return logits;
  at::Tensor out;
  TailorError err = new_error();
  check(vt_->adjust_logits(self_, payload::handle(logits), payload::handle(out), &err), err,
        "adjust_logits");
  return out;
}

NamedTensors LossPlugin::class_vectors() const {
  if (!TAILOR_HAS_MEMBER(vt_, TailorLossVTable, class_vectors) || vt_->class_vectors == nullptr) {
    const at::Tensor weights = class_weights();
    if (weights.defined() && weights.numel() > 0) return {{"class_weights", weights}};
    return {};
  }
  TensorDict dict;
  TailorError err = new_error();
  check(vt_->class_vectors(self_, dict.handle(), &err), err, "class_vectors");
  return dict.items;
}

// -- sampler ---------------------------------------------------------------------------------

SamplerPlugin::SamplerPlugin(const LoadedPlugin& plugin, const TailorConfig& config,
                             const SamplerContext& context)
    : PluginInstance(plugin),
      vt_(vtable_of<TailorSamplerVTable>(plugin)),
      num_samples_(static_cast<int64_t>(context.labels.size())) {
  TAILOR_CHECK(static_cast<int64_t>(context.class_counts.size()) == context.num_classes,
               "sampler context: ", context.class_counts.size(), " class counts for ",
               context.num_classes, " classes");
  TailorSamplerContext c{};
  c.struct_size = sizeof(TailorSamplerContext);
  c.num_classes = context.num_classes;
  c.class_counts = context.class_counts.data();
  c.num_samples = num_samples_;
  c.labels = context.labels.data();
  c.total_epochs = context.total_epochs;
  create(config, &c);
}

std::vector<int64_t> SamplerPlugin::indices(const SamplerEpoch& epoch) const {
  TailorClock clock = to_c(epoch.clock);
  TailorClock stats_clock = to_c(epoch.val_stats.clock);
  TailorClassStats stats{};
  stats.struct_size = sizeof(TailorClassStats);
  stats.split = static_cast<int32_t>(epoch.val_stats.split);
  stats.num_classes = static_cast<int64_t>(epoch.val_stats.accuracy.size());
  stats.accuracy = epoch.val_stats.accuracy.data();
  stats.support = epoch.val_stats.support.data();
  stats.clock = &stats_clock;
  TailorSamplerEpoch c{};
  c.struct_size = sizeof(TailorSamplerEpoch);
  c.clock = &clock;
  c.seed = epoch.seed;
  c.val_stats = epoch.has_val_stats() ? &stats : nullptr;
  at::Tensor out;
  TailorError err = new_error();
  check(vt_->epoch_indices(self_, &c, payload::handle(out), &err), err, "epoch_indices");
  const std::string who = "sampler plugin '" + plugin_.name + "' (" + plugin_.path.string() + ")";
  if (!out.defined() || out.dim() != 1 || out.numel() == 0 || out.scalar_type() != at::kLong)
    throw PluginError(who + " returned " +
                      (out.defined() ? "a tensor of shape " + c10::str(out.sizes()) + " and type " +
                                           c10::toString(out.scalar_type())
                                     : std::string("no tensor")) +
                      " for epoch " + std::to_string(epoch.clock.epoch + 1) +
                      "; it must return a non-empty int64 vector of train positions");
  const at::Tensor cpu = out.to(at::kCPU).contiguous();
  const int64_t* data = cpu.data_ptr<int64_t>();
  std::vector<int64_t> result(data, data + cpu.numel());
  for (size_t i = 0; i < result.size(); ++i)
    if (result[i] < 0 || result[i] >= num_samples_)
      throw PluginError(who + " returned index " + std::to_string(result[i]) + " at position " +
                        std::to_string(i) + " of epoch " + std::to_string(epoch.clock.epoch + 1) +
                        "'s stream, but the train split has " + std::to_string(num_samples_) +
                        " samples (valid: 0.." + std::to_string(num_samples_ - 1) +
                        "); fix the sampler to return positions in the train split");
  return result;
}

// -- head ------------------------------------------------------------------------------------

HeadPlugin::HeadPlugin(const LoadedPlugin& plugin, const TailorConfig& config,
                       const HeadContext& context)
    : PluginInstance(plugin),
      vt_(vtable_of<TailorHeadVTable>(plugin)),
      num_classes_(context.num_classes),
      num_experts_(context.num_experts) {
  TAILOR_CHECK(static_cast<int64_t>(context.class_counts.size()) == context.num_classes,
               "head context: ", context.class_counts.size(), " class counts for ",
               context.num_classes, " classes");
  TailorHeadContext c{};
  c.struct_size = sizeof(TailorHeadContext);
  c.in_features = context.in_features;
  c.num_classes = context.num_classes;
  c.class_counts = context.class_counts.data();
  c.num_experts = context.num_experts;
  create(config, &c);
  if (vt_->eval_knob != nullptr && vt_->get_eval_knob != nullptr && vt_->set_eval_knob != nullptr)
    if (const char* knob = vt_->eval_knob(self_)) eval_knob_ = knob;
}

torch::nn::Module& HeadPlugin::module() const {
  return payload::module(vt_->module(self_));
}

at::Tensor HeadPlugin::forward(const at::Tensor& features) const {
  at::Tensor out;
  TailorError err = new_error();
  check(vt_->forward(self_, payload::handle(features), payload::handle(out), &err), err, "forward");
  const bool experts = multi_expert();
  const int64_t n = features.size(experts ? 1 : 0);
  const bool good = out.defined() &&
                    (experts ? out.dim() == 3 && out.size(0) == num_experts_ && out.size(1) == n &&
                                   out.size(2) == num_classes_
                             : out.dim() == 2 && out.size(0) == n && out.size(1) == num_classes_);
  if (!good)
    throw PluginError("head plugin '" + plugin_.name + "' (" + plugin_.path.string() +
                      "): forward returned logits of shape " +
                      (out.defined() ? c10::str(out.sizes()) : std::string("(none)")) +
                      ", expected [" +
                      (experts ? std::to_string(num_experts_) + ", " : std::string()) +
                      std::to_string(n) + ", " + std::to_string(num_classes_) + "]");
  return out;
}

at::Tensor HeadPlugin::aggregate(const at::Tensor& expert_logits) const {
  if (!TAILOR_HAS_MEMBER(vt_, TailorHeadVTable, aggregate) || vt_->aggregate == nullptr)
    return expert_logits.mean(0);
  at::Tensor out;
  TailorError err = new_error();
  check(vt_->aggregate(self_, payload::handle(expert_logits), payload::handle(out), &err), err,
        "aggregate");
  if (!out.defined() || out.dim() != 2 || out.size(0) != expert_logits.size(1) ||
      out.size(1) != num_classes_)
    throw PluginError("head plugin '" + plugin_.name + "' (" + plugin_.path.string() +
                      "): aggregate returned logits of shape " +
                      (out.defined() ? c10::str(out.sizes()) : std::string("(none)")) +
                      ", expected [" + std::to_string(expert_logits.size(1)) + ", " +
                      std::to_string(num_classes_) + "]");
  return out;
}

at::Tensor HeadPlugin::forward_functional(const at::Tensor& features,
                                          const NamedTensors& params) const {
  if (vt_->forward_functional == nullptr)
    throw PluginError("head plugin '" + plugin_.name +
                      "' has no functional forward, which the meta-learning look-ahead needs; "
                      "use a head that provides one (linear, cosine, tau_norm, lws)");
  TensorDict dict{params};
  at::Tensor out;
  TailorError err = new_error();
  check(vt_->forward_functional(self_, payload::handle(features), dict.handle(),
                                payload::handle(out), &err),
        err, "forward_functional");
  return out;
}

void HeadPlugin::reset_parameters() const {
  TailorError err = new_error();
  check(vt_->reset_parameters(self_, &err), err, "reset_parameters");
}

double HeadPlugin::eval_knob_value() const {
  TAILOR_CHECK(!eval_knob_.empty(), "head '", plugin_.name, "' has no evaluation knob");
  return vt_->get_eval_knob(self_);
}

void HeadPlugin::set_eval_knob(double value) const {
  TAILOR_CHECK(!eval_knob_.empty(), "head '", plugin_.name, "' has no evaluation knob");
  TailorError err = new_error();
  check(vt_->set_eval_knob(self_, value, &err), err, "set_eval_knob");
}

// -- batch mix -------------------------------------------------------------------------------

BatchMixPlugin::BatchMixPlugin(const LoadedPlugin& plugin, const TailorConfig& config,
                               const BatchMixContext& context)
    : PluginInstance(plugin), vt_(vtable_of<TailorBatchMixVTable>(plugin)) {
  TailorBatchMixContext c{};
  c.struct_size = sizeof(TailorBatchMixContext);
  c.num_classes = context.num_classes;
  c.class_counts = context.class_counts.data();
  c.total_epochs = context.total_epochs;
  create(config, &c);
  second_batch_ = (vt_->needs(self_) & TAILOR_MIX_NEEDS_SECOND_BATCH) != 0;
}

MixOutput BatchMixPlugin::mix(const MixInput& in) const {
  TailorClock clock = to_c(in.clock);
  TailorMixInput c{};
  c.struct_size = sizeof(TailorMixInput);
  c.inputs = payload::handle(in.inputs);
  c.targets = payload::handle(in.targets);
  c.inputs_b = in.inputs_b.defined() ? payload::handle(in.inputs_b) : nullptr;
  c.targets_b = in.targets_b.defined() ? payload::handle(in.targets_b) : nullptr;
  c.seed = in.seed;
  c.clock = &clock;
  MixOutput out;
  TailorError err = new_error();
  check(vt_->mix(self_, &c, payload::handle(out.inputs), payload::handle(out.targets_b),
                 payload::handle(out.mix_weight), &err),
        err, "mix");
  if (!out.inputs.defined()) return {};
  const int64_t n = in.inputs.size(0);
  const std::string who = "batch_mix plugin '" + plugin_.name + "' (" + plugin_.path.string() + ")";
  if (out.inputs.sizes() != in.inputs.sizes())
    throw PluginError(who + ": mix returned inputs of shape " + c10::str(out.inputs.sizes()) +
                      " for a batch of shape " + c10::str(in.inputs.sizes()) +
                      "; the mixed batch must keep the batch's shape");
  if (!out.targets_b.defined() || out.targets_b.dim() != 1 || out.targets_b.size(0) != n ||
      out.targets_b.scalar_type() != at::kLong)
    throw PluginError(who + ": mix must return targets_b as an int64 vector of " +
                      std::to_string(n) + " targets with the mixed inputs");
  if (!out.mix_weight.defined() || out.mix_weight.dim() != 1 || out.mix_weight.size(0) != n ||
      !out.mix_weight.is_floating_point())
    throw PluginError(who + ": mix must return mix_weight as a float vector of " +
                      std::to_string(n) + " label masses with the mixed inputs");
  return out;
}

}  // namespace tailor::host
