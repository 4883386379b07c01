// host/plugins/loader.cpp - pre-load checks, dlopen and descriptor validation.
#include "plugins/loader.hpp"

#include "config/experiment.hpp"
#include "plugins/host_api.hpp"

#include <vector>  // before Boost.DLL's library_info, which uses it without including it

#include <spdlog/spdlog.h>
#include <boost/dll/library_info.hpp>
#include <boost/dll/shared_library.hpp>

#include <openssl/evp.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <regex>
#include <sstream>

namespace fs = std::filesystem;

namespace tailor::host {
namespace {

constexpr const char* kRebuildHint =
    "rebuild the plugin against the TailorSDK installed with this host "
    "(find_package(TailorSDK) + tailor_add_plugin)";

bool debug_plugins() {
  const char* v = std::getenv("TAILOR_DEBUG_PLUGINS");
  return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
}

std::string describe_fingerprint(const TailorBuildFingerprint& f) {
  std::ostringstream s;
  s << "torch " << f.torch_major << "." << f.torch_minor << ", cxx11_abi=" << f.cxx11_abi << ", "
    << (f.has_cuda ? "cuda" : "cpu") << ", build '"
    << (f.torch_build_id != nullptr ? f.torch_build_id : "?") << "'";
  return s.str();
}

// Everything a loaded library needs for the rest of the process: the libraries (never
// closed) and the plugins' records (their descriptors point into the libraries). Reachable
// from here until exit, on purpose; PluginLoader objects come and go.
class Resident {
 public:
  boost::dll::shared_library* keep(boost::dll::shared_library* library) {
    std::lock_guard<std::mutex> lock(mutex_);
    libraries_.push_back(library);
    return library;
  }
  LoadedPlugin* keep(LoadedPlugin* plugin) {
    std::lock_guard<std::mutex> lock(mutex_);
    plugins_.push_back(plugin);
    return plugin;
  }

 private:
  std::mutex mutex_;
  std::vector<boost::dll::shared_library*> libraries_;
  std::vector<LoadedPlugin*> plugins_;
};

Resident& resident() {
  static Resident* const r = new Resident();  // never destroyed: see load_file
  return *r;
}

std::string who(const fs::path& path, const char* name = nullptr) {
  std::string s = "plugin ";
  if (name != nullptr) s += std::string("'") + name + "' ";
  return s + "(" + path.string() + ")";
}

// Refuses a plugin that any user of the machine could replace, as ssh refuses a key file
// others can write: the file itself, or the directory holding it (which lets anyone swap the
// file), writable by all. TAILOR_ALLOW_WRITABLE_PLUGINS=1 overrides.
void check_permissions(const fs::path& path) {
  const char* allow = std::getenv("TAILOR_ALLOW_WRITABLE_PLUGINS");
  if (allow != nullptr && std::strcmp(allow, "1") == 0) return;
  for (const fs::path& p : {path, path.parent_path()}) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0 || (st.st_mode & S_IWOTH) == 0) continue;
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    const bool dir = S_ISDIR(st.st_mode);
    throw PluginError(who(path) +
                      " refused: " + (dir ? "its directory " + p.string() : "the file") +
                      " is writable by every user (mode " + mode +
                      "), so anyone on this machine could change the code tailor runs; fix with "
                      "`chmod o-w " +
                      p.string() + "`, or set TAILOR_ALLOW_WRITABLE_PLUGINS=1 to load it anyway");
  }
}

}  // namespace

const char* kind_name(uint32_t kind) {
  switch (kind) {
    case TAILOR_KIND_DATASET:
      return "dataset";
    case TAILOR_KIND_BACKBONE:
      return "backbone";
    case TAILOR_KIND_LOSS:
      return "loss";
    case TAILOR_KIND_SAMPLER:
      return "sampler";
    case TAILOR_KIND_HEAD:
      return "head";
    case TAILOR_KIND_BATCH_MIX:
      return "batch_mix";
  }
  return "unknown";
}

