#include "config/schema.hpp"

#include <algorithm>
#include <cstdlib>
#include <cctype>
#include <cmath>
#include <deque>
#include <optional>
#include <utility>

namespace tailor::host {

namespace {

const std::vector<std::string> kTypes = {"bool",  "int",     "float",   "string",
                                         "int[]", "float[]", "string[]"};

bool is_array_type(const std::string& type) {
  return type.size() > 2 && type.back() == ']';
}

std::string element_type(const std::string& type) {
  return is_array_type(type) ? type.substr(0, type.size() - 2) : type;
}

// Whether `node` is a scalar of `scalar_type`; an int passes for float (widened later).
bool scalar_matches(const toml::node& node, const std::string& scalar_type) {
  if (scalar_type == "bool") return node.is_boolean();
  if (scalar_type == "int") return node.is_integer();
  if (scalar_type == "float") return node.is_floating_point() || node.is_integer();
  if (scalar_type == "string") return node.is_string();
  return false;
}

// Null when `node` has `type`; else the offending node (the value itself, or the first
// element of the wrong type) and its index (-1 for the value itself).
std::pair<const toml::node*, long> type_mismatch(const toml::node& node, const std::string& type) {
  if (!is_array_type(type)) return {scalar_matches(node, type) ? nullptr : &node, -1};
  const auto* array = node.as_array();
  if (array == nullptr) return {&node, -1};
  const std::string element = element_type(type);
  for (size_t i = 0; i < array->size(); ++i)
    if (!scalar_matches(*array->get(i), element)) return {array->get(i), static_cast<long>(i)};
  return {nullptr, -1};
}

std::string prefix(const std::string& origin) {
  return origin.empty() ? "" : origin + ": ";
}

std::string fix_hint(const SchemaEntry& entry) {
  struct Hint {
    const char* type;
    const char* what;
    const char* example;  // used when the default is an empty array
  };
  static const Hint hints[] = {
      {"bool", "write true or false", ""},
      {"int", "write a whole number", ""},
      {"float", "write a number", ""},
      {"string", "put the text in double quotes", ""},
      {"int[]", "write an array of whole numbers", "[1, 2]"},
      {"float[]", "write an array of numbers", "[0.5, 1.0]"},
      {"string[]", "write an array of quoted strings", "[\"a\", \"b\"]"},
  };
  for (const Hint& hint : hints) {
    if (entry.type != hint.type) continue;
    const bool empty_array = is_array_type(entry.type) &&
                             entry.default_literal.find_first_not_of("[] ") == std::string::npos;
    return std::string("fix: ") + hint.what + ", e.g. " + entry.key + " = " +
           (empty_array ? hint.example : entry.default_literal);
  }
  return "fix: write a value of type " + entry.type;
}

// A placeholder value of `type` for "fix: add key = ..." hints.
std::string example_literal(const std::string& type) {
  if (type == "bool") return "true";
  if (type == "int") return "1";
  if (type == "float") return "1.0";
  if (type == "string") return "\"...\"";
  if (type == "int[]") return "[1, 2]";
  if (type == "float[]") return "[0.5, 1.0]";
  return "[\"a\", \"b\"]";
}

// Parses a default literal the way the experiment parser would, so defaults and file
// values go through the same checks. The source path marks the nodes as defaults.
std::optional<toml::table> parse_literal(const std::string& literal) {
  try {
    toml::table doc = toml::parse("v = " + literal, std::string_view("default"));
    if (doc.size() == 1 && doc.contains("v")) return doc;
  } catch (const toml::parse_error&) {
  }
  return std::nullopt;
}

std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + items[i];
  return s;
}

}  // namespace

// ---- parse_schema ----------------------------------------------------------------------

