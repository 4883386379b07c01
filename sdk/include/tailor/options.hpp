// tailor/options.hpp - typed option structs: schema generation and reading.
//
// A component declares its options as a plain struct with defaults written inline and one
// visit() member that names every field once:
//
//   struct FocalOptions {
//     double gamma = 2.0;
//     std::string reduction = "mean";
//     template <class V> void visit(V& v) {
//       v("gamma", gamma, "Focusing parameter.", tailor::at_least(0.0));
//       v("reduction", reduction, "Batch reduction.", tailor::one_of({"mean", "sum"}));
//     }
//   };
//
// The same visit() drives three things: tailor::schema_of<T>() renders the schema the
// plugin descriptor publishes (and `tailor plugins describe` prints); the host checks the
// experiment's TOML table against that schema (unknown keys, wrong types, did-you-mean, with
// file:line:col); tailor::read_options<T>() fills the struct from the checked values and
// enforces each field's constraint. Component code never sees TOML.
#pragma once

#include <tailor/abi.h>
#include <tailor/error.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
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
/// A string field restricted to `choices`.
inline Constraint one_of(std::initializer_list<const char*> choices) {
  Constraint c;
  for (const char* s : choices) c.choices.emplace_back(s);
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
class SchemaWriter {
 public:
  template <typename T>
  void operator()(const char* key, T& value, const char* doc, const Constraint& c = {}) {
    static_assert(!std::is_same_v<T, int>, "declare integer options as int64_t");
    text_ += key;
    text_ += '\t';
    text_ += detail::OptionType<T>::name;
    text_ += '\t';
    text_ += detail::toml_literal(value);
    text_ += '\t';
    text_ += c.text();
    text_ += '\t';
    text_ += detail::one_line(doc);
    text_ += '\n';
  }
  const std::string& text() const { return text_; }

 private:
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
    if (v == nullptr) return;  // the host fills defaults; keep ours if it did not
    assign(*v, value);
    check(*v, value, c);
  }

 private:
  const TailorValue* find(const char* key) const {
    for (size_t i = 0; i < config_.count; ++i)
      if (std::string(config_.values[i].key) == key) return &config_.values[i];
    return nullptr;
  }

  std::string where(const TailorValue& v) const {
    std::string s;
    if (v.origin != nullptr && *v.origin != '\0') s += std::string(v.origin) + ": ";
    s += "[";
    s += config_.section != nullptr ? config_.section : "?";
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
