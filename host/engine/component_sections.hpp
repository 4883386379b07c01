// host/engine/component_sections.hpp - [sampler] and [head]: plugin sections with a default
// plugin and a legacy spelling.
//
// Both were host sections before they became plugin kinds (ABI 1.3), so their tables read in
// two spellings. `plugin = "class_aware"` names the plugin and the table holds exactly its
// options. The legacy spelling `type = "class_aware"` (every experiment file and every
// config.resolved.toml written before) names the same plugin, and the table may also hold the
// old host keys (k, q; bias, bias_init, scale, tau) that the chosen plugin does not declare:
// they are ignored, as the old host ignored them for other types. A table with neither key
// uses the default plugin (instance, linear) under the legacy rules.
#pragma once

#include "engine/resolve.hpp"

#include <functional>
#include <string>
#include <vector>

namespace tailor::host {

/// How one of these sections is read.
struct ComponentKind {
  const char* section;                   ///< "sampler" or "head"
  uint32_t kind;                         ///< TAILOR_KIND_SAMPLER or TAILOR_KIND_HEAD
  const char* fallback;                  ///< the plugin of a table without plugin/type
  std::vector<std::string> legacy_keys;  ///< host keys of the old built-in section
};

extern const ComponentKind kSamplerKind;
extern const ComponentKind kHeadKind;

/// The plugin `table` chooses (null table: the fallback). Throws ConfigError for a table
/// with both `plugin` and `type`, or a value that is not a string.
std::string chosen_plugin(const toml::table* table, const ComponentKind& kind);

/// Resolves `own` (may be null) for the plugin it chooses. `global`, when given, is a
/// [[stage]]'s global layer: the stage's plugin is the one `own` chooses, else the one
/// `global` chooses, and of `global` only the keys that plugin declares are inherited.
/// `section` names the table in messages ("sampler", "stage[1].sampler").
PluginSection resolve_component(PluginLoader& loader, const ComponentKind& kind,
                                const std::string& section, const toml::table* own,
                                const toml::table* global,
                                const std::function<std::string(const std::string&)>& elsewhere);

/// The section as config.resolved.toml writes it: `plugin = "..."` and the plugin's keys,
/// without the legacy `type` and the old host keys the plugin ignored.
toml::table component_table(const PluginSection& section);

}  // namespace tailor::host
