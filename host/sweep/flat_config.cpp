// host/sweep/flat_config.cpp
#include "sweep/flat_config.hpp"

#include <toml++/toml.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tailor::host {
namespace {

// The shortest decimal that reads back as `x`, fixed or scientific, whichever is shorter:
// 0.1 rather than 0.10000000000000001, 10 rather than 1e+01.
std::string shortest(double x) {
  char buf[32];
  const auto result = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, result.ptr);
}

void flatten(const toml::node& node, const std::string& key,
             std::map<std::string, std::string>& out) {
  if (const auto* table = node.as_table()) {
    for (const auto& [k, v] : *table)
      flatten(v, key.empty() ? std::string(k.str()) : key + "." + std::string(k.str()), out);
    return;
  }
  if (const auto* array = node.as_array(); array != nullptr && array->is_array_of_tables()) {
    for (size_t i = 0; i < array->size(); ++i)
      flatten(*array->get(i), key + "[" + std::to_string(i) + "]", out);
    return;
  }
  if (const auto* s = node.as_string()) {
    out[key] = s->get();
    return;
  }
  if (const auto* f = node.as_floating_point()) {
    out[key] = shortest(f->get());
    return;
  }
  std::ostringstream text;
  node.visit([&](const auto& n) { text << n; });
  out[key] = text.str();
}

}  // namespace

std::map<std::string, std::string> flatten_config(const std::string& toml_text,
                                                  const std::string& origin) {
  toml::table root;
  try {
    root = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << origin << ": not valid TOML: " << e.description() << " (line " << e.source().begin.line
        << ")";
    throw std::runtime_error(msg.str());
  }
  std::map<std::string, std::string> out;
  flatten(root, "", out);
  return out;
}

std::map<std::string, std::string> flatten_config_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::stringstream text;
  text << in.rdbuf();
  return flatten_config(text.str(), file.string());
}

}  // namespace tailor::host
