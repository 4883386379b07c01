// tailor/plugin.hpp - turns a C++ component class into a tailor plugin.
//
// Include this once, in the .cpp that names the plugin:
//
//   #include <tailor/plugin.hpp>
//   class MyLoss : public tailor::Loss {
//    public:
//     struct Options { double gamma = 2.0; template <class V> void visit(V& v) { ... } };
//     MyLoss(const Options& o, const tailor::LossContext& ctx);
//     at::Tensor forward(const tailor::LossInput& in) override;
//   };
//   TAILOR_LOSS_PLUGIN(MyLoss, "my_loss", "1.0.0", "One-line description.")
//
// TAILOR_DATASET_PLUGIN, TAILOR_BACKBONE_PLUGIN, TAILOR_SAMPLER_PLUGIN, TAILOR_HEAD_PLUGIN and
// TAILOR_BATCH_MIX_PLUGIN do the same for the other kinds.
// The macro emits the two exported symbols (tailor_plugin_v<major> and the fingerprint marker)
// and a static descriptor whose function pointers are noexcept trampolines: each catches
// tailor::Error, c10::Error, any std::exception and any other type and reports it as a
// status and message. Plugin authors never write C.
#pragma once

#include <ATen/Functions.h>
#include <c10/util/Exception.h>

#include <tailor/abi.h>
#include <tailor/components.hpp>
#include <tailor/error.hpp>
#include <tailor/log.hpp>
#include <tailor/options.hpp>
#include <tailor/payload.hpp>
#include <tailor/version.hpp>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>

namespace tailor {

namespace detail {

inline void fill_error(TailorError* err, TailorStatus code, const char* message) noexcept {
  if (err == nullptr) return;
  err->code = code;
  std::strncpy(err->message, message != nullptr ? message : "", TAILOR_ERROR_MESSAGE_SIZE - 1);
  err->message[TAILOR_ERROR_MESSAGE_SIZE - 1] = '\0';
}

/// Runs `body`, converting every exception into a status. Never throws.
template <typename Body>
TailorStatus guarded(TailorError* err, Body&& body) noexcept {
  try {
    body();
    return TAILOR_OK;
  } catch (const Error& e) {
    fill_error(err, TAILOR_ERR_INVALID_ARGUMENT, e.what());
  } catch (const c10::Error& e) {
    fill_error(err, TAILOR_ERR_TORCH, e.what_without_backtrace());
  } catch (const std::exception& e) {
    fill_error(err, TAILOR_ERR_RUNTIME, e.what());
  } catch (...) {
    fill_error(err, TAILOR_ERR_INTERNAL,
               "unknown exception (a type not derived from std::exception)");
  }
  return err != nullptr ? err->code : TAILOR_ERR_INTERNAL;
}

inline Clock to_clock(const TailorClock* c) {
  Clock k;
  if (c == nullptr) return k;
  k.epoch = c->epoch;
  k.total_epochs = c->total_epochs;
  k.step = c->step;
  k.steps_per_epoch = c->steps_per_epoch;
  k.global_step = c->global_step;
  k.stage = c->stage;
  return k;
}

inline NamedTensors read_dict(TailorTensorDict dict) {
  const TailorHostApi* api = globals().api.load();
  TAILOR_ASSERT(api != nullptr, "host API not set");
  NamedTensors out;
  const size_t n = api->dict_size(dict);
  for (size_t i = 0; i < n; ++i)
    out.emplace_back(api->dict_name(dict, i), payload::tensor(api->dict_at(dict, i)));
  return out;
}

inline void write_dict(TailorTensorDict dict, const NamedTensors& items) {
  const TailorHostApi* api = globals().api.load();
  TAILOR_ASSERT(api != nullptr, "host API not set");
  for (const auto& [name, t] : items) api->dict_set(dict, name.c_str(), payload::handle(t));
}

/// Instance wrapper: the component plus anything the C layer must keep alive.
template <typename Base>
struct Instance {
  std::unique_ptr<Base> object;
  std::vector<std::string> class_names;  // datasets: stable storage for class_name()
};

template <typename Base>
Base& self_of(TailorInstance self) {
  return *reinterpret_cast<Instance<Base>*>(self)->object;
}

/// Whether Class (or a base between it and tailor::Dataset / tailor::Backbone) overrides an
/// optional member: &Class::f then names that class's function, not the base's. The C slot
/// of an optional member is filled exactly when it is overridden, so a capability cannot be
/// declared without its code or the other way round.
template <typename Class>
constexpr bool overrides_augment_batch =
    !std::is_same_v<decltype(&Class::augment_batch), decltype(&Dataset::augment_batch)>;
template <typename Class>
constexpr bool overrides_forward_functional =
    !std::is_same_v<decltype(&Class::forward_functional), decltype(&Backbone::forward_functional)>;
template <typename Class>
constexpr bool overrides_head_forward_functional =
    !std::is_same_v<decltype(&Class::forward_functional), decltype(&Head::forward_functional)>;
template <typename Class>
constexpr bool overrides_aggregate =
    !std::is_same_v<decltype(&Class::aggregate), decltype(&Head::aggregate)>;

inline ClassStats to_class_stats(const TailorClassStats& s) {
  ClassStats stats;
  stats.split = static_cast<Split>(s.split);
  stats.accuracy.assign(s.accuracy, s.accuracy + s.num_classes);
  stats.support.assign(s.support, s.support + s.num_classes);
  stats.clock = to_clock(s.clock);
  return stats;
}

template <typename Class, typename Base>
struct GlueCommon {
  /// Descriptor flags the class implies (a kind's glue may say more).
  static constexpr uint32_t kFlags = 0u;
  static_assert(std::is_base_of_v<Base, Class>, "plugin class derives from the wrong base");
  using Options = typename Class::Options;

