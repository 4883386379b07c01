// host/sweep/flat_config.hpp - a resolved configuration as sorted `dotted.key -> value` pairs.
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace tailor::host {

/// Flattens TOML text: `[loss] gamma = 2` gives "loss.gamma" -> "2"; arrays of tables give
/// "stage[1].name"; strings are unquoted, other values as TOML writes them. Throws
/// std::runtime_error naming `origin` when the text does not parse.
std::map<std::string, std::string> flatten_config(const std::string& toml_text,
                                                  const std::string& origin);

/// flatten_config() of a file.
std::map<std::string, std::string> flatten_config_file(const std::filesystem::path& file);

}  // namespace tailor::host
