// host/report/tensorboard/event_file.hpp - TensorBoard event files: Event protobuf messages
// in TFRecord framing (length, masked CRC-32C of the length, data, masked CRC-32C of the
// data), and the run listener that fills them.
#pragma once

#include "report/options.hpp"
#include "report/run_dir.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tailor::host::tensorboard {

/// CRC-32C (Castagnoli) of `data`, masked as TFRecord stores it:
/// ((crc >> 15) | (crc << 17)) + 0xa282ead8.
uint32_t masked_crc32c(const void* data, size_t size);

/// Appends events to one events.out.tfevents.<seconds>.<host> file; every record is flushed,
/// so a killed run leaves whole records behind.
class EventFile {
 public:
  /// Creates the file in `dir` and writes the file_version record. Throws std::runtime_error
  /// naming the file when it cannot.
  explicit EventFile(const std::filesystem::path& dir);
  const std::filesystem::path& path() const { return path_; }

  /// One scalar per (tag, value) at `step`, in one event.
  void scalars(int64_t step, const std::vector<std::pair<std::string, double>>& values);
  /// A histogram of `values` at `step` (equal-width buckets between their min and max).
  void histogram(int64_t step, const std::string& tag, const std::vector<double>& values);

 private:
  void write(const std::string& event);
  std::filesystem::path path_;
  std::ofstream out_;
};

/// Writes a run's metrics.jsonl records as scalars (tag "<split>/<metric>", step = epoch),
/// the training loss and lr every `step_every` steps ("step/loss", "step/lr"), and each
/// per-class vector as a histogram ("class_vectors/<name>", step = epoch).
class Listener final : public RunListener {
 public:
  Listener(const std::filesystem::path& run_dir, const ReportOptions& options);
  void record(const nlohmann::json& record) override;
  bool wants_step(int64_t step) const override;
  void step(int64_t step, double loss, double lr) override;
  void class_vectors(int64_t epoch, const std::string& stage, const ClassVectors& vectors) override;
  const std::filesystem::path& path() const { return file_.path(); }

 private:
  EventFile file_;
  int64_t step_every_;
};

/// The scalars of one metrics.jsonl record, as the listener names them.
std::vector<std::pair<std::string, double>> record_scalars(const nlohmann::json& record);

}  // namespace tailor::host::tensorboard
