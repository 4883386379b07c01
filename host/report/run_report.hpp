// host/report/run_report.hpp - report.html of one run: curves, per-class recall against train
// count, reliability diagrams, confusions and the loss's per-class vectors, rendered from the
// files of the run directory alone.
#pragma once

#include <filesystem>
#include <string>

namespace tailor::host {

/// The report of the run in `run_dir` as one self-contained HTML document. Needs
/// metrics.jsonl; summary.json, per_class.csv, confusion_test_last.csv,
/// predictions_test_last.bin and class_vectors.jsonl add their sections when present (a run
/// still training has some of them only). Throws std::runtime_error naming the directory or
/// the unreadable file.
std::string render_run_report(const std::filesystem::path& run_dir);

/// Writes render_run_report() to <run_dir>/report.html atomically; returns its path.
std::filesystem::path write_run_report(const std::filesystem::path& run_dir);

}  // namespace tailor::host
