#include "config/experiment.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <system_error>
#include <utility>

namespace tailor::host {
namespace fs = std::filesystem;

namespace {

// Source paths that are not files: the whole path is the origin, without line:col.
constexpr std::string_view kOverridePrefix = "--set ";
constexpr std::string_view kDefaultOrigin = "default";

std::string origin_of_region(const toml::source_region& region) {
  const std::string path = region.path ? *region.path : std::string();
  if (path == kDefaultOrigin || path.rfind(kOverridePrefix, 0) == 0) return path;
  if (region.begin.line == 0) return path;
  return (path.empty() ? std::string("<string>") : path) + ":" + std::to_string(region.begin.line) +
         ":" + std::to_string(region.begin.column);
}

std::string prefix(const std::string& origin) {
  return origin.empty() ? "" : origin + ": ";
}

// The key's own position when the parser recorded one, else the value's.
std::string origin_of_entry(const toml::key& key, const toml::node& node) {
  std::string origin = origin_of(key);
  return origin.empty() ? origin_of(node) : origin;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot open experiment file '" + path.string() + "'");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError("cannot read experiment file '" + path.string() + "'");
  return text.str();
}

toml::table parse_text(std::string_view text, const std::string& source_path) {
  try {
    return toml::parse(text, std::string_view(source_path));
  } catch (const toml::parse_error& e) {
    throw ConfigError(origin_of_region(e.source()) + ": " + std::string(e.description()) +
                      "; fix: correct the TOML syntax there (key = value, [section], "
                      "strings in double quotes)");
  }
}

// Removes `_delete_` from `table` and returns its value (false when absent).
bool take_delete_flag(toml::table& table) {
  toml::node* flag = table.get("_delete_");
  if (flag == nullptr) return false;
  const auto* value = flag->as_boolean();
  if (value == nullptr)
    throw ConfigError(prefix(origin_of(*flag)) + "_delete_ must be true or false, got " +
                      describe(*flag) + "; fix: write _delete_ = true to replace the base table");
  const bool replace = value->get();
  table.erase("_delete_");
  return replace;
}

void strip_delete(toml::node& node) {
  if (auto* table = node.as_table()) {
    take_delete_flag(*table);
    for (auto&& [key, child] : *table) strip_delete(child);
  } else if (auto* array = node.as_array()) {
    for (auto& element : *array) strip_delete(element);
  }
}

// Moves every entry of `src` into `dst`. Moving, never copying: toml++ keeps source
// positions only on move.
void merge_into(toml::table& dst, toml::table&& src) {
  for (auto&& [key, node] : src) {
    if (auto* table = node.as_table()) {
      const bool replace = take_delete_flag(*table);
      toml::node* existing = dst.get(key.str());
      if (!replace && existing != nullptr && existing->is_table()) {
        merge_into(*existing->as_table(), std::move(*table));
        continue;
      }
    }
    strip_delete(node);
    // Erase first so the key keeps the overriding file's position too.
    dst.erase(key.str());
    dst.insert(key, std::move(node));
  }
}

struct BaseRef {
  std::string path;
  std::string origin;  // where the including file names it
};

std::vector<BaseRef> take_bases(toml::table& own) {
  std::vector<BaseRef> bases;
  toml::node* node = own.get("base");
  if (node == nullptr) return bases;
  const std::string fix =
      "; fix: write base = \"../_base_/file.toml\" or base = [\"a.toml\", \"b.toml\"]";
  if (const auto* one = node->as_string()) {
    bases.push_back({one->get(), origin_of(*one)});
  } else if (const auto* many = node->as_array()) {
    for (const auto& element : *many) {
      const auto* text = element.as_string();
      if (text == nullptr)
        throw ConfigError(prefix(origin_of(element)) + "base entries must be file paths, got " +
                          describe(element) + fix);
      bases.push_back({text->get(), origin_of(*text)});
    }
  } else {
    throw ConfigError(prefix(origin_of(*node)) +
                      "base must be a file path or an array of file paths, got " + describe(*node) +
                      fix);
  }
  own.erase("base");
  return bases;
}

struct Frame {
  fs::path canonical;
  std::string display;
};

toml::table load_file(const fs::path& path, std::vector<Frame>& chain) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(path, ec);
  if (ec) canonical = fs::absolute(path).lexically_normal();

