// host/engine/component_sections.cpp - [sampler] and [head] tables -> plugin sections.
#include "engine/component_sections.hpp"

#include "config/experiment.hpp"

#include <algorithm>

namespace tailor::host {

const ComponentKind kSamplerKind = {"sampler", TAILOR_KIND_SAMPLER, "instance", {"k", "q"}};
const ComponentKind kHeadKind = {
    "head", TAILOR_KIND_HEAD, "linear", {"bias", "bias_init", "scale", "tau"}};

namespace {

// The string value of `key`, or "" when the table has no such key.
std::string string_key(const toml::table& table, const char* key, const std::string& section) {
  const toml::node* n = table.get(key);
  if (n == nullptr) return "";
  if (!n->is_string())
    throw ConfigError(origin_of(*n) + ": [" + section + "] " + key +
                      " must be a string naming a plugin, e.g. " + key + " = \"...\"");
  return n->as_string()->get();
}

// Whether `table` uses the legacy spelling (no `plugin` key).
bool legacy(const toml::table* table) {
  return table == nullptr || table->get("plugin") == nullptr;
}

std::string chosen(const toml::table* table, const std::string& section) {
  if (table == nullptr) return "";
  const std::string plugin = string_key(*table, "plugin", section);
  const std::string type = string_key(*table, "type", section);
  if (!plugin.empty() && table->get("type") != nullptr)
    throw ConfigError(origin_of(*table->get("type")) + ": [" + section +
                      "] sets both plugin and type (the legacy spelling of plugin); keep " +
                      "plugin = \"" + plugin + "\" and remove type");
  return !plugin.empty() ? plugin : type;
}

}  // namespace

std::string chosen_plugin(const toml::table* table, const ComponentKind& kind) {
  const std::string name = chosen(table, kind.section);
  return name.empty() ? kind.fallback : name;
}

PluginSection resolve_component(PluginLoader& loader, const ComponentKind& kind,
                                const std::string& section, const toml::table* own,
                                const toml::table* global,
                                const std::function<std::string(const std::string&)>& elsewhere) {
  std::string name = chosen(own, section);
  if (name.empty()) name = chosen_plugin(global, kind);
  PluginSection p;
  p.plugin = &loader.load(name, kind.kind);
  const std::vector<SchemaEntry> schema = parse_schema(p.plugin->schema_text);
  auto declared = [&](const std::string& key) {
    return std::any_of(schema.begin(), schema.end(), [&](const auto& e) { return e.key == key; });
  };
  std::vector<std::string> ignored = {"plugin"};
  if (legacy(own)) {
    ignored.push_back("type");
    for (const auto& key : kind.legacy_keys)
      if (!declared(key)) ignored.push_back(key);
  }
  // The global layer (already checked against its own plugin) lends the keys this plugin has.
  toml::table inherited;
  if (global != nullptr)
    for (const auto& [key, value] : *global)
      if (declared(std::string(key.str()))) inherited.insert(key, value);
  p.values = resolve_section(section, {own, global != nullptr ? &inherited : nullptr}, schema,
                             ignored, elsewhere);
  return p;
}

toml::table component_table(const PluginSection& section) {
  const std::vector<SchemaEntry> schema = parse_schema(section.plugin->schema_text);
  toml::table out;
  for (const auto& [key, value] : section.values.table())
    if (std::any_of(schema.begin(), schema.end(), [&](const auto& e) { return e.key == key.str(); }))
      out.insert(key, value);
  out.insert_or_assign("plugin", section.plugin->name);
  return out;
}

}  // namespace tailor::host
