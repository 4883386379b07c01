// host/report/run_dir.hpp - the run directory and crash-safe file writes.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <cstdint>
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
  /// Whether this process writes the run's files: rank 0 of a data-parallel run does, the
  /// other ranks only log (append_metrics and append_timing do nothing for them).
  bool writer() const { return writer_; }
  void set_writer(bool writer) { writer_ = writer; }
  std::filesystem::path file(const std::string& name) const { return path_ / name; }
  /// Appends one JSON object as a line to metrics.jsonl and flushes it.
  void append_metrics(const nlohmann::json& record);
  /// Drops the metrics.jsonl records of epochs after `completed` (recomputed after a resume).
  void truncate_metrics(int64_t completed);
  /// Appends one wall-clock throughput record to timing.jsonl (kept apart from the metrics,
  /// which stay reproducible byte for byte).
  void append_timing(int64_t epoch, const std::string& split, double seconds, int64_t images);

 private:
  explicit RunDir(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
  bool writer_ = true;
};

}  // namespace tailor::host