  toml::table own = parse_text(read_text(path), path.string());
  std::vector<BaseRef> bases = take_bases(own);
  chain.push_back({canonical, path.string()});

  toml::table merged;
  for (const BaseRef& base : bases) {
    const fs::path resolved = (path.parent_path() / base.path).lexically_normal();
    if (!fs::is_regular_file(resolved)) {
      throw ConfigError(prefix(base.origin) + "base file '" + base.path +
                        "' not found (resolved to " + resolved.string() +
                        "); fix: base paths are relative to the folder of " + path.string());
    }
    const fs::path resolved_canonical = fs::weakly_canonical(resolved, ec);
    for (size_t i = 0; i < chain.size(); ++i) {
      if (chain[i].canonical != resolved_canonical) continue;
      std::string cycle;
      for (size_t j = i; j < chain.size(); ++j) cycle += chain[j].display + " -> ";
      throw ConfigError(prefix(base.origin) + "base cycle: " + cycle + resolved.string() +
                        "; fix: remove one of these base entries");
    }
    merge_into(merged, load_file(resolved, chain));
  }
  chain.pop_back();
  merge_into(merged, std::move(own));
  return merged;
}

// ---- overrides ---------------------------------------------------------------------------

struct Segment {
  std::string name;
  std::vector<size_t> indices;  // "stage[1]" -> name "stage", indices {1}
};

[[noreturn]] void malformed(const std::string& text, const std::string& why) {
  throw ConfigError("malformed override '--set " + text + "': " + why +
                    "; expected --set section.key=value, e.g. --set loss.gamma=2.0");
}

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return "";
  const auto last = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(first, last - first + 1));
}

bool bare_key_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

