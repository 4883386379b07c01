/* tailor/abi.h - the stable C envelope between the tailor host and its plugins.
 *
 * Everything that crosses a plugin boundary is declared here: plain structs, C strings,
 * integers, doubles and function pointers. Plugin authors never include this file
 * directly; they subclass tailor::Loss / tailor::Backbone / tailor::Dataset
 * (<tailor/plugin.hpp>) and the TAILOR_*_PLUGIN macros generate the C layer.
 *
 * Compatibility rules (see docs/abi.md):
 *  - The ABI major is part of the entry symbol's name (tailor_plugin_v1). A host accepts
 *    exactly its own major.
 *  - Minor versions only append: new fields go at the end of a struct, new slots at the end
 *    of a vtable or of the host API. A host accepts any plugin minor <= its own and never
 *    reads past a plugin struct's struct_size; a plugin never reads past the host's.
 *  - Layouts of every 1.0 struct are pinned by static_asserts in tests/abi/layout_test.cpp.
 *  - Tensors cross as opaque handles to host-owned at::Tensor objects (the "payload"). This
 *    ties a plugin to one LibTorch build; the build fingerprint enforces it, and the host
 *    checks the fingerprint marker symbol before it ever dlopen()s a plugin.
 *  - No exception crosses: every fallible call returns a TailorStatus and fills a
 *    caller-owned TailorError. Strings returned by a plugin stay valid while the plugin is
 *    loaded (plugins are never unloaded); strings passed to a plugin are valid only for the
 *    duration of the call and must be copied.
 */
