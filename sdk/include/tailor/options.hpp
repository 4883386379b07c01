// tailor/options.hpp - typed option structs: schema generation and reading.
//
// A component declares its options as a plain struct with defaults written inline and one
// visit() member that names every field once:
//
//   struct FocalOptions {
//     enum class Reduction { kMean, kSum };
//     static constexpr auto kReductions = tailor::choice<Reduction>(
//         {{"mean", Reduction::kMean}, {"sum", Reduction::kSum}});
//     double gamma = 2.0;
//     Reduction reduction = Reduction::kMean;
//     std::string root;
//     template <class V> void visit(V& v) {
//       v("gamma", gamma, "Focusing parameter.", tailor::at_least(0.0));
//       v("reduction", reduction, "Batch reduction.", kReductions);
//       v("root", root, "Data folder.", tailor::required());
//     }
//   };
//
// The same visit() drives three things: tailor::schema_of<T>() renders the schema the
// plugin descriptor publishes (and `tailor plugins describe` prints); the host checks the
// experiment's TOML table against that schema (unknown keys, wrong types, missing required
// keys, did-you-mean, with file:line:col); tailor::read_options<T>() fills the struct from
// the checked values and enforces each field's constraint. Component code never sees TOML.
//
// A choice is a string in the schema and the experiment file and an enum member in the
// struct: component code compares enum members, never strings, and
// `kReductions.name(options.reduction)` gives the string back for messages and logs.
#pragma once

#include <tailor/abi.h>
#include <tailor/error.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace tailor {

/// A constraint on a numeric field (bounds) or a string field (choices). Applies to every
/// element of an array field. Default-constructed: no constraint.
struct Constraint {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = false;  ///< true: value must be > lo; false: >= lo
  bool hi_open = false;  ///< true: value must be < hi; false: <= hi
  std::vector<std::string> choices;  ///< non-empty: a string must be one of these
  /// true: the field has no default; the experiment must set it (see tailor::required()).
  /// Not part of text(): the schema says it in the default column (TAILOR_SCHEMA_REQUIRED).
  bool required = false;

  /// Human-readable form used in schemas and messages, e.g. "[0, 1)" or "one of: a, b".
  std::string text() const {
    if (!choices.empty()) {
      std::string s = "one of:";
      for (size_t i = 0; i < choices.size(); ++i) s += (i ? ", " : " ") + choices[i];
      return s;
    }
    const bool has_lo = std::isfinite(lo), has_hi = std::isfinite(hi);
    if (!has_lo && !has_hi) return "";
    if (has_lo && !has_hi) return (lo_open ? "> " : ">= ") + number(lo);
    if (!has_lo && has_hi) return (hi_open ? "< " : "<= ") + number(hi);
    return std::string(lo_open ? "(" : "[") + number(lo) + ", " + number(hi) +
           (hi_open ? ")" : "]");
  }

  /// Empty when `v` satisfies the bounds, else the reason.
  std::optional<std::string> check(double v) const {
    const bool ok = !std::isnan(v) && (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
    if (ok) return std::nullopt;
    return "must be " + text() + ", got " + number(v);
  }
  std::optional<std::string> check(const std::string& v) const {
    if (choices.empty()) return std::nullopt;
    for (const auto& c : choices)
      if (c == v) return std::nullopt;
    return "must be " + text() + ", got \"" + v + "\"";
  }

  static std::string number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    return buf;
  }
};

/// lo <= v <= hi (closed); pass hi_open = true for lo <= v < hi.
inline Constraint range(double lo, double hi, bool hi_open = false) {
  Constraint c;
  c.lo = lo;
  c.hi = hi;
  c.hi_open = hi_open;
  return c;
}
/// v >= lo.
inline Constraint at_least(double lo) {
  Constraint c;
  c.lo = lo;
  return c;
}
/// v > lo.
inline Constraint greater_than(double lo) {
  Constraint c;
  c.lo = lo;
  c.lo_open = true;
  return c;
}
/// A string field restricted to `choices`. For a field the component compares against
/// these strings, declare an enum and a tailor::choice() instead.
inline Constraint one_of(std::initializer_list<const char*> choices) {
  Constraint c;
  for (const char* s : choices) c.choices.emplace_back(s);
  return c;
}
/// A field without a default: the host refuses an experiment that does not set it, naming
/// the section, the key and the fix. `c` adds bounds or choices as usual, e.g.
/// `tailor::required(tailor::at_least(1.0))`. The struct's own initial value is then used
/// only by code that builds the struct directly (tests), never by a run.
inline Constraint required(Constraint c = {}) {
  c.required = true;
  return c;
}

/// One entry of a choice table: the string the schema and experiment files use, and the
/// enum member it stands for.
template <typename E>
struct ChoiceEntry {
  const char* name;
  E value;
};

/// The strings an enum field accepts, in schema order, and the members they map to. Build
/// one with tailor::choice(); usually a `static constexpr` member next to the enum, so the
/// field's visit() line and the component's messages share it.
template <typename E, size_t N>
struct Choices {
  static_assert(std::is_enum_v<E>, "a choice maps strings to the members of an enum");
  static_assert(N > 0, "a choice needs at least one entry");
  ChoiceEntry<E> entries[N];