  static const char* schema() noexcept {
    static const std::string text = [] {
      try {
        return schema_of<Options>();
      } catch (...) {
        return std::string();
      }
    }();
    return text.c_str();
  }

  static void destroy(TailorInstance self) noexcept {
    delete reinterpret_cast<Instance<Base>*>(self);
  }

  static void adopt_api(const TailorCreateArgs* args) {
    TAILOR_CHECK(args != nullptr && args->config != nullptr, "create() called without arguments");
    if (args->api != nullptr) globals().api.store(args->api);
  }
};

// -- dataset glue --------------------------------------------------------------------------

template <typename Class>
struct DatasetGlue : GlueCommon<Class, Dataset> {
  using Common = GlueCommon<Class, Dataset>;
  static constexpr uint32_t kKind = TAILOR_KIND_DATASET;

  static TailorStatus create(const TailorCreateArgs* args, TailorInstance* out,
                             TailorError* err) noexcept {
    return guarded(err, [&] {
      Common::adopt_api(args);
      auto options = read_options<typename Class::Options>(*args->config);
      auto inst = std::make_unique<Instance<Dataset>>();
      inst->object = std::make_unique<Class>(options);
      inst->class_names = inst->object->class_names();
      *out = reinterpret_cast<TailorInstance>(inst.release());
    });
  }
  static TailorStatus info(TailorInstance self, TailorDatasetInfo* out, TailorError* err) noexcept {
    return guarded(err, [&] {
      auto& inst = *reinterpret_cast<Instance<Dataset>*>(self);
      const Dataset& d = *inst.object;
      const auto shape = d.sample_shape();
      TAILOR_CHECK(!shape.empty() && shape.size() <= 4, "sample_shape() must have rank 1..4, has ",
                   shape.size());
      out->num_classes = static_cast<int64_t>(inst.class_names.size());
      out->modality = static_cast<int32_t>(d.modality());
      out->input_rank = static_cast<int32_t>(shape.size());
      for (size_t i = 0; i < 4; ++i) out->input_shape[i] = i < shape.size() ? shape[i] : 0;
      out->split_size[0] = d.size(Split::kTrain);
      out->split_size[1] = d.size(Split::kVal);
      out->split_size[2] = d.size(Split::kTest);
    });
  }
  static const char* class_name(TailorInstance self, int64_t index) noexcept {
    auto& names = reinterpret_cast<Instance<Dataset>*>(self)->class_names;
    if (index < 0 || index >= static_cast<int64_t>(names.size())) return nullptr;
    return names[static_cast<size_t>(index)].c_str();
  }
  static TailorStatus labels(TailorInstance self, int32_t split, TailorTensor out,
                             TailorError* err) noexcept {
    return guarded(err, [&] {
      payload::tensor(out) = self_of<Dataset>(self).labels(static_cast<Split>(split));
    });
  }
  static BatchRequest request_of(const TailorBatchRequest& r) {
    BatchRequest request;
    request.split = static_cast<Split>(r.split);
    request.augment = r.augment != 0;
    request.indices = r.indices;
    request.count = r.count;
    request.seed = r.seed;
    if (TAILOR_HAS_MEMBER(&r, TailorBatchRequest, position)) request.position = r.position;
    return request;
  }
  static TailorStatus batch(TailorInstance self, const TailorBatchRequest* r, TailorTensor inputs,
                            TailorTensor targets, TailorError* err) noexcept {
    return guarded(err, [&] {
      Batch b = self_of<Dataset>(self).batch(request_of(*r));
      payload::tensor(inputs) = std::move(b.inputs);
      payload::tensor(targets) = std::move(b.targets);
    });
  }
  static TailorStatus write_artifacts(TailorInstance self, const char* dir,
                                      TailorError* err) noexcept {
    return guarded(err, [&] { self_of<Dataset>(self).write_artifacts(dir); });
  }
  static TailorStatus augment_batch(TailorInstance self, const TailorBatchRequest* r,
                                    TailorTensor inputs, TailorTensor out,
                                    TailorError* err) noexcept {
    return guarded(err, [&] {
      payload::tensor(out) =
          self_of<Dataset>(self).augment_batch(request_of(*r), payload::tensor(inputs));
    });
  }
  static constexpr TailorDatasetVTable vtable = {
      sizeof(TailorDatasetVTable),
      &info,
      &class_name,
      &labels,
      &batch,
      &write_artifacts,
      overrides_augment_batch<Class> ? &augment_batch : nullptr};
};

// -- backbone glue -------------------------------------------------------------------------

template <typename Class>
struct BackboneGlue : GlueCommon<Class, Backbone> {
  using Common = GlueCommon<Class, Backbone>;
  static constexpr uint32_t kKind = TAILOR_KIND_BACKBONE;
  static constexpr uint32_t kFlags = Class::kSyncBatchNorm ? TAILOR_PLUGIN_SYNC_BATCHNORM : 0u;