std::optional<uint32_t> parse_kind(const std::string& name) {
  if (name == "dataset") return TAILOR_KIND_DATASET;
  if (name == "backbone") return TAILOR_KIND_BACKBONE;
  if (name == "loss") return TAILOR_KIND_LOSS;
  if (name == "sampler") return TAILOR_KIND_SAMPLER;
  if (name == "head") return TAILOR_KIND_HEAD;
  if (name == "batch_mix") return TAILOR_KIND_BATCH_MIX;
  return std::nullopt;
}

std::string sha256_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string() + " to hash it");
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1;
  std::vector<char> buffer(1 << 20);
  while (ok && in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    ok = EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<size_t>(in.gcount())) == 1;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  ok = ok && !in.bad() && EVP_DigestFinal_ex(ctx.get(), digest, &length) == 1;
  if (!ok) throw std::runtime_error("cannot hash " + path.string());
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

void PluginLoader::add_search_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    if (debug_plugins()) spdlog::info("plugins: skipping missing directory {}", dir.string());
    return;
  }
  const fs::path canonical = fs::canonical(dir, ec);
  for (const auto& d : dirs_)
    if (d == canonical) return;
  dirs_.push_back(canonical);
}

void PluginLoader::add_default_dirs(const fs::path& executable) {
  if (const char* env = std::getenv("TAILOR_PLUGIN_PATH")) {
    std::stringstream ss(env);
    std::string item;
    while (std::getline(ss, item, ':'))
      if (!item.empty()) add_search_dir(item);
  }
  std::error_code ec;
  fs::path exe = fs::canonical(executable, ec);
  if (ec) exe = fs::canonical("/proc/self/exe", ec);
  if (ec) return;
  // The build tree keeps plugins in <build>/lib/tailor/plugins; an install uses its libdir
  // (lib/x86_64-linux-gnu/... on Debian), both relative to <prefix>/bin/tailor.
  add_search_dir(exe.parent_path().parent_path() / "lib" / "tailor" / "plugins");
#ifdef TAILOR_PLUGIN_RELDIR
  add_search_dir(exe.parent_path().parent_path() / TAILOR_PLUGIN_RELDIR);
#endif
}

std::string plugin_file_name(const std::string& name, uint32_t kind) {
  return std::string(kind_name(kind)) + "_" + name + ".so";
}

// Within a directory the kind-qualified file wins: the class_balanced sampler
// (sampler_class_balanced.so) sits beside the class_balanced loss (class_balanced.so).
std::optional<fs::path> PluginLoader::find(const std::string& name, uint32_t kind) const {
  for (const auto& dir : dirs_) {
    for (const fs::path& candidate : {dir / plugin_file_name(name, kind), dir / (name + ".so")}) {
      std::error_code ec;
      if (fs::is_regular_file(candidate, ec)) return candidate;
    }
  }
  return std::nullopt;
}

void PluginLoader::check_before_load(const fs::path& path,
                                     std::vector<std::string>* exported) const {
  std::vector<std::string> symbols;
  try {
    boost::dll::library_info info(path);
    symbols = info.symbols();
  } catch (const std::exception& e) {
    throw PluginError(who(path) + " refused: not a readable ELF shared library (" + e.what() +
                      "); point the experiment at a .so built with tailor_add_plugin");
  }
  bool has_entry = false;
  std::string other_entry, marker;
  for (const auto& s : symbols) {
    if (s.rfind("tailor_", 0) != 0) continue;
    if (exported != nullptr) exported->push_back(s);
    if (s == TAILOR_ENTRY_SYMBOL)
      has_entry = true;
    else if (s.rfind("tailor_plugin_v", 0) == 0)
      other_entry = s;
    else if (s.rfind(TAILOR_FINGERPRINT_PREFIX, 0) == 0)
      marker = s;
  }
  if (!has_entry && !other_entry.empty()) {
    const std::string major = other_entry.substr(std::strlen("tailor_plugin_v"));
    throw PluginError(who(path) + " refused: built for tailor SDK ABI " + major + " (exports " +
                      other_entry + "), this host speaks ABI " + std::to_string(TAILOR_ABI_MAJOR) +
                      " (" + TAILOR_ENTRY_SYMBOL + "); " + kRebuildHint);
  }
  if (!has_entry)
    throw PluginError(who(path) +
                      " refused: not a tailor plugin (no " TAILOR_ENTRY_SYMBOL
                      " symbol); build it with tailor_add_plugin() and a TAILOR_*_PLUGIN macro");
  if (marker != host_fingerprint_marker())
    throw PluginError(who(path) + " refused before loading: built against a different LibTorch " +
                      "(fingerprint " + (marker.empty() ? std::string("missing") : marker) +
                      ", expected " + host_fingerprint_marker() + " for this host's " +
                      describe_fingerprint(host_fingerprint()) + "); " + kRebuildHint);
}

