// host/report/run_dir.hpp - the run directory, its single-writer lock, and crash-safe file
// writes.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <sys/types.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace tailor::host {

/// Writes `content` to `path` atomically: a temporary file in the same directory, flushed
/// and fsync'ed, renamed over `path`, then the directory fsync'ed. Readers see the old file
/// or the new one, never a half-written one. On failure (a full disk: ENOSPC, or EFBIG under
/// a file-size limit) the temporary file is removed, `path` is untouched, and
/// std::runtime_error names the path and the system's reason.
void write_file_atomic(const std::filesystem::path& path, const std::string& content);

/// The exclusive writer lock of a run directory: flock() on `<dir>/.tailor-lock`, which
/// holds the holder's pid. The kernel releases it when the holder exits, however it exits
/// (SIGKILL included), so a stale lock cannot exist.
class RunDirLock {
 public:
  /// Takes the lock without waiting. Returns nullopt when another process holds it, with
  /// that process's pid in `holder` (0 when it has not written it yet). Throws
  /// std::runtime_error when the lock file cannot be created.
  static std::optional<RunDirLock> try_acquire(const std::filesystem::path& dir, pid_t* holder);
  /// Takes the lock or throws std::runtime_error naming the directory, the holder's pid and
  /// the fix.
  static RunDirLock acquire(const std::filesystem::path& dir);

  RunDirLock(RunDirLock&& other) noexcept;
  RunDirLock& operator=(RunDirLock&& other) noexcept;
  RunDirLock(const RunDirLock&) = delete;
  RunDirLock& operator=(const RunDirLock&) = delete;
  ~RunDirLock();

  /// The lock file's name inside a run directory.
  static constexpr const char* kFileName = ".tailor-lock";

 private:
  explicit RunDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

/// runs/<name>/<timestamp>/ with its well-known files. Every RunDir holds the directory's
/// writer lock for its lifetime: a second process that opens the same directory to write
/// (`tailor run --resume` of a running run, an orphaned sweep run) is refused.
class RunDir {
 public:
  /// Creates <root>/<name>/<YYYYmmdd-HHMMSS>[-N]/ (a fresh directory, never reused) and
  /// locks it. `name` must be one path component (no '/', not "." or "..").
  static RunDir create(const std::filesystem::path& root, const std::string& name);
  /// Opens and locks an existing run directory (resume, or an empty --out directory), then
  /// removes temporary files an interrupted write left behind (`*.tmp`, `*.tmp.<pid>`).
  static RunDir open(const std::filesystem::path& dir);

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path file(const std::string& name) const { return path_ / name; }
  /// Appends one JSON object as a line to metrics.jsonl and flushes it.
  void append_metrics(const nlohmann::json& record);

 private:
  RunDir(std::filesystem::path path, RunDirLock lock)
      : path_(std::move(path)), lock_(std::move(lock)) {}
  std::filesystem::path path_;
  RunDirLock lock_;
};

/// Throws std::runtime_error unless `name` can name a run directory below output_dir: one
/// path component, not empty, not "." or "..", no '/' or '\\', no control characters.
void check_run_name(const std::string& name);

}  // namespace tailor::host