  static TailorStatus create(const TailorCreateArgs* args, TailorInstance* out,
                             TailorError* err) noexcept {
    return guarded(err, [&] {
      Common::adopt_api(args);
      auto options = read_options<typename Class::Options>(*args->config);
      const auto* c = static_cast<const TailorBackboneContext*>(args->kind_context);
      TAILOR_CHECK(c != nullptr, "backbone created without a context");
      BackboneContext context;
      context.sample_shape.assign(c->input_shape, c->input_shape + c->input_rank);
      context.num_classes = c->num_classes;
      if (TAILOR_HAS_MEMBER(c, TailorBackboneContext, sync_batchnorm))
        context.sync_batchnorm = c->sync_batchnorm != 0;
      auto inst = std::make_unique<Instance<Backbone>>();
      inst->object = std::make_unique<Class>(options, context);
      *out = reinterpret_cast<TailorInstance>(inst.release());
    });
  }
  static int64_t feature_dim(TailorInstance self) noexcept {
    return self_of<Backbone>(self).feature_dim();
  }
  static TailorModule module(TailorInstance self) noexcept {
    return payload::handle(self_of<Backbone>(self).module());
  }
  static TailorStatus forward(TailorInstance self, TailorTensor inputs, TailorTensor out,
                              TailorError* err) noexcept {
    return guarded(err, [&] {
      payload::tensor(out) = self_of<Backbone>(self).forward(payload::tensor(inputs));
    });
  }
  static TailorStatus forward_functional(TailorInstance self, TailorTensor inputs,
                                         TailorTensorDict params, TailorTensor out,
                                         TailorError* err) noexcept {
    return guarded(err, [&] {
      payload::tensor(out) =
          self_of<Backbone>(self).forward_functional(payload::tensor(inputs), read_dict(params));
    });
  }
  static int64_t num_experts(TailorInstance self) noexcept {
    try {
      return self_of<Backbone>(self).num_experts();
    } catch (...) {
      return 1;
    }
  }
  static constexpr TailorBackboneVTable vtable = {
      sizeof(TailorBackboneVTable),
      &feature_dim,
      &module,
      &forward,
      overrides_forward_functional<Class> ? &forward_functional : nullptr,
      &num_experts};
};

// -- loss glue -----------------------------------------------------------------------------

template <typename Class>
struct LossGlue : GlueCommon<Class, Loss> {
  using Common = GlueCommon<Class, Loss>;
  static constexpr uint32_t kKind = TAILOR_KIND_LOSS;

