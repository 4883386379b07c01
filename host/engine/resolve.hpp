// host/engine/resolve.hpp - an experiment file resolved against option schemas, before any
// component exists.
//
// resolve() merges the file with its bases and `--set` overrides, checks every section
// against its schema (host sections against their options structs, plugin sections against
// the schemas the plugin descriptors publish), constraints included, and reads every stage
// as its tables layered over the global ones. It loads plugin libraries to read their
// descriptors but never creates an instance, so it reads no data: `tailor validate`, sweeps,
// `--resume`'s config check and config.resolved.toml all work from its result.
#pragma once

#include "config/options.hpp"
#include "config/schema.hpp"
#include "plugins/loader.hpp"
#include "report/options.hpp"

#include <toml++/toml.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tailor::host {

/// A plugin section: the plugin chosen by its `plugin = "..."` key and its checked values.
struct PluginSection {
  const LoadedPlugin* plugin = nullptr;
  ResolvedSection values;
};

/// The host options of one stage (its tables over the global ones).
struct StageSettings {
  int index = 0;
  StageOptions stage;
  TrainOptions train;
  OptimizerOptions optimizer;
  ScheduleOptions schedule;
};

/// A stage's batch mix: the plugin and the sampler of its second stream.
struct BatchMixSection {
  PluginSection mix;      ///< [stage.batch_mix] over [batch_mix]
  PluginSection sampler;  ///< [stage.batch_mix.sampler] over [batch_mix.sampler]; class_balanced
};

/// One stage with every option resolved.
struct StageConfig : StageSettings {
  PluginSection sampler;  ///< [stage.sampler] over [sampler] (see component_sections.hpp)
  /// Absent when neither [stage.batch_mix] nor [batch_mix] names a plugin, or one says
  /// plugin = "none".
  std::optional<BatchMixSection> batch_mix;
  size_t loss = 0;  ///< index into ResolvedConfig::losses; stages without a loss table share 0
  ResolvedSection train_values, optimizer_values, schedule_values;
};

/// Everything an experiment file says, checked, with defaults filled in. Move-only.
struct ResolvedConfig {
  std::filesystem::path file;
  ExperimentOptions experiment;
  TrainOptions train;
  EvalOptions eval;
  MetaOptions meta;
  ReportOptions report;
  DistributedOptions distributed;
  PluginsOptions plugins;  ///< paths made absolute
  PluginSection dataset, backbone, head;
  PluginSection sampler;  ///< the global [sampler]; each stage has its own (StageConfig)
  std::vector<PluginSection> losses;  ///< [0] is the global [loss]; then one per stage table
  std::vector<StageConfig> stages;    ///< one implicit stage "main" without [[stage]]
  bool implicit_stage = true;
  std::vector<ResolvedSection> host_sections;  ///< global host sections, for table()

  /// Every plugin the configuration uses, once each: dataset, backbone, head, the losses,
  /// then the stages' samplers.
  std::vector<const LoadedPlugin*> loaded_plugins() const;
  /// Caps every stage at `epochs` epochs (quick checks of an experiment file).
  void limit_epochs(int64_t epochs);
  /// The resolved configuration: every key of every section, plugin paths absolute. Loading
  /// it as an experiment file gives the same configuration.
  toml::table table() const;
  /// table() as the text of config.resolved.toml, with a comment header naming the source.
  std::string toml() const;
};

/// Resolves `file` with `overrides` (see load_experiment()), loading plugin libraries through
/// `loader` (the experiment's [plugins] paths are searched first, then `executable`'s
/// defaults). Throws ConfigError or PluginError naming the place and the fix.
ResolvedConfig resolve(const std::filesystem::path& file, const std::vector<std::string>& overrides,
                       PluginLoader& loader, const std::filesystem::path& executable);

}  // namespace tailor::host