void PluginLoader::check_descriptor(const fs::path& path, const TailorPluginDescriptor* d) const {
  if (d == nullptr)
    throw PluginError(who(path) + " refused: " TAILOR_ENTRY_SYMBOL " returned no descriptor");
  if (d->magic != TAILOR_DESCRIPTOR_MAGIC)
    throw PluginError(who(path) + " refused: descriptor has a bad magic number; the file is " +
                      "corrupt or not built with the tailor SDK");
  if (d->struct_size < offsetof(TailorPluginDescriptor, reserved))
    throw PluginError(who(path) + " refused: descriptor is " + std::to_string(d->struct_size) +
                      " bytes, smaller than any tailor 1.x descriptor; " + kRebuildHint);
  const char* name = d->name;
  const std::string version = std::to_string(d->abi_major) + "." + std::to_string(d->abi_minor);
  const std::string host_version =
      std::to_string(TAILOR_ABI_MAJOR) + "." + std::to_string(TAILOR_ABI_MINOR);
  if (d->abi_major != TAILOR_ABI_MAJOR)
    throw PluginError(who(path, name) + " refused: built for SDK ABI " + version +
                      ", this host speaks ABI " + host_version + "; " + kRebuildHint);
  if (d->abi_minor > TAILOR_ABI_MINOR)
    throw PluginError(who(path, name) + " refused: built for SDK ABI " + version +
                      ", newer than this host's ABI " + host_version +
                      "; upgrade tailor or rebuild the plugin against SDK <= " + host_version);
  if (name == nullptr || !std::regex_match(name, std::regex("[a-z][a-z0-9_]*")))
    throw PluginError(who(path) + " refused: descriptor name is missing or not lower_snake_case");
  if (d->kind < TAILOR_KIND_DATASET || d->kind > TAILOR_KIND_BATCH_MIX)
    throw PluginError(who(path, name) + " refused: unknown kind " + std::to_string(d->kind));
  if (d->create == nullptr || d->destroy == nullptr || d->vtable == nullptr || d->schema == nullptr)
    throw PluginError(who(path, name) + " refused: descriptor lacks create, destroy, schema " +
                      "or vtable");
  const auto& f = d->fingerprint;
  const auto& h = host_fingerprint();
  const bool same = f.torch_major == h.torch_major && f.torch_minor == h.torch_minor &&
                    f.cxx11_abi == h.cxx11_abi && f.has_cuda == h.has_cuda &&
                    f.torch_build_id != nullptr &&
                    std::strcmp(f.torch_build_id, h.torch_build_id) == 0;
  if (!same)
    throw PluginError(who(path, name) + " refused: built against " + describe_fingerprint(f) +
                      "; this host uses " + describe_fingerprint(h) + "; " + kRebuildHint);
  if ((d->flags & TAILOR_PLUGIN_NEEDS_CUDA) != 0 && !h.has_cuda)
    throw PluginError(who(path, name) + " refused: needs CUDA, but this host's LibTorch is " +
                      "CPU-only; use a CUDA build of tailor");
  if (*static_cast<const uint32_t*>(d->vtable) < sizeof(uint32_t) + sizeof(void*))
    throw PluginError(who(path, name) + " refused: its " + kind_name(d->kind) +
                      " vtable is too small");
}