  static TailorStatus create(const TailorCreateArgs* args, TailorInstance* out,
                             TailorError* err) noexcept {
    return guarded(err, [&] {
      Common::adopt_api(args);
      auto options = read_options<typename Class::Options>(*args->config);
      const auto* c = static_cast<const TailorLossContext*>(args->kind_context);
      TAILOR_CHECK(c != nullptr, "loss created without a context");
      LossContext context;
      context.num_classes = c->num_classes;
      if (c->class_counts != nullptr)
        context.class_counts.assign(c->class_counts, c->class_counts + c->num_classes);
      context.feature_dim = c->feature_dim;
      context.device =
          c10::Device(c->device_type == 1 ? c10::kCUDA : c10::kCPU,
                      static_cast<c10::DeviceIndex>(c->device_type == 1 ? c->device_index : -1));
      context.total_epochs = c->total_epochs;
      auto inst = std::make_unique<Instance<Loss>>();
      inst->object = std::make_unique<Class>(options, context);
      *out = reinterpret_cast<TailorInstance>(inst.release());
    });
  }
  static uint32_t needs(TailorInstance self) noexcept {
    try {
      return self_of<Loss>(self).needs();
    } catch (...) {
      return 0;
    }
  }
  static TailorStatus forward(TailorInstance self, const TailorLossInput* in, TailorTensor out,
                              TailorError* err) noexcept {
    return guarded(err, [&] {
      LossInput input;
      input.logits = payload::tensor(in->logits);
      input.targets = payload::tensor(in->targets);
      if (in->features != nullptr) input.features = payload::tensor(in->features);
      if (in->indices != nullptr) input.indices = payload::tensor(in->indices);
      input.clock = to_clock(in->clock);
      if (TAILOR_HAS_MEMBER(in, TailorLossInput, expert_logits)) {
        if (in->targets_b != nullptr && in->mix_weight != nullptr) {
          input.targets_b = payload::tensor(in->targets_b);
          input.mix_weight = payload::tensor(in->mix_weight);
        }
        if (in->expert_logits != nullptr) input.expert_logits = payload::tensor(in->expert_logits);
      }
      payload::tensor(out) = self_of<Loss>(self).forward(input);
    });
  }
  static TailorStatus on_epoch_start(TailorInstance self, const TailorClock* clock,
                                     TailorError* err) noexcept {
    return guarded(err, [&] { self_of<Loss>(self).on_epoch_start(to_clock(clock)); });
  }
  static TailorStatus on_validation(TailorInstance self, const TailorClassStats* s,
                                    TailorError* err) noexcept {
    return guarded(err, [&] { self_of<Loss>(self).on_validation(to_class_stats(*s)); });
  }
  static TailorStatus on_feature_bank(TailorInstance self, const TailorFeatureBank* bank,
                                      TailorError* err) noexcept {
    return guarded(err, [&] {
      self_of<Loss>(self).on_feature_bank(payload::tensor(bank->features),
                                          payload::tensor(bank->labels), to_clock(bank->clock));
    });
  }
  static TailorStatus parameters(TailorInstance self, TailorTensorDict out,
                                 TailorError* err) noexcept {
    return guarded(err, [&] { write_dict(out, self_of<Loss>(self).parameters()); });
  }
  static TailorStatus meta_update(TailorInstance self, TailorTensor meta_loss,
                                  const TailorClock* clock, TailorError* err) noexcept {
    return guarded(
        err, [&] { self_of<Loss>(self).meta_update(payload::tensor(meta_loss), to_clock(clock)); });
  }
  static TailorStatus state_save(TailorInstance self, TailorTensorDict out,
                                 TailorError* err) noexcept {
    return guarded(err, [&] { write_dict(out, self_of<Loss>(self).state()); });
  }
  static TailorStatus state_load(TailorInstance self, TailorTensorDict in,
                                 TailorError* err) noexcept {
    return guarded(err, [&] { self_of<Loss>(self).load_state(read_dict(in)); });
  }
  static TailorStatus class_weights(TailorInstance self, TailorTensor out,
                                    TailorError* err) noexcept {
    return guarded(err, [&] { payload::tensor(out) = self_of<Loss>(self).class_weights(); });
  }
  static TailorStatus adjust_logits(TailorInstance self, TailorTensor logits, TailorTensor out,
                                    TailorError* err) noexcept {
    return guarded(err, [&] {
      payload::tensor(out) = self_of<Loss>(self).adjust_logits(payload::tensor(logits));
    });
  }
  static TailorStatus class_vectors(TailorInstance self, TailorTensorDict out,
                                    TailorError* err) noexcept {
    return guarded(err, [&] { write_dict(out, self_of<Loss>(self).class_vectors()); });
  }
  static TailorStatus meta_loss(TailorInstance self, TailorTensor logits, TailorTensor targets,
                                TailorTensor out, TailorError* err) noexcept {
    return guarded(err, [&] {
      payload::tensor(out) =
          self_of<Loss>(self).meta_loss(payload::tensor(logits), payload::tensor(targets));
    });
  }
  static constexpr TailorLossVTable vtable = {
      sizeof(TailorLossVTable), &needs,         &forward,       &on_epoch_start, &on_validation,
      &on_feature_bank,         &parameters,    &meta_update,   &state_save,     &state_load,
      &class_weights,           &adjust_logits, &class_vectors, &meta_loss};
};

// -- sampler glue --------------------------------------------------------------------------

template <typename Class>
struct SamplerGlue : GlueCommon<Class, Sampler> {
  using Common = GlueCommon<Class, Sampler>;
  static constexpr uint32_t kKind = TAILOR_KIND_SAMPLER;

