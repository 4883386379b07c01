// host/report/run_dir.hpp - the run directory and crash-safe file writes.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <fstream>
#include <string>

namespace tailor::host {

/// Writes `content` to `path` atomically: a temporary file in the same directory, flushed
/// and fsync'ed, then renamed over `path`. Readers see the old file or the new one, never a
/// half-written one. Throws std::runtime_error naming the path on failure.
void write_file_atomic(const std::filesystem::path& path, const std::string& content);

/// runs/<name>/<timestamp>/ with its well-known files.
class RunDir {
 public:
  /// Creates <root>/<name>/<YYYYmmdd-HHMMSS>[-N]/ (a fresh directory, never reused).
  static RunDir create(const std::filesystem::path& root, const std::string& name);
  /// Opens an existing run directory (resume).
  static RunDir open(const std::filesystem::path& dir);

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path file(const std::string& name) const { return path_ / name; }
  /// Appends one JSON object as a line to metrics.jsonl and flushes it.
  void append_metrics(const nlohmann::json& record);

 private:
  explicit RunDir(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

}  // namespace tailor::host
