// tailor/log.hpp - logging from plugin code through the host's logger.
#pragma once

#include <tailor/abi.h>

#include <atomic>
#include <string>

namespace tailor {

namespace detail {

/// The host API and this plugin's name, recorded when the host calls the entry point.
/// One instance per plugin library (hidden visibility).
struct PluginGlobals {
  std::atomic<const TailorHostApi*> api{nullptr};
  const char* name = "?";
};
inline PluginGlobals& globals() {
  static PluginGlobals g;
  return g;
}

}  // namespace detail

/// Writes one log line through the host, attributed to this plugin. Thread-safe. Does
/// nothing when the code runs outside a host (e.g. in a unit test).
inline void log(TailorLogLevel level, const std::string& message) {
  const TailorHostApi* api = detail::globals().api.load();
  if (api != nullptr && api->log != nullptr) api->log(level, detail::globals().name, message.c_str());
}
/// log() at info level.
inline void log_info(const std::string& message) { log(TAILOR_LOG_INFO, message); }
/// log() at warning level.
inline void log_warn(const std::string& message) { log(TAILOR_LOG_WARN, message); }

}  // namespace tailor