  static TailorStatus create(const TailorCreateArgs* args, TailorInstance* out,
                             TailorError* err) noexcept {
    return guarded(err, [&] {
      Common::adopt_api(args);
      auto options = read_options<typename Class::Options>(*args->config);
      const auto* c = static_cast<const TailorSamplerContext*>(args->kind_context);
      TAILOR_CHECK(c != nullptr, "sampler created without a context");
      SamplerContext context;
      context.num_classes = c->num_classes;
      if (c->class_counts != nullptr)
        context.class_counts.assign(c->class_counts, c->class_counts + c->num_classes);
      if (c->labels != nullptr) context.labels.assign(c->labels, c->labels + c->num_samples);
      context.total_epochs = c->total_epochs;
      auto inst = std::make_unique<Instance<Sampler>>();
      inst->object = std::make_unique<Class>(options, context);
      *out = reinterpret_cast<TailorInstance>(inst.release());
    });
  }
  static TailorStatus epoch_indices(TailorInstance self, const TailorSamplerEpoch* e,
                                    TailorTensor out, TailorError* err) noexcept {
    return guarded(err, [&] {
      SamplerEpoch epoch;
      epoch.clock = to_clock(e->clock);
      epoch.seed = e->seed;
      if (e->val_stats != nullptr) epoch.val_stats = to_class_stats(*e->val_stats);
      const std::vector<int64_t> indices = self_of<Sampler>(self).indices(epoch);
      at::Tensor t =
          at::empty({static_cast<int64_t>(indices.size())}, at::TensorOptions().dtype(at::kLong));
      std::copy(indices.begin(), indices.end(), t.data_ptr<int64_t>());
      payload::tensor(out) = std::move(t);
    });
  }
  static constexpr TailorSamplerVTable vtable = {sizeof(TailorSamplerVTable), &epoch_indices};
};

// -- head glue -----------------------------------------------------------------------------

template <typename Class>
struct HeadGlue : GlueCommon<Class, Head> {
  using Common = GlueCommon<Class, Head>;
  static constexpr uint32_t kKind = TAILOR_KIND_HEAD;
  static constexpr uint32_t kFlags = (Class::kNormedLogits ? TAILOR_PLUGIN_NORMED_LOGITS : 0u) |
                                     (Class::kMultiExpert ? TAILOR_PLUGIN_MULTI_EXPERT : 0u);