std::vector<Segment> parse_key_path(const std::string& key_text, const std::string& text) {
  if (key_text.empty()) malformed(text, "empty key");
  std::vector<Segment> path;
  size_t pos = 0;
  while (true) {
    Segment segment;
    while (pos < key_text.size() && bare_key_char(key_text[pos])) segment.name += key_text[pos++];
    if (segment.name.empty()) malformed(text, "empty or invalid key segment in '" + key_text + "'");
    while (pos < key_text.size() && key_text[pos] == '[') {
      const size_t close = key_text.find(']', pos);
      const std::string digits =
          close == std::string::npos ? "" : key_text.substr(pos + 1, close - pos - 1);
      if (digits.empty() || digits.size() > 9 ||
          !std::all_of(digits.begin(), digits.end(),
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
        malformed(text, "array index must be [N] with a non-negative integer N");
      segment.indices.push_back(std::stoul(digits));
      pos = close + 1;
    }
    path.push_back(std::move(segment));
    if (pos == key_text.size()) return path;
    if (key_text[pos] != '.')
      malformed(text, "unexpected '" + std::string(1, key_text[pos]) + "' in key");
    ++pos;
  }
}

std::string toml_quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

// The override value as a node whose source path is the override itself, so origin_of()
// reports "--set key=value". Text that is not one TOML value becomes a string, except text
// that reads as a number: a typo'd or out-of-range number must not turn into a string.
toml::table parse_override_value(const std::string& value_text, const std::string& origin) {
  try {
    toml::table doc = toml::parse("v = " + value_text, std::string_view(origin));
    if (doc.size() == 1 && doc.contains("v")) return doc;
  } catch (const toml::parse_error& e) {
    static const std::regex kNumber(R"([+-]?[0-9][0-9_]*(\.[0-9_]*)?([eE][+-]?[0-9_]+)?)");
    if (std::regex_match(value_text, kNumber))
      throw ConfigError("override '" + origin + "': " + value_text +
                        " is not a valid TOML number (" + std::string(e.description()) +
                        "); integers must fit in 64 bits (at most 9223372036854775807)");
  }
  try {
    return toml::parse("v = " + toml_quote(value_text), std::string_view(origin));
  } catch (const toml::parse_error& e) {  // not even a string: e.g. invalid UTF-8
    throw ConfigError("override '" + origin + "': the value is not valid TOML text (" +
                      std::string(e.description()) + "); write it in UTF-8");
  }
}

std::string dotted(const std::vector<Segment>& path, size_t count) {
  std::string s;
  for (size_t i = 0; i < count; ++i) {
    if (i) s += '.';
    s += path[i].name;
    for (size_t index : path[i].indices) s += "[" + std::to_string(index) + "]";
  }
  return s;
}

void apply_override(toml::table& root, const std::string& raw) {
  const std::string text = trim(raw);
  const size_t eq = text.find('=');
  if (eq == std::string::npos) malformed(text, "no '='");
  const std::string key_text = trim(std::string_view(text).substr(0, eq));
  const std::string value_text = trim(std::string_view(text).substr(eq + 1));
  const std::vector<Segment> path = parse_key_path(key_text, text);
  if (path.size() == 1 && path[0].name == "base" && path[0].indices.empty())
    throw ConfigError("override '--set " + text +
                      "': bases are resolved before overrides; fix: write base = ... in the "
                      "experiment file");

  const std::string origin = std::string(kOverridePrefix) + key_text + "=" + value_text;
  toml::table value_doc = parse_override_value(value_text, origin);
  toml::node& value = *value_doc.get("v");
  const toml::source_region where = value.source();

  auto not_a_table = [&](size_t depth, const toml::node& node) {
    throw ConfigError("override '" + origin + "': " + dotted(path, depth) + " is " +
                      describe(node) +
                      (origin_of(node).empty() ? "" : " set at " + origin_of(node)) +
                      ", not a table; fix: override a key that is a table, or set " +
                      dotted(path, depth) + " itself");
  };

  // "a.b[1].c" up to segment `depth`, without that segment's indices.
  auto plain_name = [&](size_t depth) {
    return dotted(path, depth) + (depth ? "." : "") + path[depth].name;
  };

  toml::table* table = &root;
  for (size_t depth = 0; depth < path.size(); ++depth) {
    const Segment& segment = path[depth];
    const bool last = depth + 1 == path.size();
    toml::node* child = table->get(segment.name);

    if (last && segment.indices.empty()) {
      table->erase(segment.name);
      table->insert(toml::key(segment.name, where), std::move(value));
      return;
    }
    if (child == nullptr) {
      if (!segment.indices.empty())
        throw ConfigError("override '" + origin + "': " + plain_name(depth) +
                          " does not exist, so it cannot be indexed; fix: index an existing array");
      // An intermediate table carrying the override's origin.
      toml::table header = toml::parse("[v]", std::string_view(origin));
      table->insert(toml::key(segment.name, where), std::move(*header.get("v")));
      child = table->get(segment.name);
    }
    for (size_t i = 0; i < segment.indices.size(); ++i) {
      auto* array = child->as_array();
      if (array == nullptr)
        throw ConfigError("override '" + origin + "': " + plain_name(depth) + " is " +
                          describe(*child) + ", not an array; fix: drop the [index]");
      const size_t index = segment.indices[i];
      if (index >= array->size())
        throw ConfigError("override '" + origin + "': index [" + std::to_string(index) +
                          "] is past the end of " + plain_name(depth) + " (it has " +
                          std::to_string(array->size()) + " elements); fix: use an index below " +
                          std::to_string(array->size()));
      if (last && i + 1 == segment.indices.size()) {
        array->replace(array->cbegin() + static_cast<std::ptrdiff_t>(index), std::move(value));
        return;
      }
      child = array->get(index);
    }
    table = child->as_table();
    if (table == nullptr) not_a_table(depth + 1, *child);
  }
}

}  // namespace

std::string origin_of(const toml::node& node) {
  return origin_of_region(node.source());
}

std::string origin_of(const toml::key& key) {
  return origin_of_region(key.source());
}

std::string describe(const toml::node& node) {
  std::ostringstream out;
  node.visit([&](const auto& concrete) {
    using T = std::decay_t<decltype(concrete)>;
    if constexpr (std::is_same_v<T, toml::table>) {
      out << "table";
    } else if constexpr (std::is_same_v<T, toml::array>) {
      out << "array " << concrete;
    } else if constexpr (std::is_same_v<T, toml::value<std::string>>) {
      out << "string " << toml_quote(concrete.get());  // toml++ would prefer 'single' quotes
    } else if constexpr (std::is_same_v<T, toml::value<int64_t>>) {
      out << "int " << concrete;
    } else if constexpr (std::is_same_v<T, toml::value<double>>) {
      out << "float " << concrete;
    } else if constexpr (std::is_same_v<T, toml::value<bool>>) {
      out << "bool " << concrete;
    } else if constexpr (std::is_same_v<T, toml::value<toml::date>>) {
      out << "date " << concrete;
    } else if constexpr (std::is_same_v<T, toml::value<toml::time>>) {
      out << "time " << concrete;
    } else {
      out << "date-time " << concrete;
    }
  });
  std::string text = out.str();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

toml::table load_experiment(const fs::path& file, const std::vector<std::string>& overrides) {
  const fs::path path = file.lexically_normal();
  if (!fs::exists(path)) throw ConfigError("experiment file '" + path.string() + "' not found");
  if (!fs::is_regular_file(path))
    throw ConfigError("experiment file '" + path.string() + "' is not a regular file");
  std::vector<Frame> chain;
  toml::table root = load_file(path, chain);
  for (const std::string& text : overrides) apply_override(root, text);
  return root;
}

void check_sections(const toml::table& root, const std::vector<std::string>& known) {
  for (auto&& [key, node] : root) {
    if (std::find(known.begin(), known.end(), key.str()) != known.end()) continue;
    const std::string name(key.str());
    std::string message = prefix(origin_of_entry(key, node));
    message += (node.is_table() || node.is_array_of_tables())
                   ? "unknown section [" + name + "]"
                   : "unknown top-level key '" + name + "'";
    const std::string guess = did_you_mean(name, known);
    if (!guess.empty()) message += "; did you mean [" + guess + "]?";
    message += " (valid sections:";
    for (size_t i = 0; i < known.size(); ++i) message += (i ? ", " : " ") + known[i];
    throw ConfigError(message + ")");
  }
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  const size_t limit = std::max<size_t>(2, word.size() / 3);
  std::string best;
  size_t best_distance = limit + 1;
  std::vector<size_t> row;
  for (const std::string& candidate : candidates) {
    // Two-row Levenshtein: row[j] = distance(word[0..i), candidate[0..j)).
    row.resize(candidate.size() + 1);
    for (size_t j = 0; j <= candidate.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= word.size(); ++i) {
      size_t diagonal = row[0];
      row[0] = i;
      for (size_t j = 1; j <= candidate.size(); ++j) {
        const size_t up = row[j];
        row[j] = std::min(
            {row[j] + 1, row[j - 1] + 1, diagonal + (word[i - 1] == candidate[j - 1] ? 0 : 1)});
        diagonal = up;
      }
    }
    if (row[candidate.size()] < best_distance) {
      best_distance = row[candidate.size()];
      best = candidate;
    }
  }
  return best;
}

}  // namespace tailor::host