  /// The string of `value`, e.g. for a log line or an error message. Throws tailor::Error
  /// when the table has no entry for `value` (a component bug).
  const char* name(E value) const {
    for (const auto& e : entries)
      if (e.value == value) return e.name;
    throw Error("enum value " + std::to_string(static_cast<long long>(value)) +
                " has no entry in its choice table (" + constraint().text() + ")");
  }
  /// The member named `text`, or nullopt when `text` is not one of the strings.
  std::optional<E> find(std::string_view text) const {
    for (const auto& e : entries)
      if (text == e.name) return e.value;
    return std::nullopt;
  }
  /// The member named `text`; throws tailor::Error listing the strings when there is none
  /// (for values that come from elsewhere than an experiment file, e.g. a golden file).
  E value(std::string_view text) const {
    const std::optional<E> found = find(text);
    if (!found) throw Error("\"" + std::string(text) + "\" is not " + constraint().text());
    return *found;
  }
  /// The strings as a Constraint ("one of: a, b" in schemas and messages).
  Constraint constraint() const {
    Constraint c;
    for (const auto& e : entries) c.choices.emplace_back(e.name);
    return c;
  }
};

/// A choice table for enum E, e.g.
///   tailor::choice<Reduction>({{"mean", Reduction::kMean}, {"sum", Reduction::kSum}})
/// Pass it as the constraint of an E field: the schema shows a string option whose default
/// is the name of the field's initial value and whose constraint is "one of: mean, sum".
template <typename E, size_t N>
constexpr Choices<E, N> choice(const ChoiceEntry<E> (&entries)[N]) {
  Choices<E, N> c{};
  for (size_t i = 0; i < N; ++i) c.entries[i] = entries[i];
  return c;
}

namespace detail {

template <typename T> struct OptionType;
template <> struct OptionType<bool> { static constexpr const char* name = "bool"; };
template <> struct OptionType<int64_t> { static constexpr const char* name = "int"; };
template <> struct OptionType<double> { static constexpr const char* name = "float"; };
template <> struct OptionType<std::string> { static constexpr const char* name = "string"; };
template <> struct OptionType<std::vector<int64_t>> { static constexpr const char* name = "int[]"; };
template <> struct OptionType<std::vector<double>> { static constexpr const char* name = "float[]"; };
template <> struct OptionType<std::vector<std::string>> {
  static constexpr const char* name = "string[]";
};

inline std::string toml_literal(bool v) { return v ? "true" : "false"; }
inline std::string toml_literal(int64_t v) { return std::to_string(v); }
inline std::string toml_literal(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  // Shortest text that reads back as v ("100", "0.0005", "1e-05"), then made a TOML float.
  const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  std::string s(buf, end);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}
inline std::string toml_literal(const std::string& v) {
  std::string s = "\"";
  for (char ch : v) {
    switch (ch) {
      case '"': s += "\\\""; break;
      case '\\': s += "\\\\"; break;
      case '\n': s += "\\n"; break;
      case '\t': s += "\\t"; break;
      default: s += ch;
    }
  }
  return s + "\"";
}
template <typename T>
std::string toml_literal(const std::vector<T>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + toml_literal(v[i]);
  return s + "]";
}

/// Replaces tabs and newlines so a doc string fits in one schema column.
inline std::string one_line(std::string s) {
  for (char& ch : s)
    if (ch == '\t' || ch == '\n') ch = ' ';
  return s;
}

}  // namespace detail

/// Visitor that renders a schema: one line per field, "key\ttype\tdefault\tconstraint\tdoc".
/// A required field's default is TAILOR_SCHEMA_REQUIRED; a choice is a string field.
class SchemaWriter {
 public:
  template <typename T>
  void operator()(const char* key, T& value, const char* doc, const Constraint& c = {}) {
    static_assert(!std::is_same_v<T, int>, "declare integer options as int64_t");
    static_assert(!std::is_enum_v<T>, "pass an enum field's tailor::choice() as its constraint");
    line(key, detail::OptionType<T>::name,
         c.required ? std::string(TAILOR_SCHEMA_REQUIRED) : detail::toml_literal(value), c.text(),
         doc);
  }
  template <typename E, size_t N>
  void operator()(const char* key, E& value, const char* doc, const Choices<E, N>& choices) {
    for (size_t i = 0; i < N; ++i) {
      TAILOR_CHECK(choices.entries[i].name != nullptr && *choices.entries[i].name != '\0', key,
                   ": choice ", i, " has an empty name");
      for (size_t j = 0; j < i; ++j)
        TAILOR_CHECK(std::strcmp(choices.entries[i].name, choices.entries[j].name) != 0 &&
                         choices.entries[i].value != choices.entries[j].value,
                     key, ": choice \"", choices.entries[i].name,
                     "\" repeats a name or a value of an earlier entry");
    }
    line(key, "string", detail::toml_literal(std::string(choices.name(value))),
         choices.constraint().text(), doc);
  }
  const std::string& text() const { return text_; }

