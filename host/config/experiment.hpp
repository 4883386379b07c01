// config/experiment.hpp - loading experiment files: bases, deep merge, --set overrides.
//
// An experiment is one TOML file that may name base files:
//
//   base = ["../_base_/data/cifar100_lt.toml", "../_base_/schedules/sgd_200e.toml"]
//   [loss]
//   plugin = "cdb"
//
// load_experiment() resolves the bases recursively, deep-merges everything (bases in order,
// the including file last), then applies command-line overrides. Every node of the result
// keeps the source position it was written at, so later checks can report
// "file:line:col" for any value, wherever in the base chain it came from.
//
// Everything here throws ConfigError for bad user input; the message names the place, what
// was wrong and how to fix it.
#pragma once

#include <toml++/toml.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tailor::host {

/// Bad experiment configuration (syntax, composition, unknown keys, wrong types,
/// constraint violations). The message stands on its own and starts with the origin of the
/// offending value when there is one.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Where `node` was set: "path/to/file.toml:12:5" for values read from a file,
/// "--set loss.gamma=2" for values created by an override, "default" for schema defaults
/// filled in by resolve_section(), and "" for nodes that carry no source (built in code, or
/// copied: toml++ drops source positions on copy, never on move).
std::string origin_of(const toml::node& node);

/// Like origin_of() for a table key (keys carry their own position: the key's text, where
/// the value's position is the value's text or, for a table, its [header]).
std::string origin_of(const toml::key& key);

/// Loads the experiment `file` and returns the fully merged table.
///
/// Composition:
///  - The top-level `base` key, a string or an array of strings, names base files relative
///    to the folder of the file that names them. Bases are loaded recursively and merge in
///    order (a later base overrides an earlier one); the naming file overrides all of its
///    bases. `base` is removed from the result.
///  - Deep merge: tables merge key by key, recursively. Scalars, arrays and arrays of tables
///    (such as [[stage]]) replace the earlier value as a whole. A table holding
///    `_delete_ = true` replaces the earlier table instead of merging into it; `_delete_` is
///    removed from every table of the result.
///  - Paths in origins are the resolved paths, lexically normalised
///    (experiments/x/../_base_/a.toml becomes experiments/_base_/a.toml).
///
/// Overrides, applied in order after the merge, each of the form "a.b.c=value" (what
/// `--set` receives). The key is a dotted path of bare keys; a segment may index an
/// existing array of tables, as in "stage[1].epochs=10". Missing intermediate tables are
/// created. The value text is parsed as a TOML value (0.5, 3, true, "x", [1, 2], {k = 1})
/// and, when it does not parse, taken as a plain string (so "loss.plugin=ce" works). An
/// override replaces whatever was at its key, tables included. Nodes an override creates
/// report the origin "--set a.b.c=value".
///
/// Errors (ConfigError): unreadable file; TOML syntax error ("file:line:col: <what>");
/// `base` of the wrong type; missing base file (names the naming file's line:col and the
/// resolved path); a base cycle (lists the chain); `_delete_` that is not a bool;
/// a malformed override (names it and the expected form); an override path that runs
/// through a non-table or past the end of an array.
toml::table load_experiment(const std::filesystem::path& file,
                            const std::vector<std::string>& overrides = {});

/// Rejects every top-level key of `root` that is not in `known`:
/// "file:line:col: unknown section [lossx]; did you mean [loss]? (valid sections: ...)".
/// Only the first unknown key (in key order) is reported.
void check_sections(const toml::table& root, const std::vector<std::string>& known);

/// The candidate closest to `word` by Levenshtein distance, when that distance is at most
/// max(2, word.size() / 3); otherwise "". Ties go to the earlier candidate.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

/// Short description of a node's type and value for messages: `string "x"`, `int 3`,
/// `float 2.5`, `bool true`, `array [1, 2]`, `table`, `date 2024-01-01`, ...
std::string describe(const toml::node& node);

}  // namespace tailor::host