const LoadedPlugin& PluginLoader::load_file(const fs::path& given) {
  std::error_code ec;
  const fs::path path = fs::canonical(given, ec);
  if (ec)
    throw PluginError("plugin file " + given.string() + " not found (" + ec.message() +
                      "); check the path or the plugin search directories");
  if (auto it = loaded_.find(path); it != loaded_.end()) return *it->second;

  check_permissions(path);
  check_before_load(path, nullptr);
  // Held forever: unloading a library whose tensors, autograd nodes or deleters may still be
  // alive crashes, and dlclose at exit races static destructors in libtorch.
  auto opening = std::make_unique<boost::dll::shared_library>();
  try {
    opening->load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    throw PluginError(who(path) + " failed to load: " + e.what() +
                      "; check that its dependencies are installed (ldd " + path.string() + ")");
  }
  boost::dll::shared_library* library = resident().keep(opening.release());
  auto entry =
      library->get<const TailorPluginDescriptor*(const TailorHostInfo*)>(TAILOR_ENTRY_SYMBOL);
  const TailorPluginDescriptor* descriptor = entry(host_info());
  check_descriptor(path, descriptor);

  auto* plugin = resident().keep(new LoadedPlugin());
  plugin->path = path;
  plugin->descriptor = descriptor;
  plugin->name = descriptor->name;
  plugin->kind = descriptor->kind;
  const char* schema = descriptor->schema();
  plugin->schema_text = schema != nullptr ? schema : "";
  plugin->sha256 = sha256_file(path);
  loaded_.emplace(path, plugin);
  if (debug_plugins())
    spdlog::info("plugins: loaded {} '{}' {} from {}", kind_name(plugin->kind), plugin->name,
                 descriptor->version, path.string());
  return *plugin;
}

const LoadedPlugin& PluginLoader::load(const std::string& name, uint32_t kind) {
  const auto path = find(name, kind);
  if (!path) {
    std::string dirs;
    std::vector<std::string> installed;
    for (const auto& d : dirs_) {
      dirs += "\n  " + d.string();
      std::error_code ec;
      for (const auto& entry : fs::directory_iterator(d, ec))
        if (entry.path().extension() == ".so") installed.push_back(entry.path().stem().string());
    }
    std::sort(installed.begin(), installed.end());
    if (dirs.empty()) dirs = " (none)";
    const std::string guess = did_you_mean(name, installed);
    throw PluginError("no " + std::string(kind_name(kind)) + " plugin named '" + name + "'" +
                      (guess.empty() ? "" : "; did you mean '" + guess + "'?") + " (looked for " +
                      plugin_file_name(name, kind) + " and " + name + ".so in:" + dirs +
                      "); run `tailor plugins list` to see what is installed, or add its "
                      "directory to [plugins] paths or TAILOR_PLUGIN_PATH");
  }
  const LoadedPlugin& plugin = load_file(*path);
  if (plugin.kind != kind)
    throw PluginError(who(plugin.path, plugin.name.c_str()) + " is a " + kind_name(plugin.kind) +
                      " plugin, but the experiment uses it as a " + kind_name(kind));
  if (plugin.name != name)
    throw PluginError(who(plugin.path, plugin.name.c_str()) + " registers the name '" +
                      plugin.name + "' but its file is named " + path->filename().string() +
                      "; rename the file to " + plugin.name + ".so or " +
                      plugin_file_name(plugin.name, kind));
  return plugin;
}

std::vector<const LoadedPlugin*> PluginLoader::discover(
    std::vector<std::pair<std::string, std::string>>* refused, std::vector<Shadowed>* shadowed) {
  std::vector<const LoadedPlugin*> found;
  std::map<std::string, fs::path> first_by_name;
  for (const auto& dir : dirs_) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.path().extension() == ".so") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      const std::string stem = file.stem().string();
      if (auto first = first_by_name.find(stem); first != first_by_name.end()) {
        if (shadowed != nullptr) shadowed->push_back({file, first->second});
        continue;
      }
      try {
        const LoadedPlugin& p = load_file(file);
        first_by_name[stem] = file;
        found.push_back(&p);
      } catch (const PluginError& e) {
        if (refused != nullptr) refused->emplace_back(file.string(), e.what());
      }
    }
  }
  return found;
}

Inspection PluginLoader::inspect(const fs::path& path) {
  Inspection report;
  report.path = path;
  try {
    check_before_load(fs::canonical(path), &report.exported);
    report.plugin = &load_file(path);
    report.compatible = true;
    report.verdict = "compatible";
  } catch (const std::exception& e) {
    report.verdict = e.what();
  }
  return report;
}

}  // namespace tailor::host