  static TailorStatus create(const TailorCreateArgs* args, TailorInstance* out,
                             TailorError* err) noexcept {
    return guarded(err, [&] {
      Common::adopt_api(args);
      auto options = read_options<typename Class::Options>(*args->config);
      const auto* c = static_cast<const TailorHeadContext*>(args->kind_context);
      TAILOR_CHECK(c != nullptr, "head created without a context");
      HeadContext context;
      context.in_features = c->in_features;
      context.num_classes = c->num_classes;
      if (c->class_counts != nullptr)
        context.class_counts.assign(c->class_counts, c->class_counts + c->num_classes);
      if (TAILOR_HAS_MEMBER(c, TailorHeadContext, num_experts) && c->num_experts > 0)
        context.num_experts = c->num_experts;
      auto inst = std::make_unique<Instance<Head>>();
      inst->object = std::make_unique<Class>(options, context);
      *out = reinterpret_cast<TailorInstance>(inst.release());
    });
  }
  static TailorModule module(TailorInstance self) noexcept {
    return payload::handle(self_of<Head>(self).module());
  }
  static TailorStatus forward(TailorInstance self, TailorTensor features, TailorTensor out,
                              TailorError* err) noexcept {
    return guarded(err, [&] {
      payload::tensor(out) = self_of<Head>(self).forward(payload::tensor(features));
    });
  }
  static TailorStatus forward_functional(TailorInstance self, TailorTensor features,
                                         TailorTensorDict params, TailorTensor out,
                                         TailorError* err) noexcept {
    return guarded(err, [&] {
      payload::tensor(out) =
          self_of<Head>(self).forward_functional(payload::tensor(features), read_dict(params));
    });
  }
  static TailorStatus reset_parameters(TailorInstance self, TailorError* err) noexcept {
    return guarded(err, [&] { self_of<Head>(self).reset_parameters(); });
  }
  static const char* eval_knob(TailorInstance self) noexcept {
    try {
      return self_of<Head>(self).eval_knob();
    } catch (...) {
      return nullptr;
    }
  }
  static double get_eval_knob(TailorInstance self) noexcept {
    try {
      return self_of<Head>(self).eval_knob_value();
    } catch (...) {
      return 0.0;
    }
  }
  static TailorStatus set_eval_knob(TailorInstance self, double value, TailorError* err) noexcept {
    return guarded(err, [&] { self_of<Head>(self).set_eval_knob(value); });
  }
  static TailorStatus aggregate(TailorInstance self, TailorTensor expert_logits, TailorTensor out,
                                TailorError* err) noexcept {
    return guarded(err, [&] {
      payload::tensor(out) = self_of<Head>(self).aggregate(payload::tensor(expert_logits));
    });
  }
  static_assert(Class::kMultiExpert || !overrides_aggregate<Class>,
                "aggregate() is for multi-expert heads: set kMultiExpert = true");
  static constexpr TailorHeadVTable vtable = {
      sizeof(TailorHeadVTable),
      &module,
      &forward,
      overrides_head_forward_functional<Class> ? &forward_functional : nullptr,
      &reset_parameters,
      &eval_knob,
      &get_eval_knob,
      &set_eval_knob,
      overrides_aggregate<Class> ? &aggregate : nullptr};
};

// -- batch-mix glue ------------------------------------------------------------------------

template <typename Class>
struct BatchMixGlue : GlueCommon<Class, BatchMix> {
  using Common = GlueCommon<Class, BatchMix>;
  static constexpr uint32_t kKind = TAILOR_KIND_BATCH_MIX;

