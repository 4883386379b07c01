// host/plugins/loader.hpp - finds, vets and loads plugin libraries.
#pragma once

#include <tailor/abi.h>

#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tailor::host {

/// A plugin was refused or failed; the message names the plugin, its path, what was found
/// versus expected, and the fix.
class PluginError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Printable kind name: "dataset", "backbone", "loss", "sampler", "head", "batch_mix".
const char* kind_name(uint32_t kind);
/// The kind-qualified file name of plugin `name` of `kind`: "<kind>_<name>.so". A plugin
/// named N of kind K is the file K_N.so or N.so (the first wins within a directory), so two
/// kinds may share a name: the class_balanced loss and the class_balanced sampler.
std::string plugin_file_name(const std::string& name, uint32_t kind);
/// Parses a kind name; nullopt when unknown.
std::optional<uint32_t> parse_kind(const std::string& name);

/// Lower-case hex SHA-256 of a file's bytes. Throws std::runtime_error naming the file when
/// it cannot be read.
std::string sha256_file(const std::filesystem::path& path);

/// A loaded, vetted plugin. Lives until the process exits (plugins are never unloaded).
struct LoadedPlugin {
  std::filesystem::path path;  ///< canonical path of the .so
  const TailorPluginDescriptor* descriptor = nullptr;
  std::string name;
  uint32_t kind = 0;
  std::string schema_text;  ///< the descriptor's schema, copied after load
  std::string sha256;       ///< of the file's bytes when it was loaded (provenance)
};

/// A plugin file that another directory earlier in the search path hides.
struct Shadowed {
  std::filesystem::path file;  ///< the hidden file
  std::filesystem::path by;    ///< the file that is used instead
};

/// What `tailor plugins inspect` reports about a file, gathered without running its code
/// unless the pre-load checks pass.
struct Inspection {
  std::filesystem::path path;
  std::vector<std::string> exported;  ///< tailor_* symbols found by library_info
  bool compatible = false;
  std::string verdict;                   ///< "compatible" or the refusal message
  const LoadedPlugin* plugin = nullptr;  ///< set when compatible and loaded
};

/// Plugin search and loading. Search order: directories given with add_search_dir() (the
/// experiment's [plugins] paths first, then TAILOR_PLUGIN_PATH, then the build or install
/// plugin directory next to the executable). A plugin named N of kind K is the file K_N.so
/// or N.so.
///
/// Checks before loading (no plugin code runs): the file is an ELF shared object, exports
/// tailor_plugin_v1 (else: "not a tailor plugin", or "built for SDK ABI N"), and exports the
/// host's fingerprint marker (else: built against another LibTorch). Then dlopen with
/// RTLD_NOW | RTLD_LOCAL, call the entry point, and validate the descriptor (magic, sizes,
/// ABI major == host major, minor <= host minor, kind, name, fingerprint). A file is loaded
/// at most once (by canonical path) and never unloaded.
class PluginLoader {
 public:
  PluginLoader() = default;
  PluginLoader(const PluginLoader&) = delete;
  PluginLoader& operator=(const PluginLoader&) = delete;

  /// Appends a directory to the search path (ignored when it does not exist).
  void add_search_dir(const std::filesystem::path& dir);
  /// Adds TAILOR_PLUGIN_PATH (colon-separated) and the default directory of `argv0`.
  void add_default_dirs(const std::filesystem::path& executable);
  const std::vector<std::filesystem::path>& search_dirs() const { return dirs_; }

  /// Loads the plugin registered as `name` of `kind`, searching the directories in order.
  /// When there is none, the error suggests the closest installed name and lists the
  /// directories searched.
  const LoadedPlugin& load(const std::string& name, uint32_t kind);
  /// Loads the library at `path` (any kind).
  const LoadedPlugin& load_file(const std::filesystem::path& path);
  /// Every plugin file found in the search path, loaded; refusals are returned in
  /// `refused` (path, message) instead of thrown, and files hidden by a same-named file in an
  /// earlier directory in `shadowed`.
  std::vector<const LoadedPlugin*> discover(
      std::vector<std::pair<std::string, std::string>>* refused,
      std::vector<Shadowed>* shadowed = nullptr);
  /// Pre-load report for one file; loads it only when the checks pass.
  Inspection inspect(const std::filesystem::path& path);

 private:
  std::optional<std::filesystem::path> find(const std::string& name, uint32_t kind) const;
  void check_before_load(const std::filesystem::path& path,
                         std::vector<std::string>* exported) const;
  void check_descriptor(const std::filesystem::path& path, const TailorPluginDescriptor* d) const;

  std::vector<std::filesystem::path> dirs_;
  std::map<std::filesystem::path, LoadedPlugin*> loaded_;  // owned for the process's lifetime
};

}  // namespace tailor::host
