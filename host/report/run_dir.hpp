// host/report/run_dir.hpp - the run directory, its single-writer lock, and crash-safe file
// writes.
#pragma once

#include <tailor/components.hpp>

#include <nlohmann/json_fwd.hpp>

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tailor::host {

/// Writes `content` to `path` atomically: a temporary file in the same directory, flushed
/// and fsync'ed, renamed over `path`, then the directory fsync'ed. Readers see the old file
/// or the new one, never a half-written one. On failure (a full disk: ENOSPC, or EFBIG under
/// a file-size limit) the temporary file is removed, `path` is untouched, and
/// std::runtime_error names the path and the system's reason.
void write_file_atomic(const std::filesystem::path& path, const std::string& content);

/// A loss's per-class vectors of one epoch, as plain numbers.
using ClassVectors = std::vector<std::pair<std::string, std::vector<double>>>;

/// Follows a run as it is written (TensorBoard event files). Called on the training thread.
class RunListener {
 public:
  virtual ~RunListener() = default;
  /// One record appended to metrics.jsonl (an epoch of one split).
  virtual void record(const nlohmann::json& record) = 0;
  /// Whether step() wants run step `step` (reading a loss from a GPU makes it wait).
  virtual bool wants_step(int64_t step) const = 0;
  /// The training loss and learning rate of run step `step`.
  virtual void step(int64_t step, double loss, double lr) = 0;
  /// The loss's per-class vectors after the training part of epoch `epoch` (1-based).
  virtual void class_vectors(int64_t epoch, const std::string& stage,
                             const ClassVectors& vectors) = 0;
};

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
  /// A run directory that another process holds and writes (rank 0 of a data-parallel run),
  /// for the other ranks: no lock, nothing removed, writer() false.
  static RunDir attach(const std::filesystem::path& dir);

  const std::filesystem::path& path() const { return path_; }
  /// Whether this process writes the run's files: rank 0 of a data-parallel run does, the
  /// other ranks only log (append_metrics and append_timing do nothing for them).
  bool writer() const { return writer_; }
  void set_writer(bool writer) { writer_ = writer; }
  std::filesystem::path file(const std::string& name) const { return path_ / name; }
  /// Appends one JSON object as a line to metrics.jsonl and flushes it; listeners see it.
  void append_metrics(const nlohmann::json& record);
  /// Drops the metrics.jsonl records of epochs after `completed` (recomputed after a resume).
  void truncate_metrics(int64_t completed);
  /// Appends one wall-clock throughput record to timing.jsonl (kept apart from the metrics,
  /// which stay reproducible byte for byte).
  void append_timing(int64_t epoch, const std::string& split, double seconds, int64_t images);
  /// Appends {"epoch", "stage", "vectors": {name: [C numbers]}} to class_vectors.jsonl
  /// (nothing when `vectors` is empty); listeners see them.
  void append_class_vectors(int64_t epoch, const std::string& stage, const NamedTensors& vectors);
  /// True when a listener wants the loss of run step `step`.
  bool wants_step(int64_t step) const;
  /// Passes one training step's loss and learning rate to the listeners that want it.
  void append_step(int64_t step, double loss, double lr);
  /// Adds a listener for the rest of the run.
  void listen(std::shared_ptr<RunListener> listener) { listeners_.push_back(std::move(listener)); }

 private:
  RunDir(std::filesystem::path path, std::optional<RunDirLock> lock)
      : path_(std::move(path)), lock_(std::move(lock)) {}
  std::filesystem::path path_;
  bool writer_ = true;
  std::vector<std::shared_ptr<RunListener>> listeners_;
  std::optional<RunDirLock> lock_;  // nullopt: attach()ed
};

/// Reads class_vectors.jsonl (or any JSON-lines file) keeping the records with epoch <=
/// `completed`: what a resumed run keeps before it recomputes later epochs.
void truncate_epochs(const std::filesystem::path& file, int64_t completed);

/// Throws std::runtime_error unless `name` can name a run directory below output_dir: one
/// path component, not empty, not "." or "..", no '/' or '\\', no control characters.
void check_run_name(const std::string& name);

}  // namespace tailor::host