 private:
  void line(const char* key, const char* type, const std::string& default_literal,
            const std::string& constraint, const char* doc) {
    text_ += key;
    text_ += '\t';
    text_ += type;
    text_ += '\t';
    text_ += default_literal;
    text_ += '\t';
    text_ += constraint;
    text_ += '\t';
    text_ += detail::one_line(doc);
    text_ += '\n';
  }
  std::string text_;
};

/// The schema text of options struct T, rendered from a default-constructed T.
template <typename T>
std::string schema_of() {
  T defaults{};
  SchemaWriter writer;
  defaults.visit(writer);
  return writer.text();
}

/// Visitor that fills an options struct from a host-checked TailorConfig and enforces each
/// field's constraint. Errors name the section, key and where the value was set.
class ConfigReader {
 public:
  explicit ConfigReader(const TailorConfig& config) : config_(config) {}

  template <typename T>
  void operator()(const char* key, T& value, const char* /*doc*/, const Constraint& c = {}) {
    const TailorValue* v = find(key);
    if (v == nullptr) {  // the host fills defaults; keep ours if it did not
      TAILOR_CHECK(!c.required, "[", section(), "] ", key,
                   " is required (it has no default) but was not given; set it in the "
                   "experiment's [",
                   section(), "] table");
      return;
    }
    assign(*v, value);
    check(*v, value, c);
  }
  template <typename E, size_t N>
  void operator()(const char* key, E& value, const char* /*doc*/, const Choices<E, N>& choices) {
    const TailorValue* v = find(key);
    if (v == nullptr) return;
    std::string text;
    assign(*v, text);
    const std::optional<E> found = choices.find(text);
    if (!found) report(*v, choices.constraint().check(text));
    value = *found;
  }

 private:
  const TailorValue* find(const char* key) const {
    for (size_t i = 0; i < config_.count; ++i)
      if (std::string(config_.values[i].key) == key) return &config_.values[i];
    return nullptr;
  }

  const char* section() const { return config_.section != nullptr ? config_.section : "?"; }

  std::string where(const TailorValue& v) const {
    std::string s;
    if (v.origin != nullptr && *v.origin != '\0') s += std::string(v.origin) + ": ";
    s += "[";
    s += section();
    s += "] ";
    s += v.key;
    return s;
  }

  void expect(const TailorValue& v, uint32_t type, const char* name) const {
    TAILOR_CHECK(v.type == type, where(v), ": expected ", name, ", got value of type tag ",
                 v.type);
  }

  void assign(const TailorValue& v, bool& out) const {
    expect(v, TAILOR_VALUE_BOOL, "bool");
    out = v.int_value != 0;
  }
  void assign(const TailorValue& v, int64_t& out) const {
    expect(v, TAILOR_VALUE_INT, "int");
    out = v.int_value;
  }
  void assign(const TailorValue& v, double& out) const {
    if (v.type == TAILOR_VALUE_INT) {
      out = static_cast<double>(v.int_value);
      return;
    }
    expect(v, TAILOR_VALUE_FLOAT, "float");
    out = v.float_value;
  }
  void assign(const TailorValue& v, std::string& out) const {
    expect(v, TAILOR_VALUE_STRING, "string");
    out = v.string_value != nullptr ? v.string_value : "";
  }
  void assign(const TailorValue& v, std::vector<int64_t>& out) const {
    expect(v, TAILOR_VALUE_INT_ARRAY, "int[]");
    out.assign(v.ints, v.ints + v.count);
  }
  void assign(const TailorValue& v, std::vector<double>& out) const {
    if (v.type == TAILOR_VALUE_INT_ARRAY) {
      out.assign(v.ints, v.ints + v.count);
      return;
    }
    expect(v, TAILOR_VALUE_FLOAT_ARRAY, "float[]");
    out.assign(v.floats, v.floats + v.count);
  }
  void assign(const TailorValue& v, std::vector<std::string>& out) const {
    expect(v, TAILOR_VALUE_STRING_ARRAY, "string[]");
    out.assign(v.strings, v.strings + v.count);
  }

  void check(const TailorValue& v, bool, const Constraint&) const { (void)v; }
  void check(const TailorValue& v, int64_t x, const Constraint& c) const {
    report(v, c.check(static_cast<double>(x)));
  }
  void check(const TailorValue& v, double x, const Constraint& c) const { report(v, c.check(x)); }
  void check(const TailorValue& v, const std::string& x, const Constraint& c) const {
    report(v, c.check(x));
  }
  template <typename T>
  void check(const TailorValue& v, const std::vector<T>& xs, const Constraint& c) const {
    for (const auto& x : xs) check(v, x, c);
  }
  void report(const TailorValue& v, const std::optional<std::string>& problem) const {
    TAILOR_CHECK(!problem, where(v), " ", *problem);
  }

  const TailorConfig& config_;
};

/// Fills a T from `config` (defaults for absent keys) and validates every constraint.
template <typename T>
T read_options(const TailorConfig& config) {
  T options{};
  ConfigReader reader(config);
  options.visit(reader);
  return options;
}

}  // namespace tailor
