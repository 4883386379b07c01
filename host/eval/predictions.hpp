// host/eval/predictions.hpp - the predictions file: every test sample's outcome, so paired
// tests and calibration plots need no re-evaluation.
//
// Layout (little-endian, docs/reports.md):
//   offset  size  field
//        0     4  magic "TLPR"
//        4     4  uint32 format version (1)
//        8     4  uint32 header size in bytes (32)
//       12     4  uint32 record size in bytes (16)
//       16     8  uint64 samples N
//       24     4  uint32 classes C
//       28     4  uint32 epoch the predictions come from (1-based over every stage)
//       32  16 N  one record per sample, in split order:
//                 int32 true class, int32 predicted class,
//                 float32 probability of the predicted class, float32 of the true class
// A reader accepts a larger header or record (fields appended later) and checks the size.
#pragma once

#include "eval/metrics.hpp"

#include <cstdint>
#include <filesystem>

namespace tailor::host {

inline constexpr char kPredictionsMagic[4] = {'T', 'L', 'P', 'R'};
inline constexpr uint32_t kPredictionsVersion = 1;

/// One predictions file read back.
struct Predictions {
  uint32_t classes = 0;
  uint32_t epoch = 0;
  SampleOutcomes samples;
};

/// Writes `samples` atomically (temporary file, then rename). Throws std::runtime_error
/// naming the path when it cannot.
void write_predictions(const std::filesystem::path& path, const SampleOutcomes& samples,
                       int64_t classes, int64_t epoch);

/// Reads and checks a predictions file: magic, version, sizes against the file length,
/// classes in range, probabilities in [0, 1]. Throws std::runtime_error naming the file, what
/// is wrong and what to do.
Predictions read_predictions(const std::filesystem::path& path);

}  // namespace tailor::host
