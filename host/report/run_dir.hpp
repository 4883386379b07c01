// host/report/run_dir.hpp - the run directory and crash-safe file writes.
#pragma once

#include <tailor/components.hpp>

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tailor::host {

/// Writes `content` to `path` atomically: a temporary file in the same directory, flushed
/// and fsync'ed, then renamed over `path`. Readers see the old file or the new one, never a
/// half-written one. Throws std::runtime_error naming the path on failure.
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
  explicit RunDir(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
  bool writer_ = true;
  std::vector<std::shared_ptr<RunListener>> listeners_;
};

/// Reads class_vectors.jsonl (or any JSON-lines file) keeping the records with epoch <=
/// `completed`: what a resumed run keeps before it recomputes later epochs.
void truncate_epochs(const std::filesystem::path& file, int64_t completed);

}  // namespace tailor::host
