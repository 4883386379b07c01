// Options from a TOML snippet through the host's own section checker (host/config), so a
// plugin's tests see exactly the messages `tailor run` prints.
#include <tailor/testing/options.hpp>

#include "config/experiment.hpp"
#include "config/schema.hpp"

#include <tailor/error.hpp>

#include <toml++/toml.h>

#include <utility>

namespace tailor::testing::detail {

struct CheckedSection::Impl {
  host::ResolvedSection section;
};

CheckedSection::CheckedSection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CheckedSection::CheckedSection(CheckedSection&&) noexcept = default;
CheckedSection& CheckedSection::operator=(CheckedSection&&) noexcept = default;
CheckedSection::~CheckedSection() = default;

const TailorConfig& CheckedSection::config() const {
  return impl_->section.config();
}

CheckedSection check_section(std::string_view toml, const std::string& schema,
                             const std::string& section, const std::string& file) {
  toml::table table;
  try {
    table = toml::parse(toml, std::string_view(file));
  } catch (const toml::parse_error& e) {
    const toml::source_position at = e.source().begin;
    throw Error(file + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": " +
                std::string(e.description()));
  }
  try {
    // Plugin sections name their plugin with `plugin`, which the host reads, not the plugin.
    auto impl = std::make_unique<CheckedSection::Impl>(CheckedSection::Impl{
        host::resolve_section(section, &table, host::parse_schema(schema), {"plugin"})});
    return CheckedSection(std::move(impl));
  } catch (const host::ConfigError& e) {
    throw Error(e.what());
  }
}

}  // namespace tailor::testing::detail