  static TailorStatus create(const TailorCreateArgs* args, TailorInstance* out,
                             TailorError* err) noexcept {
    return guarded(err, [&] {
      Common::adopt_api(args);
      auto options = read_options<typename Class::Options>(*args->config);
      const auto* c = static_cast<const TailorBatchMixContext*>(args->kind_context);
      TAILOR_CHECK(c != nullptr, "batch mix created without a context");
      BatchMixContext context;
      context.num_classes = c->num_classes;
      if (c->class_counts != nullptr)
        context.class_counts.assign(c->class_counts, c->class_counts + c->num_classes);
      context.total_epochs = c->total_epochs;
      auto inst = std::make_unique<Instance<BatchMix>>();
      inst->object = std::make_unique<Class>(options, context);
      *out = reinterpret_cast<TailorInstance>(inst.release());
    });
  }
  static uint32_t needs(TailorInstance self) noexcept {
    try {
      return self_of<BatchMix>(self).wants_second_batch() ? TAILOR_MIX_NEEDS_SECOND_BATCH : 0u;
    } catch (...) {
      return 0;
    }
  }
  static TailorStatus mix(TailorInstance self, const TailorMixInput* in, TailorTensor out_inputs,
                          TailorTensor out_targets_b, TailorTensor out_weight,
                          TailorError* err) noexcept {
    return guarded(err, [&] {
      MixInput input;
      input.inputs = payload::tensor(in->inputs);
      input.targets = payload::tensor(in->targets);
      if (in->inputs_b != nullptr) input.inputs_b = payload::tensor(in->inputs_b);
      if (in->targets_b != nullptr) input.targets_b = payload::tensor(in->targets_b);
      input.seed = in->seed;
      input.clock = to_clock(in->clock);
      MixOutput result = self_of<BatchMix>(self).mix(input);
      payload::tensor(out_inputs) = std::move(result.inputs);
      payload::tensor(out_targets_b) = std::move(result.targets_b);
      payload::tensor(out_weight) = std::move(result.mix_weight);
    });
  }
  static constexpr TailorBatchMixVTable vtable = {sizeof(TailorBatchMixVTable), &needs, &mix};
};

}  // namespace detail

}  // namespace tailor

#ifndef TAILOR_FINGERPRINT_MARKER
#error \
    "TAILOR_FINGERPRINT_MARKER is undefined: build plugins with tailor_add_plugin() from TailorSDK"
#endif