#ifndef TAILOR_ABI_H
#define TAILOR_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** ABI version of these headers. Major renames the entry symbol; minor only appends.
 *  History:
 *    1.0  first stable envelope.
 *    1.1  appended TailorLossVTable.adjust_logits (post-hoc logit adjustment).
 *    1.2  appended TailorDatasetVTable.augment_batch (training augmentation as tensor ops on
 *         the batch's device).
 *    1.3  appended TailorBatchRequest.position (a rank's share of a data-parallel batch draws
 *         the same augmentation as one process), TailorHostApi.world_size and
 *         all_reduce_sum (collectives for plugins: SyncBatchNorm), and
 *         TailorBackboneContext.sync_batchnorm, and
 *         TailorLossVTable.class_vectors (named per-class vectors for reports) and
 *         TailorLossVTable.meta_loss (the meta batch's loss of a meta-learned loss); the kinds
 *         sampler (TailorSamplerContext, TailorSamplerEpoch, TailorSamplerVTable) and head
 *         (TailorHeadContext, TailorHeadVTable) and the flag TAILOR_PLUGIN_NORMED_LOGITS.
 *    1.4  appended the kind batch mix (TailorBatchMixContext, TailorMixInput,
 *         TailorBatchMixVTable), mixed and expert inputs of losses (TailorLossInput.targets_b,
 *         mix_weight, expert_logits; TAILOR_LOSS_MIXED_TARGETS, TAILOR_LOSS_NEEDS_EXPERTS,
 *         TAILOR_LOSS_UNLABELED) and
 *         multi-expert models (TailorBackboneVTable.num_experts, TailorHeadContext.num_experts,
 *         TailorHeadVTable.aggregate, TAILOR_PLUGIN_MULTI_EXPERT). */
#define TAILOR_ABI_MAJOR 1
#define TAILOR_ABI_MINOR 4

/** True when a plugin struct `s` (whose first member is its struct_size) is large enough to
 *  hold `member` of struct type `type`. Check before reading any member appended after 1.0. */
#define TAILOR_HAS_MEMBER(s, type, member) \
  ((s) != NULL && (s)->struct_size >= offsetof(type, member) + sizeof(((type*)0)->member))

/** The default column of a schema line for a key that has no default (the experiment must
 *  set it). Not a TOML literal of any type, so a host that predates required keys refuses
 *  the plugin's schema ("default '<required>' of key 'root' is not a TOML literal") instead
 *  of running with a made-up value; schemas without required keys read as before. */
#define TAILOR_SCHEMA_REQUIRED "<required>"

/** Descriptor magic, the bytes "TLR1" read as a little-endian uint32. */
#define TAILOR_DESCRIPTOR_MAGIC 0x31524C54u

/* Everything that names the ABI major derives from TAILOR_ABI_MAJOR: the entry symbol, the
 * fingerprint marker's prefix, the hash behind the marker (TailorFingerprint.cmake reads the
 * major from this header) and the plugins' version script (generated from it). So a plugin
 * built against an SDK of another major exports other symbol names, and the host refuses it
 * from its symbol table alone, before dlopen() runs any of its code. */
#define TAILOR_STRINGIFY_(x) #x
#define TAILOR_STRINGIFY(x) TAILOR_STRINGIFY_(x)
#define TAILOR_CONCAT_(a, b) a##b
#define TAILOR_CONCAT(a, b) TAILOR_CONCAT_(a, b)

/** Identifier of the one entry function every plugin exports: tailor_plugin_v<major>. */
#define TAILOR_ENTRY_NAME TAILOR_CONCAT(tailor_plugin_v, TAILOR_ABI_MAJOR)

/** Name of the one entry symbol every plugin exports (ABI major in the name). */
#define TAILOR_ENTRY_SYMBOL "tailor_plugin_v" TAILOR_STRINGIFY(TAILOR_ABI_MAJOR)

/** Prefix of the exported fingerprint marker symbol, followed by a 16-hex-digit hash of the
 *  build fingerprint (see tailor/fingerprint.hpp): "tailor_fp_v<major>_". The host reads the
 *  symbol table with Boost.DLL's library_info, without loading the file, and refuses a plugin
 *  whose marker differs from its own. */
#define TAILOR_FINGERPRINT_PREFIX "tailor_fp_v" TAILOR_STRINGIFY(TAILOR_ABI_MAJOR) "_"

#if defined(_WIN32)
#define TAILOR_EXPORT __declspec(dllexport)
#else
#define TAILOR_EXPORT __attribute__((visibility("default")))
#endif

/* ------------------------------------------------------------------------------------ */
/* Status and errors                                                                     */
/* ------------------------------------------------------------------------------------ */

/** Result of every fallible C call. 0 is success. */
typedef int32_t TailorStatus;
#define TAILOR_OK 0
#define TAILOR_ERR_INVALID_ARGUMENT 1 /**< bad option value, bad input shape, bad data file */
#define TAILOR_ERR_TORCH 2            /**< a c10::Error escaped plugin code */
#define TAILOR_ERR_RUNTIME 3          /**< any other std::exception */
#define TAILOR_ERR_UNSUPPORTED 4      /**< an optional slot was called but not provided */
#define TAILOR_ERR_INTERNAL 5         /**< a non-std exception type, or a broken invariant */

/** Size of the message buffer in TailorError, including the terminating NUL. */
#define TAILOR_ERROR_MESSAGE_SIZE 2048

/** Caller-owned error record. The callee writes code and a NUL-terminated UTF-8 message
 *  (truncated to fit) only when it returns a non-zero status; out-parameters are left
 *  untouched on failure. */
typedef struct TailorError {
  uint32_t struct_size; /**< sizeof(TailorError) as the caller compiled it */
  TailorStatus code;
  char message[TAILOR_ERROR_MESSAGE_SIZE];
} TailorError;

/* ------------------------------------------------------------------------------------ */
/* Opaque handles                                                                        */
/* ------------------------------------------------------------------------------------ */

/** A host-owned at::Tensor. Borrowed for the duration of a call unless stated otherwise.
 *  Output slots are host-owned tensors that the plugin assigns to. */
typedef struct TailorTensorOpaque* TailorTensor;

/** A host-owned, ordered, named collection of tensors (state dicts, parameter lists). */
typedef struct TailorTensorDictOpaque* TailorTensorDict;

/** A plugin-owned torch::nn::Module (payload layer; same LibTorch build only). */
typedef struct TailorModuleOpaque* TailorModule;

/** One instance created by a plugin's create(); destroyed by its destroy(). */
typedef struct TailorInstanceOpaque* TailorInstance;

/* ------------------------------------------------------------------------------------ */
/* Build fingerprint                                                                     */
/* ------------------------------------------------------------------------------------ */

/** What a plugin was compiled against. Filled in by SDK macros at plugin compile time. */
typedef struct TailorBuildFingerprint {
  uint32_t struct_size;
  uint16_t torch_major;       /**< TORCH_VERSION_MAJOR */
  uint16_t torch_minor;       /**< TORCH_VERSION_MINOR; patch is unreliable and ignored */
  uint16_t cxx11_abi;         /**< _GLIBCXX_USE_CXX11_ABI */
  uint16_t has_cuda;          /**< 1 when built against a CUDA-enabled LibTorch */
  const char* torch_build_id; /**< e.g. "1.13:libtorch_cpu.so.1.13"; recorded by the SDK */
  const char* compiler;       /**< e.g. "gcc 12.2.0" (diagnostics only) */
} TailorBuildFingerprint;

/* ------------------------------------------------------------------------------------ */
/* Plugin options                                                                        */
/* ------------------------------------------------------------------------------------ */

/** Type tags of option values. */
typedef enum TailorValueType {
  TAILOR_VALUE_BOOL = 1,
  TAILOR_VALUE_INT = 2,
  TAILOR_VALUE_FLOAT = 3,
  TAILOR_VALUE_STRING = 4,
  TAILOR_VALUE_INT_ARRAY = 5,
  TAILOR_VALUE_FLOAT_ARRAY = 6,
  TAILOR_VALUE_STRING_ARRAY = 7
} TailorValueType;

/** One option value of a plugin's TOML table, already checked by the host against the
 *  plugin's schema (so its type is the declared one; ints are widened for float keys). */
typedef struct TailorValue {
  uint32_t struct_size;
  uint32_t type;              /**< TailorValueType */
  const char* key;            /**< key inside the plugin table, e.g. "beta" */
  const char* origin;         /**< where it was set: "file.toml:12:9", "--set", or "default" */
  int64_t int_value;          /**< BOOL (0/1) and INT */
  double float_value;         /**< FLOAT */
  const char* string_value;   /**< STRING */
  size_t count;               /**< element count of the array types */
  const int64_t* ints;        /**< INT_ARRAY */
  const double* floats;       /**< FLOAT_ARRAY */
  const char* const* strings; /**< STRING_ARRAY */
} TailorValue;

/** A plugin's complete option set: every key of its schema, defaults filled in. */
typedef struct TailorConfig {
  uint32_t struct_size;
  const char* section; /**< the TOML table name, e.g. "loss" or "stage[1].loss" */
  size_t count;
  const TailorValue* values;
} TailorConfig;

/* ------------------------------------------------------------------------------------ */
/* Host API: services the host offers to plugins                                          */
/* ------------------------------------------------------------------------------------ */

typedef enum TailorLogLevel {
  TAILOR_LOG_DEBUG = 0,
  TAILOR_LOG_INFO = 1,
  TAILOR_LOG_WARN = 2,
  TAILOR_LOG_ERROR = 3
} TailorLogLevel;

/** Function table of host services. Append-only; check struct_size before using a slot
 *  added after 1.0. Every function is thread-safe. */
typedef struct TailorHostApi {
  uint32_t struct_size;
  /** Write one log line attributed to `plugin`. */
  void (*log)(int32_t level, const char* plugin, const char* message);
  /** Append (or replace) `name` -> a shallow copy of `tensor` in `dict`. */
  void (*dict_set)(TailorTensorDict dict, const char* name, TailorTensor tensor);
  /** Number of entries in `dict`. */
  size_t (*dict_size)(TailorTensorDict dict);
  /** Name of entry `i` (valid until the dict changes), or NULL when out of range. */
  const char* (*dict_name)(TailorTensorDict dict, size_t i);
  /** Entry `i` as a borrowed handle, or NULL when out of range. */
  TailorTensor (*dict_at)(TailorTensorDict dict, size_t i);
  /** Entry named `name` as a borrowed handle, or NULL when absent. */
  TailorTensor (*dict_find)(TailorTensorDict dict, const char* name);
  /* ---- end of ABI 1.0 ---- */
  /** Since 1.3: ranks of the data-parallel run this process belongs to (1 alone). */
  int32_t (*world_size)(void);
  /** Since 1.3: sums `tensor` over the ranks, in place (CPU or the training device). Every
   *  rank must make the same calls in the same order (a collective). A no-op for one rank.
   *  Fails (status, message) when a rank stopped answering. Not thread-safe across calls. */
  TailorStatus (*all_reduce_sum)(TailorTensor tensor, TailorError* err);
} TailorHostApi;

/** What the host tells a plugin about itself when it calls the entry point. */
typedef struct TailorHostInfo {
  uint32_t struct_size;
  uint16_t abi_major;
  uint16_t abi_minor;
  const TailorBuildFingerprint* fingerprint;
  const TailorHostApi* api;
} TailorHostInfo;

/* ------------------------------------------------------------------------------------ */
/* Kinds                                                                                 */
/* ------------------------------------------------------------------------------------ */

typedef enum TailorKind {
  TAILOR_KIND_DATASET = 1,
  TAILOR_KIND_BACKBONE = 2,
  TAILOR_KIND_LOSS = 3,
  TAILOR_KIND_SAMPLER = 4,  /**< since 1.3 */
  TAILOR_KIND_HEAD = 5,     /**< since 1.3 */
  TAILOR_KIND_BATCH_MIX = 6 /**< since 1.4 */
} TailorKind;

/** Descriptor flags. */
#define TAILOR_PLUGIN_NEEDS_CUDA 0x1u /**< refuse on a host without CUDA */
/** Since 1.3, backbones: honours TailorBackboneContext.sync_batchnorm. */
#define TAILOR_PLUGIN_SYNC_BATCHNORM 0x2u
/** Since 1.3, heads: the logits are scaled cosine similarities of normalised features and
 *  class weights (LDAM's NormedLinear); losses with TAILOR_LOSS_NORMED_HEAD need such a head. */
#define TAILOR_PLUGIN_NORMED_LOGITS 0x4u
/** Since 1.4, heads: classifies the K experts of a multi-expert backbone: forward() maps
 *  features [K, N, D] to logits [K, N, C] and aggregate() combines them. A backbone with
 *  num_experts() > 1 needs such a head. */
#define TAILOR_PLUGIN_MULTI_EXPERT 0x8u

/** Dataset splits. */
typedef enum TailorSplit {
  TAILOR_SPLIT_TRAIN = 0,
  TAILOR_SPLIT_VAL = 1,
  TAILOR_SPLIT_TEST = 2
} TailorSplit;

/** Input modality of a dataset. */
typedef enum TailorModality { TAILOR_MODALITY_IMAGE = 1, TAILOR_MODALITY_VIDEO = 2 } TailorModality;

/** Static facts about a dataset instance, filled by dataset.info(). */
typedef struct TailorDatasetInfo {
  uint32_t struct_size;
  int64_t num_classes;
  int32_t modality;       /**< TailorModality */
  int32_t input_rank;     /**< rank of one sample: 3 for C,H,W; 4 for C,T,H,W */
  int64_t input_shape[4]; /**< shape of one sample as served by batch() */
  int64_t split_size[3];  /**< samples per TailorSplit; 0 when the split is absent */
} TailorDatasetInfo;

/** Request for one batch. Decoding and augmentation are the plugin's business; the call
 *  must be thread-safe (the host calls it from worker threads) and deterministic: equal
 *  (split, indices, augment, seed) give equal outputs whatever thread runs it. */
typedef struct TailorBatchRequest {
  uint32_t struct_size;
  int32_t split;          /**< TailorSplit */
  int32_t augment;        /**< 1: training augmentation; 0: evaluation transform */
  const int64_t* indices; /**< sample indices within the split */
  size_t count;
  uint64_t seed; /**< per-batch seed; derive per-sample seeds from it and the position */
  /* ---- end of ABI 1.0 ---- */
  /** Since 1.3 (check with TAILOR_HAS_MEMBER; 0 when absent): the position of indices[0]
   *  within the whole batch. Under data parallelism each rank asks for its slice of a batch;
   *  sample i of the request is sample position + i of the batch, and its random stream must
   *  be derived from (seed, position + i) so the ranks together augment exactly as one
   *  process does. */
  uint64_t position;
} TailorBatchRequest;

/** Dataset vtable. */
typedef struct TailorDatasetVTable {
  uint32_t struct_size;
  /** Fill `out` (the host sets out->struct_size). */
  TailorStatus (*info)(TailorInstance self, TailorDatasetInfo* out, TailorError* err);
  /** Name of class `index` (valid while the instance lives). */
  const char* (*class_name)(TailorInstance self, int64_t index);
  /** Assign the int64 labels of every sample of `split` to `out` (shape [split_size]). */
  TailorStatus (*labels)(TailorInstance self, int32_t split, TailorTensor out, TailorError* err);
  /** Assign a float32 input batch [count, ...input_shape] and int64 targets [count]. */
  TailorStatus (*batch)(TailorInstance self, const TailorBatchRequest* request,
                        TailorTensor out_inputs, TailorTensor out_targets, TailorError* err);
  /** Optional (may be NULL): write artefacts such as selected index lists into `dir`. */
  TailorStatus (*write_artifacts)(TailorInstance self, const char* dir, TailorError* err);
  /** Optional (may be NULL; ABI >= 1.2, check with TAILOR_HAS_MEMBER): the training
   *  augmentation as batched tensor ops. `inputs` holds what batch() returned for `request`
   *  with augment = 0, moved to any device; assign to `out`, on that device, exactly what
   *  batch() returns for `request` with augment = 1 (same seed, same indices). Lets the host
   *  augment in-memory datasets on the GPU (`[train] augment_on = "device"`). Fail with a
   *  message when the configured augmentation has no batched form. */
  TailorStatus (*augment_batch)(TailorInstance self, const TailorBatchRequest* request,
                                TailorTensor inputs, TailorTensor out, TailorError* err);
} TailorDatasetVTable;

/** Context a backbone is created with. */
typedef struct TailorBackboneContext {
  uint32_t struct_size;
  int32_t input_rank;
  int64_t input_shape[4]; /**< one sample, as the dataset serves it */
  int64_t num_classes;    /**< informational: the host owns the classifier head */
  /* ---- end of ABI 1.0 ---- */
  /** Since 1.3 (check with TAILOR_HAS_MEMBER): 1 when [train] sync_batchnorm asks batch
   *  normalisation to use the statistics of the whole data-parallel batch (through
   *  TailorHostApi.all_reduce_sum, forward and backward). A backbone that can do so says so
   *  with the descriptor flag TAILOR_PLUGIN_SYNC_BATCHNORM. */
  int32_t sync_batchnorm;
} TailorBackboneContext;

/** Backbone vtable. A backbone maps inputs to feature vectors [N, feature_dim]. */
typedef struct TailorBackboneVTable {
  uint32_t struct_size;
  int64_t (*feature_dim)(TailorInstance self);
  /** The torch::nn::Module that owns every parameter and buffer (payload layer). The host
   *  uses it for train()/eval(), to(device), parameters and checkpoints. */
  TailorModule (*module)(TailorInstance self);
  /** features = f(inputs) with the module's own parameters. */
  TailorStatus (*forward)(TailorInstance self, TailorTensor inputs, TailorTensor out_features,
                          TailorError* err);
  /** Optional (may be NULL): features = f(inputs) with parameters substituted from `params`
   *  (names as in named_parameters(); missing names use the module's own). Must be
   *  differentiable with respect to the substituted tensors (meta-learning look-ahead). */
  TailorStatus (*forward_functional)(TailorInstance self, TailorTensor inputs,
                                     TailorTensorDict params, TailorTensor out_features,
                                     TailorError* err);
  /* ---- end of ABI 1.0 to 1.3 ---- */
  /** Optional, since 1.4: the number of experts K (shared stem, K branches). When it is
   *  greater than 1, forward() returns [K, N, feature_dim], expert k's features at [k]. NULL
   *  or 1: a single feature vector per sample. */
  int64_t (*num_experts)(TailorInstance self);
} TailorBackboneVTable;

/** Context a loss is created with. Pointers are valid only during create(). */
typedef struct TailorLossContext {
  uint32_t struct_size;
  int64_t num_classes;
  const int64_t* class_counts; /**< train samples per class, [num_classes] */
  int64_t feature_dim;         /**< backbone feature width */
  int32_t device_type;         /**< 0 CPU, 1 CUDA */
  int32_t device_index;
  int64_t total_epochs; /**< epochs of the stage that owns this loss */
} TailorLossContext;

/** Loss capability flags, returned by needs(). */
#define TAILOR_LOSS_NEEDS_FEATURES 0x1u     /**< forward() reads input->features */
#define TAILOR_LOSS_NEEDS_INDICES 0x2u      /**< forward() reads input->indices */
#define TAILOR_LOSS_NEEDS_VAL_STATS 0x4u    /**< wants on_validation() after each validation */
#define TAILOR_LOSS_NEEDS_FEATURE_BANK 0x8u /**< wants on_feature_bank() at epoch start */
#define TAILOR_LOSS_NEEDS_META_STEP 0x10u   /**< wants the one-step look-ahead meta update */
#define TAILOR_LOSS_NORMED_HEAD 0x20u       /**< expects a cosine (normed) classifier head */
/** Since 1.4: forward() honours input->targets_b and input->mix_weight of a mixed batch. The
 *  host refuses a batch mix with a loss that lacks this flag. */
#define TAILOR_LOSS_MIXED_TARGETS 0x40u
/** Since 1.4: forward() reads input->expert_logits; the host refuses the loss unless the
 *  backbone has more than one expert. */
#define TAILOR_LOSS_NEEDS_EXPERTS 0x80u
/** Since 1.4: forward() never reads input->targets (a self-supervised objective, e.g. SADE's
 *  test-time aggregation); only such a loss may train a stage on unlabeled test inputs, for
 *  which the host passes targets of -1. */
#define TAILOR_LOSS_UNLABELED 0x100u

/** The training clock. */
typedef struct TailorClock {
  uint32_t struct_size;
  int64_t epoch;        /**< 0-based epoch within the stage */
  int64_t total_epochs; /**< epochs in the stage */
  int64_t step;         /**< 0-based step within the epoch */
  int64_t steps_per_epoch;
  int64_t global_step; /**< steps since the stage began */
  int32_t stage;       /**< 0-based stage index */
} TailorClock;

/** One batch as a loss sees it. Handles are borrowed for the call. */
typedef struct TailorLossInput {
  uint32_t struct_size;
  TailorTensor logits;   /**< [N, C] float */
  TailorTensor targets;  /**< [N] int64 */
  TailorTensor features; /**< [N, D] or NULL when the loss did not ask for them */
  TailorTensor indices;  /**< [N] int64 sample indices or NULL */
  const TailorClock* clock;
  /* ---- end of ABI 1.0 to 1.3 ---- */
  /** Since 1.4 (check with TAILOR_HAS_MEMBER): a mixed batch's second targets [N] int64, or
   *  NULL when the batch was not mixed. Only losses with TAILOR_LOSS_MIXED_TARGETS get it. */
  TailorTensor targets_b;
  /** Since 1.4: [N] float, the label mass of `targets` in each sample (targets_b has one
   *  minus it); NULL exactly when targets_b is. */
  TailorTensor mix_weight;
  /** Since 1.4: every expert's logits [K, N, C] for losses with TAILOR_LOSS_NEEDS_EXPERTS
   *  (`logits` is then the head's aggregate of them), else NULL. */
  TailorTensor expert_logits;
} TailorLossInput;

/** Per-class statistics of one evaluation pass, reduced across ranks. */
typedef struct TailorClassStats {
  uint32_t struct_size;
  int32_t split; /**< TailorSplit the stats come from */
  int64_t num_classes;
  const double* accuracy; /**< per-class recall in [0,1]; NaN for classes without samples */
  const int64_t* support; /**< samples per class in the evaluated split */
  const TailorClock* clock;
} TailorClassStats;

/** Features of the whole train split (evaluation transform), computed at epoch start. */
typedef struct TailorFeatureBank {
  uint32_t struct_size;
  TailorTensor features; /**< [N, D] float, detached */
  TailorTensor labels;   /**< [N] int64 */
  const TailorClock* clock;
} TailorFeatureBank;

/** Loss vtable. Optional slots may be NULL. */
typedef struct TailorLossVTable {
  uint32_t struct_size;
  /** Capability flags TAILOR_LOSS_*. */
  uint32_t (*needs)(TailorInstance self);
  /** Assign a scalar loss (differentiable w.r.t. logits/features) to `out_loss`. */
  TailorStatus (*forward)(TailorInstance self, const TailorLossInput* input, TailorTensor out_loss,
                          TailorError* err);
  /** Optional: called before the first step of every epoch. */
  TailorStatus (*on_epoch_start)(TailorInstance self, const TailorClock* clock, TailorError* err);
  /** Optional: per-class accuracy after each validation (CDB, Difficulty-Net). */
  TailorStatus (*on_validation)(TailorInstance self, const TailorClassStats* stats,
                                TailorError* err);
  /** Optional: train-split features at epoch start (class centroids, DRO-LT). */
  TailorStatus (*on_feature_bank)(TailorInstance self, const TailorFeatureBank* bank,
                                  TailorError* err);
  /** Optional: learnable loss parameters the host optimises in their own group. */
  TailorStatus (*parameters)(TailorInstance self, TailorTensorDict out, TailorError* err);
  /** Optional: meta step. `meta_loss` is the balanced-meta-batch loss after the engine's
   *  differentiable one-step look-ahead; the plugin back-propagates it into its own meta
   *  parameters and updates them. */
  TailorStatus (*meta_update)(TailorInstance self, TailorTensor meta_loss, const TailorClock* clock,
                              TailorError* err);
  /** Optional: save every piece of state a resumed run needs into `out`. */
  TailorStatus (*state_save)(TailorInstance self, TailorTensorDict out, TailorError* err);
  /** Optional: restore what state_save wrote. */
  TailorStatus (*state_load)(TailorInstance self, TailorTensorDict in, TailorError* err);
  /** Optional: current per-class weights [C] for logs and plots (undefined tensor: none). */
  TailorStatus (*class_weights)(TailorInstance self, TailorTensor out, TailorError* err);
  /* ---- end of ABI 1.0 ---- */
  /** Optional, since 1.1: adjust logits at evaluation (post-hoc logit adjustment); assign to
   *  `out`. */
  TailorStatus (*adjust_logits)(TailorInstance self, TailorTensor logits, TailorTensor out,
                                TailorError* err);
  /* ---- end of ABI 1.1 and 1.2 ---- */
  /** Optional, since 1.3: the loss's named per-class vectors (class weights, margins, logit
   *  offsets, ...), each [C], appended to `out` with the host API's dict_set under a short
   *  lower_snake_case name ("weights", "margins"). Called once per training epoch, after its
   *  last step; the host writes them to class_vectors.jsonl and plots them over epochs. When
   *  the slot is absent (a plugin built before 1.3) the host reports class_weights() under
   *  the name "class_weights" instead. */
  TailorStatus (*class_vectors)(TailorInstance self, TailorTensorDict out, TailorError* err);
  /** Optional, since 1.3: the loss of the meta batch at the looked-ahead parameters, for
   *  losses with TAILOR_LOSS_NEEDS_META_STEP: `logits` [M, C] of the class-balanced meta
   *  batch (differentiable: the meta-gradient flows through them), `targets` [M] int64.
   *  Assign a scalar to `out`, or leave it undefined for the host's default, the mean
   *  cross-entropy; the host passes the result to meta_update(). Absent (a plugin built
   *  before this slot): cross-entropy. */
  TailorStatus (*meta_loss)(TailorInstance self, TailorTensor logits, TailorTensor targets,
                            TailorTensor out, TailorError* err);
} TailorLossVTable;

/* ------------------------------------------------------------------------------------ */
/* Sampler (since 1.3)                                                                   */
/* ------------------------------------------------------------------------------------ */

/** Context a sampler is created with, once per stage. Pointers are valid only during
 *  create(); copy what the sampler keeps. \since 1.3 */
typedef struct TailorSamplerContext {
  uint32_t struct_size;
  int64_t num_classes;
  const int64_t* class_counts; /**< train samples per class, [num_classes] */
  int64_t num_samples;         /**< size of the train split */
  const int64_t* labels;       /**< label of every train sample, [num_samples] */
  int64_t total_epochs;        /**< epochs of the stage that owns this sampler */
} TailorSamplerContext;

/** What a sampler is told at the start of every epoch. Pointers are borrowed for the call.
 *  \since 1.3 */
typedef struct TailorSamplerEpoch {
  uint32_t struct_size;
  const TailorClock* clock; /**< epoch (0-based within the stage), total_epochs, stage */
  /** The epoch's seed: the host mixes the run seed with the number of epochs completed
   *  before this one (over all stages). Equal seeds must give equal streams. */
  uint64_t seed;
  /** Per-class statistics of the last validation pass (NULL before the first one). */
  const TailorClassStats* val_stats;
} TailorSamplerEpoch;

/** Sampler vtable. A sampler decides which train samples an epoch visits, in which order.
 *  It returns the *global* stream: under data parallelism every rank calls it with the same
 *  arguments and takes its share of every batch, so a sampler never sees ranks. Its stream
 *  must be a pure function of its context and the epoch's arguments (a resumed run calls it
 *  again for the interrupted epoch), and it must not draw from LibTorch's generator. */
typedef struct TailorSamplerVTable {
  uint32_t struct_size;
  /** Assign the epoch's index stream to `out`: an int64 CPU tensor [L] of positions in the
   *  train split, any length L >= 1, repetition allowed. The host refuses a position outside
   *  [0, num_samples). */
  TailorStatus (*epoch_indices)(TailorInstance self, const TailorSamplerEpoch* epoch,
                                TailorTensor out, TailorError* err);
} TailorSamplerVTable;

/* ------------------------------------------------------------------------------------ */
/* Head (since 1.3)                                                                      */
/* ------------------------------------------------------------------------------------ */

/** Context a head (the classifier on the backbone's features) is created with. The host
 *  creates it after the losses, on the CPU, with LibTorch's generator seeded by the run, so
 *  weights drawn in create() are reproducible; it moves the module to the training device
 *  afterwards. Pointers are valid only during create(). \since 1.3 */
typedef struct TailorHeadContext {
  uint32_t struct_size;
  int64_t in_features; /**< the backbone's feature_dim */
  int64_t num_classes;
  const int64_t* class_counts; /**< train samples per class, [num_classes] */
  /* ---- end of ABI 1.3 ---- */
  /** Since 1.4: the backbone's number of experts K; heads with TAILOR_PLUGIN_MULTI_EXPERT
   *  receive features [K, N, in_features] (also when K = 1), others are never built for K > 1. */
  int64_t num_experts;
} TailorHeadContext;

/** Head vtable: features [N, in_features] -> logits [N, num_classes]. \since 1.3 */
typedef struct TailorHeadVTable {
  uint32_t struct_size;
  /** The torch::nn::Module owning every parameter and buffer (payload layer). The host uses
   *  it for train()/eval(), to(device), parameters (named "head.<name>") and checkpoints. */
  TailorModule (*module)(TailorInstance self);
  /** logits = head(features). In evaluation mode (the module is not training) the head
   *  applies its post-hoc evaluation transform, if it has one (tau-normalisation). */
  TailorStatus (*forward)(TailorInstance self, TailorTensor features, TailorTensor out_logits,
                          TailorError* err);
  /** Optional (may be NULL): forward() with parameters substituted by name from `params`
   *  (names as in named_parameters(); missing names use the module's own), differentiable
   *  with respect to the substituted tensors (the meta-learning look-ahead). */
  TailorStatus (*forward_functional)(TailorInstance self, TailorTensor features,
                                     TailorTensorDict params, TailorTensor out_logits,
                                     TailorError* err);
  /** Draw every parameter again as at creation (a stage's `reinit = ["head"]`, cRT). */
  TailorStatus (*reset_parameters)(TailorInstance self, TailorError* err);
  /** Optional (may be NULL): the name of the one scalar knob of the evaluation transform
   *  ("tau"); [eval] tau_sweep picks its value on val, and checkpoints keep it. NULL, or a
   *  NULL slot: the head has no such knob. */
  const char* (*eval_knob)(TailorInstance self);
  /** Optional (NULL when eval_knob is): the knob's current value. */
  double (*get_eval_knob)(TailorInstance self);
  /** Optional (NULL when eval_knob is): sets the knob; fails for a value out of range. */
  TailorStatus (*set_eval_knob)(TailorInstance self, double value, TailorError* err);
  /* ---- end of ABI 1.3 ---- */
  /** Optional, since 1.4, heads with TAILOR_PLUGIN_MULTI_EXPERT: the model's logits [N, C]
   *  from the experts' logits [K, N, C] that forward() returned; assign to `out`. NULL: the
   *  mean over experts. */
  TailorStatus (*aggregate)(TailorInstance self, TailorTensor expert_logits, TailorTensor out,
                            TailorError* err);
} TailorHeadVTable;

/* ------------------------------------------------------------------------------------ */
/* Batch mix (since 1.4)                                                                 */
/* ------------------------------------------------------------------------------------ */

/** Context a batch mix is created with, once per stage. Pointers are valid only during
 *  create(). \since 1.4 */
typedef struct TailorBatchMixContext {
  uint32_t struct_size;
  int64_t num_classes;
  const int64_t* class_counts; /**< train samples per class, [num_classes] */
  int64_t total_epochs;        /**< epochs of the stage that owns this batch mix */
} TailorBatchMixContext;

/** Batch-mix capability flags, returned by needs(). */
#define TAILOR_MIX_NEEDS_SECOND_BATCH 0x1u /**< mix() reads inputs_b and targets_b */

/** One training batch, on the training device after augmentation. Handles are borrowed for
 *  the call. \since 1.4 */
typedef struct TailorMixInput {
  uint32_t struct_size;
  TailorTensor inputs;    /**< [N, ...sample_shape] float */
  TailorTensor targets;   /**< [N] int64 */
  TailorTensor inputs_b;  /**< second batch from the second sampler stream, or NULL */
  TailorTensor targets_b; /**< its targets [N] int64, or NULL */
  uint64_t seed;          /**< the step's seed; every random draw of mix() derives from it */
  const TailorClock* clock;
} TailorMixInput;

/** Batch-mix vtable: a training batch in, mixed inputs and paired targets out. \since 1.4 */
typedef struct TailorBatchMixVTable {
  uint32_t struct_size;
  /** Capability flags TAILOR_MIX_*. */
  uint32_t (*needs)(TailorInstance self);
  /** Assign the mixed inputs [N, ...] to `out_inputs`, the second targets [N] int64 to
   *  `out_targets_b` and the label mass of the first targets [N] float to `out_mix_weight`;
   *  leave `out_inputs` undefined to pass the batch on unmixed. */
  TailorStatus (*mix)(TailorInstance self, const TailorMixInput* input, TailorTensor out_inputs,
                      TailorTensor out_targets_b, TailorTensor out_mix_weight, TailorError* err);
} TailorBatchMixVTable;

/* ------------------------------------------------------------------------------------ */
/* The descriptor                                                                        */
/* ------------------------------------------------------------------------------------ */

/** Context passed to create(); `kind_context` points to the kind's context struct
 *  (TailorBackboneContext, TailorLossContext, TailorSamplerContext, TailorHeadContext,
 *  TailorBatchMixContext; NULL for datasets). */
typedef struct TailorCreateArgs {
  uint32_t struct_size;
  const TailorHostApi* api;
  const TailorConfig* config;
  const void* kind_context;
} TailorCreateArgs;

/** What tailor_plugin_v1 returns: a pointer to a static, immutable descriptor. Fields are
 *  never reordered; new ones are appended before `reserved` is consumed. */
typedef struct TailorPluginDescriptor {
  uint32_t magic;       /**< TAILOR_DESCRIPTOR_MAGIC */
  uint32_t struct_size; /**< sizeof(TailorPluginDescriptor) as the plugin compiled it */
  uint16_t abi_major;
  uint16_t abi_minor;
  uint32_t kind;       /**< TailorKind */
  uint32_t flags;      /**< TAILOR_PLUGIN_* */
  const char* name;    /**< registry name, [a-z0-9_]+ */
  const char* version; /**< plugin version, semver */
  const char* description;
  /** Parameter schema, one line per key: "key\ttype\tdefault\tconstraint\tdoc", where type
   *  is bool|int|float|string|int[]|float[]|string[] and default is a TOML literal, or
   *  TAILOR_SCHEMA_REQUIRED for a key without a default that the experiment must set.
   *  Constraint is informational text ("[0, 1)", "one of: a, b"); the plugin enforces it.
   *  The returned text stays valid while the plugin is loaded. Called only after the
   *  fingerprint checks passed. */
  const char* (*schema)(void);
  TailorBuildFingerprint fingerprint;
  TailorStatus (*create)(const TailorCreateArgs* args, TailorInstance* out, TailorError* err);
  void (*destroy)(TailorInstance self);
  /** Kind vtable: TailorDatasetVTable, TailorBackboneVTable, TailorLossVTable,
   *  TailorSamplerVTable, TailorHeadVTable or TailorBatchMixVTable; each starts with its
   *  own struct_size. */
  const void* vtable;
  void* reserved[4];
} TailorPluginDescriptor;

/** Signature of the entry symbol. Must not allocate, throw or run torch code. */
typedef const TailorPluginDescriptor* (*TailorPluginEntry)(const TailorHostInfo* host);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TAILOR_ABI_H */