std::vector<SchemaEntry> parse_schema(std::string_view text) {
  std::vector<SchemaEntry> entries;
  size_t line_number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string line(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;

    const std::string where = "schema line " + std::to_string(line_number) + ": ";
    std::vector<std::string> fields;
    size_t start = 0;
    while (true) {
      const size_t tab = line.find('\t', start);
      fields.push_back(line.substr(start, tab == std::string::npos ? tab : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    if (fields.size() != 5)
      throw ConfigError(where +
                        "expected 5 tab-separated fields (key, type, default, "
                        "constraint, doc), got " +
                        std::to_string(fields.size()) + " in '" + line + "'");
    SchemaEntry entry{fields[0], fields[1], fields[2], fields[3], fields[4]};
    if (entry.default_literal == TAILOR_SCHEMA_REQUIRED) {
      entry.required = true;
      entry.default_literal.clear();
    }
    if (entry.key.empty() || !std::all_of(entry.key.begin(), entry.key.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
        }))
      throw ConfigError(where + "invalid key '" + entry.key + "' (use letters, digits, _ and -)");
    if (std::find(kTypes.begin(), kTypes.end(), entry.type) == kTypes.end())
      throw ConfigError(where + "unknown type '" + entry.type + "' for key '" + entry.key +
                        "' (valid types: " + join(kTypes) + ")");
    const std::optional<toml::table> literal =
        entry.required ? std::nullopt : parse_literal(entry.default_literal);
    if (!entry.required &&
        (!literal || type_mismatch(*literal->get("v"), entry.type).first != nullptr))
      throw ConfigError(where + "default '" + entry.default_literal + "' of key '" + entry.key +
                        "' is not a TOML literal of type " + entry.type);
    for (const SchemaEntry& other : entries)
      if (other.key == entry.key) throw ConfigError(where + "duplicate key '" + entry.key + "'");
    entries.push_back(std::move(entry));
  }
  return entries;
}

// ---- ResolvedSection -------------------------------------------------------------------

struct ResolvedSection::Impl {
  std::string name;
  // Deques: growing them never moves existing elements, so pointers handed out stay put.
  std::deque<std::string> strings;
  std::deque<std::vector<int64_t>> int_arrays;
  std::deque<std::vector<double>> float_arrays;
  std::deque<std::vector<const char*>> string_arrays;
  std::vector<TailorValue> values;
  TailorConfig config{};
  toml::table table;

  const char* keep(std::string s) { return strings.emplace_back(std::move(s)).c_str(); }

  // Appends the (type-checked) `node` as the value of `entry`.
  void add(const SchemaEntry& entry, const toml::node& node, std::string origin) {
    TailorValue v{};
    v.struct_size = sizeof(TailorValue);
    v.key = keep(entry.key);
    v.origin = keep(std::move(origin));
    const std::string& type = entry.type;
    if (type == "bool") {
      v.type = TAILOR_VALUE_BOOL;
      v.int_value = node.as_boolean()->get() ? 1 : 0;
      table.insert_or_assign(entry.key, v.int_value != 0);
    } else if (type == "int") {
      v.type = TAILOR_VALUE_INT;
      v.int_value = node.as_integer()->get();
      table.insert_or_assign(entry.key, v.int_value);
    } else if (type == "float") {
      v.type = TAILOR_VALUE_FLOAT;
      v.float_value = node.value<double>().value();
      table.insert_or_assign(entry.key, v.float_value);
    } else if (type == "string") {
      v.type = TAILOR_VALUE_STRING;
      v.string_value = keep(node.as_string()->get());
      table.insert_or_assign(entry.key, std::string(v.string_value));
    } else {
      const toml::array& in = *node.as_array();
      toml::array out;
      v.count = in.size();
      if (type == "int[]") {
        v.type = TAILOR_VALUE_INT_ARRAY;
        auto& ints = int_arrays.emplace_back();
        for (const auto& e : in) {
          ints.push_back(e.as_integer()->get());
          out.push_back(ints.back());
        }
        v.ints = ints.data();
      } else if (type == "float[]") {
        v.type = TAILOR_VALUE_FLOAT_ARRAY;
        auto& floats = float_arrays.emplace_back();
        for (const auto& e : in) {
          floats.push_back(e.value<double>().value());
          out.push_back(floats.back());
        }
        v.floats = floats.data();
      } else {
        v.type = TAILOR_VALUE_STRING_ARRAY;
        auto& pointers = string_arrays.emplace_back();
        for (const auto& e : in) {
          pointers.push_back(keep(e.as_string()->get()));
          out.push_back(std::string(pointers.back()));
        }
        v.strings = pointers.data();
      }
      table.insert_or_assign(entry.key, std::move(out));
    }
    values.push_back(v);
  }
};

ResolvedSection::ResolvedSection() : impl_(std::make_unique<Impl>()) {
  impl_->config.struct_size = sizeof(TailorConfig);
  impl_->config.section = impl_->name.c_str();
}
ResolvedSection::ResolvedSection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ResolvedSection::~ResolvedSection() = default;
ResolvedSection::ResolvedSection(ResolvedSection&&) noexcept = default;
ResolvedSection& ResolvedSection::operator=(ResolvedSection&&) noexcept = default;

const TailorConfig& ResolvedSection::config() const {
  return impl_->config;
}
toml::table ResolvedSection::table() const {
  return impl_->table;
}
const std::string& ResolvedSection::name() const {
  return impl_->name;
}

const TailorValue* ResolvedSection::find(std::string_view key) const {
  for (const TailorValue& v : impl_->values)
    if (key == v.key) return &v;
  return nullptr;
}

// ---- constraints -----------------------------------------------------------------------

tailor::Constraint parse_constraint(const std::string& text) {
  tailor::Constraint c;
  if (text.empty()) return c;
  auto number = [&](std::string t) {
    t.erase(0, t.find_first_not_of(' '));
    t.erase(t.find_last_not_of(' ') + 1);
    char* end = nullptr;
    const double v = std::strtod(t.c_str(), &end);
    if (t.empty() || end != t.c_str() + t.size())
      throw ConfigError("schema constraint '" + text + "': '" + t + "' is not a number");
    return v;
  };
  const std::string choices = "one of:";
  if (text.rfind(choices, 0) == 0) {
    std::string rest = text.substr(choices.size());
    size_t start = 0;
    while (start <= rest.size()) {
      const size_t comma = rest.find(',', start);
      std::string item = rest.substr(start, comma == std::string::npos ? comma : comma - start);
      item.erase(0, item.find_first_not_of(' '));
      item.erase(item.find_last_not_of(' ') + 1);
      c.choices.push_back(item);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return c;
  }
  if (text.rfind(">=", 0) == 0) {
    c.lo = number(text.substr(2));
  } else if (text.rfind("<=", 0) == 0) {
    c.hi = number(text.substr(2));
  } else if (text[0] == '>') {
    c.lo = number(text.substr(1));
    c.lo_open = true;
  } else if (text[0] == '<') {
    c.hi = number(text.substr(1));
    c.hi_open = true;
  } else if ((text[0] == '[' || text[0] == '(') && (text.back() == ']' || text.back() == ')') &&
             text.find(',') != std::string::npos) {
    const size_t comma = text.find(',');
    c.lo = number(text.substr(1, comma - 1));
    c.hi = number(text.substr(comma + 1, text.size() - comma - 2));
    c.lo_open = text[0] == '(';
    c.hi_open = text.back() == ')';
  } else {
    throw ConfigError("schema constraint '" + text + "' has an unknown form");
  }
  return c;
}

namespace {

// The constraint problem of one scalar node, if any ("must be >= 0, got -1").
std::optional<std::string> violation(const tailor::Constraint& c, const toml::node& node) {
  if (const auto* s = node.as_string()) return c.check(s->get());
  if (const auto v = node.value<double>(); v && !node.is_boolean()) return c.check(*v);
  return std::nullopt;
}

void check_constraint(const SchemaEntry& entry, const toml::node& node, const std::string& section) {
  const tailor::Constraint c = parse_constraint(entry.constraint);
  auto report = [&](const toml::node& bad, const std::string& key) {
    if (const auto problem = violation(c, bad))
      throw ConfigError(prefix(origin_of(bad)) + section + " " + key + " " + *problem);
  };
  if (const auto* array = node.as_array()) {
    for (size_t i = 0; i < array->size(); ++i)
      report(*array->get(i), entry.key + "[" + std::to_string(i) + "]");
    return;
  }
  report(node, entry.key);
}

}  // namespace

// ---- resolve_section -------------------------------------------------------------------

ResolvedSection resolve_section(std::string name, const toml::table* table,
                                const std::vector<SchemaEntry>& schema,
                                const std::vector<std::string>& ignored) {
  return resolve_section(std::move(name), std::vector<const toml::table*>{table}, schema, ignored);
}

ResolvedSection resolve_section(std::string name, const std::vector<const toml::table*>& layers,
                                const std::vector<SchemaEntry>& schema,
                                const std::vector<std::string>& ignored,
                                const std::function<std::string(const std::string&)>& elsewhere) {
  auto impl = std::make_unique<ResolvedSection::Impl>();
  impl->name = std::move(name);
  const std::string section = "[" + impl->name + "]";

  std::vector<std::string> keys;
  for (const SchemaEntry& entry : schema) keys.push_back(entry.key);

  for (const toml::table* table : layers) {
    if (table == nullptr) continue;
    for (auto&& [key, node] : *table) {
      const std::string k(key.str());
      if (std::find(ignored.begin(), ignored.end(), k) != ignored.end()) {
        if (!impl->table.contains(k)) impl->table.insert(k, node);
        continue;
      }
      if (std::find(keys.begin(), keys.end(), k) != keys.end()) continue;
      std::string where = origin_of(key);
      if (where.empty()) where = origin_of(node);
      std::vector<std::string> candidates = keys;
      candidates.insert(candidates.end(), ignored.begin(), ignored.end());
      const std::string guess = did_you_mean(k, candidates);
      const std::string other = guess.empty() && elsewhere ? elsewhere(k) : std::string();
      throw ConfigError(
          prefix(where) + "unknown key '" + k + "' in " + section +
          (guess.empty() ? "" : "; did you mean '" + guess + "'?") +
          (other.empty() ? "" : "; did you mean " + other + "?") +
          (keys.empty() ? " (this section takes no keys)" : " (valid keys: " + join(keys) + ")"));
    }
  }

  for (const SchemaEntry& entry : schema) {
    const toml::node* node = nullptr;
    const toml::table* present = nullptr;
    for (const toml::table* table : layers) {
      if (table == nullptr) continue;
      if (present == nullptr) present = table;
      if (node == nullptr) node = table->get(entry.key);
    }
    if (node == nullptr && entry.required) {
      std::string where = present != nullptr ? origin_of(*present) : std::string();
      throw ConfigError(prefix(where) + section + " " + entry.key +
                        " is required and was not set (" + entry.doc + ")" +
                        (present == nullptr ? "; the experiment has no " + section + " table" : "") +
                        "; fix: add " + entry.key + " = " + example_literal(entry.type) + " to " +
                        section + ", or pass --set " + impl->name + "." + entry.key + "=...");
    }
    if (node == nullptr) {
      const std::optional<toml::table> literal = parse_literal(entry.default_literal);
      if (!literal || type_mismatch(*literal->get("v"), entry.type).first != nullptr)
        throw ConfigError("schema of " + section + ": default '" + entry.default_literal +
                          "' of key '" + entry.key + "' is not a TOML literal of type " +
                          entry.type);
      impl->add(entry, *literal->get("v"), "default");
      continue;
    }
    const auto [bad, index] = type_mismatch(*node, entry.type);
    if (bad != nullptr) {
      const bool element = index >= 0;
      std::string range;
      if (bad->is_floating_point() && entry.type.rfind("int", 0) == 0 &&
          !(std::fabs(bad->as_floating_point()->get()) < 9.2e18))
        range = ", which is also out of range for an int (at most 9223372036854775807)";
      throw ConfigError(prefix(origin_of(*bad)) + section + " " + entry.key +
                        (element ? "[" + std::to_string(index) + "]" : "") + ": expected " +
                        (element ? element_type(entry.type) : entry.type) + ", got " +
                        describe(*bad) + range + "; " + fix_hint(entry));
    }
    check_constraint(entry, *node, section);
    impl->add(entry, *node, origin_of(*node));
  }

  impl->config.struct_size = sizeof(TailorConfig);
  impl->config.section = impl->name.c_str();
  impl->config.count = impl->values.size();
  impl->config.values = impl->values.empty() ? nullptr : impl->values.data();
  return ResolvedSection(std::move(impl));
}

const toml::table* find_section(const toml::table& root, std::string_view name) {
  const toml::node* node = root.get(name);
  if (node == nullptr) return nullptr;
  if (const auto* table = node->as_table()) return table;
  const std::string n(name);
  throw ConfigError(prefix(origin_of(*node)) + "[" + n + "] must be a table, got " +
                    describe(*node) + "; fix: write [" + n +
                    "] on its own line, then key = value lines");
}

}  // namespace tailor::host
