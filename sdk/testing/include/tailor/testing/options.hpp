// tailor/testing/options.hpp - a plugin's options struct from a TOML snippet, checked the way
// the host checks an experiment's section.
//
//   auto o = tailor::testing::options<MyLoss::Options>("gamma = 0.5");
//   CHECK_THROWS_WITH(tailor::testing::options<MyLoss::Options>("gamma = -1.0"),
//                     "exp.toml:1:9: [loss] gamma must be >= 0, got -1");
//
// The snippet is the body of one section, as it would stand under `[loss]` in an experiment
// file. It goes through the host's own checker: unknown keys (with a did-you-mean), wrong
// types and array elements, defaults for absent keys; then tailor::read_options<T>() fills
// the struct and enforces each constraint. Every message is the one `tailor run` would
// print, including the `file:line:col` of the offending value within the snippet.
#pragma once

#include <tailor/abi.h>
#include <tailor/options.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace tailor::testing {

namespace detail {

/// One section resolved by the host's checker. Owns every string and array its config()
/// points into. Move-only.
class CheckedSection {
 public:
  CheckedSection(CheckedSection&&) noexcept;
  CheckedSection& operator=(CheckedSection&&) noexcept;
  ~CheckedSection();

  /// The section as a plugin's create() receives it: every schema key, defaults filled in.
  const TailorConfig& config() const;

 private:
  struct Impl;
  explicit CheckedSection(std::unique_ptr<Impl> impl);
  friend CheckedSection check_section(std::string_view, const std::string&, const std::string&,
                                      const std::string&);
  std::unique_ptr<Impl> impl_;
};

/// Parses `toml` (source name `file`) as the body of section `section` and checks it against
/// `schema` (tailor::schema_of<T>() text) with the host's checker; the key `plugin` is
/// accepted and ignored, as in a plugin's section of an experiment. Throws tailor::Error
/// with the host's message for a TOML syntax error, an unknown key or a wrong type, and
/// for a schema the host would reject.
CheckedSection check_section(std::string_view toml, const std::string& schema,
                             const std::string& section, const std::string& file);

}  // namespace detail

/// The options struct T as a plugin's create() would receive it when an experiment's
/// `[section]` table held `toml`, which the messages call `file`. Throws tailor::Error
/// with the host's message for anything `tailor run` would refuse: a TOML syntax error, an
/// unknown key, a wrong type, or a value that breaks its constraint.
template <class T>
T options(std::string_view toml, const std::string& section = "loss",
          const std::string& file = "exp.toml") {
  const detail::CheckedSection checked =
      detail::check_section(toml, tailor::schema_of<T>(), section, file);
  return tailor::read_options<T>(checked.config());
}

}  // namespace tailor::testing
