// Pins the layout of every public ABI struct (LP64). A change here breaks every plugin
// already built: append new members at the end of a struct and bump TAILOR_ABI_MINOR
// instead, then add the new offsets below.
#include <tailor/abi.h>

#include <catch2/catch.hpp>

#include <cstddef>

#define PIN_SIZE(type, bytes) static_assert(sizeof(type) == (bytes), #type " size changed")
#define PIN_AT(type, member, at) \
  static_assert(offsetof(type, member) == (at), #type "::" #member " moved")

static_assert(sizeof(void*) == 8, "the pinned layout below is the LP64 one");

PIN_SIZE(TailorError, 2056);
PIN_AT(TailorError, code, 4);
PIN_AT(TailorError, message, 8);

PIN_SIZE(TailorBuildFingerprint, 32);
PIN_AT(TailorBuildFingerprint, torch_major, 4);
PIN_AT(TailorBuildFingerprint, cxx11_abi, 8);
PIN_AT(TailorBuildFingerprint, has_cuda, 10);
PIN_AT(TailorBuildFingerprint, torch_build_id, 16);
PIN_AT(TailorBuildFingerprint, compiler, 24);

PIN_SIZE(TailorValue, 80);
PIN_AT(TailorValue, type, 4);
PIN_AT(TailorValue, key, 8);
PIN_AT(TailorValue, origin, 16);
PIN_AT(TailorValue, int_value, 24);
PIN_AT(TailorValue, float_value, 32);
PIN_AT(TailorValue, string_value, 40);
PIN_AT(TailorValue, count, 48);
PIN_AT(TailorValue, ints, 56);
PIN_AT(TailorValue, floats, 64);
PIN_AT(TailorValue, strings, 72);

PIN_SIZE(TailorConfig, 32);
PIN_AT(TailorConfig, section, 8);
PIN_AT(TailorConfig, count, 16);
PIN_AT(TailorConfig, values, 24);

PIN_AT(TailorHostApi, log, 8);
PIN_AT(TailorHostApi, dict_find, 48);
// 1.0 ended at dict_find (56 bytes); 1.3 appended world_size and all_reduce_sum.
PIN_AT(TailorHostApi, world_size, 56);
PIN_AT(TailorHostApi, all_reduce_sum, 64);
PIN_SIZE(TailorHostApi, 72);

PIN_SIZE(TailorHostInfo, 24);
PIN_AT(TailorHostInfo, abi_minor, 6);
PIN_AT(TailorHostInfo, fingerprint, 8);
PIN_AT(TailorHostInfo, api, 16);

PIN_SIZE(TailorDatasetInfo, 80);
PIN_AT(TailorDatasetInfo, num_classes, 8);
PIN_AT(TailorDatasetInfo, modality, 16);
PIN_AT(TailorDatasetInfo, input_rank, 20);
PIN_AT(TailorDatasetInfo, input_shape, 24);
PIN_AT(TailorDatasetInfo, split_size, 56);

// 1.0 ended at seed (40 bytes); 1.3 appended position.
PIN_AT(TailorBatchRequest, position, 40);
PIN_SIZE(TailorBatchRequest, 48);
PIN_AT(TailorBatchRequest, split, 4);
PIN_AT(TailorBatchRequest, augment, 8);
PIN_AT(TailorBatchRequest, indices, 16);
PIN_AT(TailorBatchRequest, count, 24);
PIN_AT(TailorBatchRequest, seed, 32);

// 1.0 and 1.1 ended at write_artifacts (48 bytes); 1.2 appended augment_batch.
PIN_SIZE(TailorDatasetVTable, 56);
PIN_AT(TailorDatasetVTable, info, 8);
PIN_AT(TailorDatasetVTable, write_artifacts, 40);
PIN_AT(TailorDatasetVTable, augment_batch, 48);

PIN_AT(TailorBackboneContext, input_shape, 8);
PIN_AT(TailorBackboneContext, num_classes, 40);
// 1.0 ended at num_classes (48 bytes); 1.3 appended sync_batchnorm.
PIN_AT(TailorBackboneContext, sync_batchnorm, 48);
PIN_SIZE(TailorBackboneContext, 56);

PIN_SIZE(TailorBackboneVTable, 48);
PIN_AT(TailorBackboneVTable, feature_dim, 8);
PIN_AT(TailorBackboneVTable, forward_functional, 32);
PIN_AT(TailorBackboneVTable, num_experts, 40);  // 1.4

PIN_SIZE(TailorLossContext, 48);
PIN_AT(TailorLossContext, class_counts, 16);
PIN_AT(TailorLossContext, device_type, 32);
PIN_AT(TailorLossContext, total_epochs, 40);

PIN_SIZE(TailorClock, 56);
PIN_AT(TailorClock, epoch, 8);
PIN_AT(TailorClock, global_step, 40);
PIN_AT(TailorClock, stage, 48);

PIN_SIZE(TailorLossInput, 72);
PIN_AT(TailorLossInput, logits, 8);
PIN_AT(TailorLossInput, clock, 40);
PIN_AT(TailorLossInput, targets_b, 48);  // 1.4
PIN_AT(TailorLossInput, mix_weight, 56);
PIN_AT(TailorLossInput, expert_logits, 64);

PIN_SIZE(TailorClassStats, 40);
PIN_AT(TailorClassStats, accuracy, 16);
PIN_AT(TailorClassStats, clock, 32);

PIN_SIZE(TailorFeatureBank, 32);
PIN_AT(TailorFeatureBank, clock, 24);

// 1.0 ended at class_weights (88 bytes); 1.1 appended adjust_logits (96 bytes, also 1.2's
// size); 1.3 appended class_vectors and meta_loss.
PIN_AT(TailorLossVTable, needs, 8);
PIN_AT(TailorLossVTable, forward, 16);
PIN_AT(TailorLossVTable, class_weights, 80);
PIN_AT(TailorLossVTable, adjust_logits, 88);
PIN_AT(TailorLossVTable, class_vectors, 96);
PIN_AT(TailorLossVTable, meta_loss, 104);
PIN_SIZE(TailorLossVTable, 112);

// The 1.3 kinds: sampler and head.
static_assert(TAILOR_KIND_SAMPLER == 4 && TAILOR_KIND_HEAD == 5, "kind values changed");
static_assert(TAILOR_PLUGIN_NORMED_LOGITS == 0x4u, "flag value changed");
PIN_SIZE(TailorSamplerContext, 48);
PIN_AT(TailorSamplerContext, num_classes, 8);
PIN_AT(TailorSamplerContext, class_counts, 16);
PIN_AT(TailorSamplerContext, num_samples, 24);
PIN_AT(TailorSamplerContext, labels, 32);
PIN_AT(TailorSamplerContext, total_epochs, 40);
PIN_SIZE(TailorSamplerEpoch, 32);
PIN_AT(TailorSamplerEpoch, clock, 8);
PIN_AT(TailorSamplerEpoch, seed, 16);
PIN_AT(TailorSamplerEpoch, val_stats, 24);
PIN_SIZE(TailorSamplerVTable, 16);
PIN_AT(TailorSamplerVTable, epoch_indices, 8);
PIN_SIZE(TailorHeadContext, 40);
PIN_AT(TailorHeadContext, in_features, 8);
PIN_AT(TailorHeadContext, num_classes, 16);
PIN_AT(TailorHeadContext, class_counts, 24);
PIN_AT(TailorHeadContext, num_experts, 32);  // 1.4
PIN_SIZE(TailorHeadVTable, 72);
PIN_AT(TailorHeadVTable, module, 8);
PIN_AT(TailorHeadVTable, forward, 16);
PIN_AT(TailorHeadVTable, forward_functional, 24);
PIN_AT(TailorHeadVTable, reset_parameters, 32);
PIN_AT(TailorHeadVTable, eval_knob, 40);
PIN_AT(TailorHeadVTable, get_eval_knob, 48);
PIN_AT(TailorHeadVTable, set_eval_knob, 56);
PIN_AT(TailorHeadVTable, aggregate, 64);  // 1.4

// The 1.4 kind: batch mix; the multi-expert flag and the loss flags of mixed and expert inputs.
static_assert(TAILOR_KIND_BATCH_MIX == 6, "kind value changed");
static_assert(TAILOR_PLUGIN_MULTI_EXPERT == 0x8u, "flag value changed");
static_assert(TAILOR_LOSS_MIXED_TARGETS == 0x40u && TAILOR_LOSS_NEEDS_EXPERTS == 0x80u &&
                  TAILOR_LOSS_UNLABELED == 0x100u,
              "loss flag values changed");
static_assert(TAILOR_MIX_NEEDS_SECOND_BATCH == 0x1u, "batch-mix flag value changed");
PIN_SIZE(TailorBatchMixContext, 32);
PIN_AT(TailorBatchMixContext, num_classes, 8);
PIN_AT(TailorBatchMixContext, class_counts, 16);
PIN_AT(TailorBatchMixContext, total_epochs, 24);
PIN_SIZE(TailorMixInput, 56);
PIN_AT(TailorMixInput, inputs, 8);
PIN_AT(TailorMixInput, targets, 16);
PIN_AT(TailorMixInput, inputs_b, 24);
PIN_AT(TailorMixInput, targets_b, 32);
PIN_AT(TailorMixInput, seed, 40);
PIN_AT(TailorMixInput, clock, 48);
PIN_SIZE(TailorBatchMixVTable, 24);
PIN_AT(TailorBatchMixVTable, needs, 8);
PIN_AT(TailorBatchMixVTable, mix, 16);

PIN_SIZE(TailorCreateArgs, 32);
PIN_AT(TailorCreateArgs, config, 16);
PIN_AT(TailorCreateArgs, kind_context, 24);

PIN_SIZE(TailorPluginDescriptor, 144);
PIN_AT(TailorPluginDescriptor, struct_size, 4);
PIN_AT(TailorPluginDescriptor, abi_major, 8);
PIN_AT(TailorPluginDescriptor, abi_minor, 10);
PIN_AT(TailorPluginDescriptor, kind, 12);
PIN_AT(TailorPluginDescriptor, flags, 16);
PIN_AT(TailorPluginDescriptor, name, 24);
PIN_AT(TailorPluginDescriptor, schema, 48);
PIN_AT(TailorPluginDescriptor, fingerprint, 56);
PIN_AT(TailorPluginDescriptor, create, 88);
PIN_AT(TailorPluginDescriptor, vtable, 104);
PIN_AT(TailorPluginDescriptor, reserved, 112);

TEST_CASE("the 1.x version constants and the member-presence check agree", "[abi]") {
  STATIC_REQUIRE(TAILOR_ABI_MAJOR == 1);
  TailorLossVTable v10{};
  v10.struct_size = offsetof(TailorLossVTable, adjust_logits);  // what a 1.0 plugin reports
  CHECK(TAILOR_HAS_MEMBER(&v10, TailorLossVTable, class_weights));
  CHECK_FALSE(TAILOR_HAS_MEMBER(&v10, TailorLossVTable, adjust_logits));
  TailorLossVTable v12{};
  v12.struct_size = offsetof(TailorLossVTable, class_vectors);  // what a 1.1 or 1.2 plugin reports
  CHECK(TAILOR_HAS_MEMBER(&v12, TailorLossVTable, adjust_logits));
  CHECK_FALSE(TAILOR_HAS_MEMBER(&v12, TailorLossVTable, class_vectors));
  TailorLossVTable v13{};
  v13.struct_size = sizeof(TailorLossVTable);
  CHECK(TAILOR_HAS_MEMBER(&v13, TailorLossVTable, class_vectors));
  TailorBatchRequest r12{};
  r12.struct_size = offsetof(TailorBatchRequest, position);  // what a 1.2 host sends
  CHECK_FALSE(TAILOR_HAS_MEMBER(&r12, TailorBatchRequest, position));
  r12.struct_size = sizeof(TailorBatchRequest);
  CHECK(TAILOR_HAS_MEMBER(&r12, TailorBatchRequest, position));
}
