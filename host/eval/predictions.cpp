// host/eval/predictions.cpp - writing and checking predictions files.
#include "eval/predictions.hpp"

#include "report/run_dir.hpp"

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

static_assert(sizeof(float) == 4, "the predictions file stores IEEE float32");

namespace tailor::host {
namespace {

constexpr uint32_t kHeaderSize = 32;
constexpr uint32_t kRecordSize = 16;

// The file is little-endian; so is every machine tailor is built for (x86-64, aarch64).
template <class T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

template <class T>
T get(const std::string& in, size_t at) {
  T value;
  std::memcpy(&value, in.data() + at, sizeof(T));
  return value;
}

}  // namespace

void write_predictions(const std::filesystem::path& path, const SampleOutcomes& s, int64_t classes,
                       int64_t epoch) {
  std::string out;
  out.reserve(kHeaderSize + kRecordSize * s.size());
  out.append(kPredictionsMagic, 4);
  put<uint32_t>(out, kPredictionsVersion);
  put<uint32_t>(out, kHeaderSize);
  put<uint32_t>(out, kRecordSize);
  put<uint64_t>(out, s.size());
  put<uint32_t>(out, static_cast<uint32_t>(classes));
  put<uint32_t>(out, static_cast<uint32_t>(epoch));
  for (size_t i = 0; i < s.size(); ++i) {
    put<int32_t>(out, s.label[i]);
    put<int32_t>(out, s.predicted[i]);
    put<float>(out, s.max_prob[i]);
    put<float>(out, s.true_prob[i]);
  }
  write_file_atomic(path, out);
}

Predictions read_predictions(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    throw std::runtime_error("cannot read predictions file " + path.string() +
                             " (missing: runs made before predictions were saved have none; "
                             "rerun the run to get it)");
  const std::string in((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const std::string where = "predictions file " + path.string() + ": ";
  if (in.size() < kHeaderSize || std::memcmp(in.data(), kPredictionsMagic, 4) != 0)
    throw std::runtime_error(where + "not a tailor predictions file (no 'TLPR' header)");
  const auto version = get<uint32_t>(in, 4);
  if (version != kPredictionsVersion)
    throw std::runtime_error(where + "format version " + std::to_string(version) +
                             ", this tailor reads version " + std::to_string(kPredictionsVersion) +
                             "; upgrade tailor");
  const auto header = get<uint32_t>(in, 8);
  const auto record = get<uint32_t>(in, 12);
  const auto count = get<uint64_t>(in, 16);
  Predictions p;
  p.classes = get<uint32_t>(in, 24);
  p.epoch = get<uint32_t>(in, 28);
  if (header < kHeaderSize || record < kRecordSize || p.classes == 0)
    throw std::runtime_error(where + "corrupt header (header " + std::to_string(header) +
                             " bytes, record " + std::to_string(record) + " bytes, " +
                             std::to_string(p.classes) + " classes)");
  const uint64_t expected = header + count * record;
  if (count > (in.size() / record) + 1 || in.size() != expected)
    throw std::runtime_error(where + std::to_string(in.size()) + " bytes where the header (" +
                             std::to_string(count) + " samples) needs " + std::to_string(expected) +
                             "; the file is truncated or damaged: rerun the run");
  auto& s = p.samples;
  s.label.resize(count);
  s.predicted.resize(count);
  s.max_prob.resize(count);
  s.true_prob.resize(count);
  const auto classes = static_cast<int32_t>(p.classes);
  for (uint64_t i = 0; i < count; ++i) {
    const size_t at = header + i * record;
    s.label[i] = get<int32_t>(in, at);
    s.predicted[i] = get<int32_t>(in, at + 4);
    s.max_prob[i] = get<float>(in, at + 8);
    s.true_prob[i] = get<float>(in, at + 12);
    const bool ok = s.label[i] >= 0 && s.label[i] < classes && s.predicted[i] >= 0 &&
                    s.predicted[i] < classes && s.max_prob[i] >= 0.f && s.max_prob[i] <= 1.f &&
                    s.true_prob[i] >= 0.f && s.true_prob[i] <= 1.f;
    if (!ok)
      throw std::runtime_error(where + "sample " + std::to_string(i) + " is out of range (class " +
                               std::to_string(s.label[i]) + ", predicted " +
                               std::to_string(s.predicted[i]) + " of " + std::to_string(p.classes) +
                               " classes, or a probability outside [0, 1]); the file is "
                               "damaged: rerun the run");
  }
  return p;
}

}  // namespace tailor::host