/// Internal: the descriptor and the two exported symbols for glue type GLUE.
#define TAILOR_DEFINE_PLUGIN_(GLUE, NAME, VERSION, DESCRIPTION)                                    \
  extern "C" TAILOR_EXPORT const char TAILOR_FINGERPRINT_MARKER = 1;                               \
  namespace {                                                                                      \
  const TailorPluginDescriptor tailor_descriptor_ = {TAILOR_DESCRIPTOR_MAGIC,                      \
                                                     sizeof(TailorPluginDescriptor),               \
                                                     TAILOR_ABI_MAJOR,                             \
                                                     TAILOR_ABI_MINOR,                             \
                                                     GLUE::kKind,                                  \
                                                     TAILOR_PLUGIN_FLAGS | GLUE::kFlags,           \
                                                     NAME,                                         \
                                                     VERSION,                                      \
                                                     DESCRIPTION,                                  \
                                                     &GLUE::schema,                                \
                                                     TAILOR_BUILD_FINGERPRINT_INIT,                \
                                                     &GLUE::create,                                \
                                                     &GLUE::destroy,                               \
                                                     &GLUE::vtable,                                \
                                                     {nullptr, nullptr, nullptr, nullptr}};        \
  }                                                                                                \
  extern "C" TAILOR_EXPORT const TailorPluginDescriptor* TAILOR_ENTRY_NAME(                        \
      const TailorHostInfo* host) {                                                                \
    if (host != nullptr && host->api != nullptr) ::tailor::detail::globals().api.store(host->api); \
    ::tailor::detail::globals().name = NAME;                                                       \
    return &tailor_descriptor_;                                                                    \
  }

/// Declares CLASS (a tailor::Dataset) as this library's plugin, registered as NAME.
#define TAILOR_DATASET_PLUGIN(CLASS, NAME, VERSION, DESCRIPTION) \
  TAILOR_DEFINE_PLUGIN_(::tailor::detail::DatasetGlue<CLASS>, NAME, VERSION, DESCRIPTION)
/// Declares CLASS (a tailor::Backbone) as this library's plugin, registered as NAME.
#define TAILOR_BACKBONE_PLUGIN(CLASS, NAME, VERSION, DESCRIPTION) \
  TAILOR_DEFINE_PLUGIN_(::tailor::detail::BackboneGlue<CLASS>, NAME, VERSION, DESCRIPTION)
/// Declares CLASS (a tailor::Loss) as this library's plugin, registered as NAME.
#define TAILOR_LOSS_PLUGIN(CLASS, NAME, VERSION, DESCRIPTION) \
  TAILOR_DEFINE_PLUGIN_(::tailor::detail::LossGlue<CLASS>, NAME, VERSION, DESCRIPTION)
/// Declares CLASS (a tailor::Sampler) as this library's plugin, registered as NAME.
/// \since SDK 1.3
#define TAILOR_SAMPLER_PLUGIN(CLASS, NAME, VERSION, DESCRIPTION) \
  TAILOR_DEFINE_PLUGIN_(::tailor::detail::SamplerGlue<CLASS>, NAME, VERSION, DESCRIPTION)
/// Declares CLASS (a tailor::Head) as this library's plugin, registered as NAME.
/// \since SDK 1.3
#define TAILOR_HEAD_PLUGIN(CLASS, NAME, VERSION, DESCRIPTION) \
  TAILOR_DEFINE_PLUGIN_(::tailor::detail::HeadGlue<CLASS>, NAME, VERSION, DESCRIPTION)

/// Names a tailor::BatchMix subclass as a batch-mix plugin. \since SDK 1.4
#define TAILOR_BATCH_MIX_PLUGIN(CLASS, NAME, VERSION, DESCRIPTION) \
  TAILOR_DEFINE_PLUGIN_(::tailor::detail::BatchMixGlue<CLASS>, NAME, VERSION, DESCRIPTION)
