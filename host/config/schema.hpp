// config/schema.hpp - checking one section of an experiment against an option schema.
//
// Plugins publish their options as schema text (tailor::SchemaWriter, one line per key:
// "key\ttype\tdefault\tconstraint\tdoc"). The host parses it, checks the experiment's table
// for that section against it (unknown keys with did-you-mean, wrong types, all with
// file:line:col), fills in defaults, and hands the plugin a TailorConfig. The plugin's
// tailor::read_options<T>() then enforces each field's constraint.
//
// Host-owned sections ([train], [experiment], ...) use the same path through
// read_section<T>(), which goes straight to the typed options struct.
#pragma once

#include "config/experiment.hpp"

#include <tailor/abi.h>
#include <tailor/error.hpp>
#include <tailor/options.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tailor::host {

/// One line of a schema. `type` is bool|int|float|string|int[]|float[]|string[];
/// `default_literal` is a TOML literal of that type (an int literal is accepted for float),
/// or "" when `required` (the schema's default column was TAILOR_SCHEMA_REQUIRED);
/// `constraint` is informational here (read_options() enforces it), e.g. "[0, 1)".
struct SchemaEntry {
  std::string key, type, default_literal, constraint, doc;
  bool required = false;  ///< no default: the experiment must set the key
};

/// Parses schema text: one entry per line, exactly five tab-separated fields; blank lines
/// are skipped. A default column of TAILOR_SCHEMA_REQUIRED marks a required key. Throws
/// ConfigError naming the line for a wrong field count, an invalid key, an unknown type, a
/// default that is not a TOML literal of the declared type, or a duplicate key.
std::vector<SchemaEntry> parse_schema(std::string_view text);

class ResolvedSection;

/// Checks `table` (nullptr: the section is absent, so every key takes its default) against
/// `schema` and returns the resolved values, one per schema entry, in schema order.
///  - Keys listed in `ignored` (the `plugin` selector) are not checked; they are copied
///    into table() as they are.
///  - Unknown key: "file:line:col: unknown key 'gama' in [loss]; did you mean 'gamma'?
///    (valid keys: gamma, reduction)".
///  - Wrong type: "file:line:col: [loss] gamma: expected float, got string \"x\"; fix: write
///    a number, e.g. gamma = 2.0". An int is accepted (and widened) for a float key and for
///    float[] elements; every array element must have the element type (the message then
///    names the element, "[loss] weights[2]", at the element's position); a table where a
///    scalar is expected is a type error.
///  - Absent keys take the schema default, with origin "default".
///  - A value outside the entry's constraint (parse_constraint()) is reported as the plugin
///    would report it, before any plugin instance exists: "file:line:col: [loss] gamma must
///    be >= 0, got -1".
///  - An absent required key: "file.toml:4:1: [dataset] root is required and was not set
///    (...doc...); fix: add root = \"...\" to [dataset] or pass --set dataset.root=...", where
///    the origin is the section's table (or, when the section is absent, none).
/// Each TailorValue gets struct_size, type tag, key, origin (origin_of()) and its value
/// fields. `name` becomes TailorConfig::section and is used in messages, e.g. "loss" or
/// "stage[1].loss".
ResolvedSection resolve_section(std::string name, const toml::table* table,
                                const std::vector<SchemaEntry>& schema,
                                const std::vector<std::string>& ignored = {"plugin"});

/// resolve_section() over layered tables: a key takes its value from the first layer that
/// sets it, then the schema default. Every layer is checked for unknown keys and every value
/// keeps its own origin. A [[stage]] table over the global section is {stage, global}; null
/// layers are skipped.
///
/// `elsewhere`, when given, names where an unknown key does belong ("[optimizer] lr"), or
/// returns ""; the error then says "did you mean [optimizer] lr?" when the section itself
/// has no close key.
ResolvedSection resolve_section(std::string name, const std::vector<const toml::table*>& layers,
                                const std::vector<SchemaEntry>& schema,
                                const std::vector<std::string>& ignored = {"plugin"},
                                const std::function<std::string(const std::string&)>& elsewhere = {});

/// The constraint a schema line declares, parsed back from its text ("[0, 1)", ">= 0",
/// "one of: a, b"; "" is no constraint). Throws ConfigError for text of another form.
tailor::Constraint parse_constraint(const std::string& text);

/// The values of one section checked against a schema. Owns every string and array the
/// TailorConfig points into, on the heap, so config() stays valid (same addresses) for the
/// lifetime of this object, including across moves. Move-only. A default-constructed
/// section is empty (no values, name ""); a moved-from one may only be assigned or
/// destroyed.
class ResolvedSection {
 public:
  ResolvedSection();
  ~ResolvedSection();
  ResolvedSection(ResolvedSection&&) noexcept;
  ResolvedSection& operator=(ResolvedSection&&) noexcept;
  ResolvedSection(const ResolvedSection&) = delete;
  ResolvedSection& operator=(const ResolvedSection&) = delete;

  /// The section as plugins receive it: every schema key, defaults filled in.
  const TailorConfig& config() const;

  /// Every schema key with its resolved value (ints widened where the schema says float),
  /// plus the ignored keys that were present; for config.resolved.toml. A copy: its nodes
  /// carry no source positions.
  toml::table table() const;

  /// The section name given to resolve_section().
  const std::string& name() const;

  /// The resolved value of `key`, or nullptr when the schema has no such key.
  const TailorValue* find(std::string_view key) const;

 private:
  struct Impl;
  explicit ResolvedSection(std::unique_ptr<Impl> impl);
  friend ResolvedSection resolve_section(std::string, const std::vector<const toml::table*>&,
                                         const std::vector<SchemaEntry>&,
                                         const std::vector<std::string>&,
                                         const std::function<std::string(const std::string&)>&);
  std::unique_ptr<Impl> impl_;
};

/// The top-level table `name` of `root`, or nullptr when absent. Throws ConfigError when
/// `name` is present but is not a table ("[train] must be a table, got int 3").
const toml::table* find_section(const toml::table& root, std::string_view name);

/// Reads the host-owned section `name` of `root` into the typed options struct T (the
/// same visit() protocol as plugin options): schema_of<T>() -> parse_schema ->
/// resolve_section (no ignored keys) -> tailor::read_options<T>(). A constraint violation
/// (tailor::Error from read_options, whose message already starts with the value's
/// origin) is rethrown as ConfigError. When `resolved` is given, it receives the resolved
/// section (for config.resolved.toml).
template <class T>
T read_section(const toml::table& root, const std::string& name,
               ResolvedSection* resolved = nullptr) {
  ResolvedSection section =
      resolve_section(name, find_section(root, name), parse_schema(tailor::schema_of<T>()), {});
  T options{};
  try {
    options = tailor::read_options<T>(section.config());
  } catch (const tailor::Error& e) {
    throw ConfigError(e.what());
  }
  if (resolved != nullptr) *resolved = std::move(section);
  return options;
}

}  // namespace tailor::host
