// host/report/tensorboard/event_file.cpp - event records, framing and checksums.
#include "report/tensorboard/event_file.hpp"

#ifdef TAILOR_HAVE_TENSORBOARD
#include "report/tensorboard/event.pb.h"
#endif

#include <unistd.h>
#include <boost/crc.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace fs = std::filesystem;

namespace tailor::host::tensorboard {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string host_name() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

}  // namespace

uint32_t masked_crc32c(const void* data, size_t size) {
  // CRC-32C: polynomial 0x1EDC6F41, reflected, initial and final XOR all ones.
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(data, size);
  const uint32_t c = crc.checksum();
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

#ifndef TAILOR_HAVE_TENSORBOARD
EventFile::EventFile(const fs::path& /*dir*/) {
  throw std::runtime_error(
      "[report] tensorboard = true: this tailor was built without Protocol Buffers, so it "
      "cannot write TensorBoard event files; install libprotobuf-dev and protobuf-compiler and "
      "rebuild, or set [report] tensorboard = false");
}
void EventFile::write(const std::string& /*event*/) {}
void EventFile::scalars(int64_t, const std::vector<std::pair<std::string, double>>&) {}
void EventFile::histogram(int64_t, const std::string&, const std::vector<double>&) {}
#else
// The messages of event.proto (package tailor.tensorboard).
namespace pb = ::tailor::tensorboard;

EventFile::EventFile(const fs::path& dir) {
  const double t = now_seconds();
  path_ =
      dir / ("events.out.tfevents." + std::to_string(static_cast<int64_t>(t)) + "." + host_name());
  // A resumed run in the same second gets its own file.
  for (int k = 1; fs::exists(path_); ++k)
    path_ = dir / ("events.out.tfevents." + std::to_string(static_cast<int64_t>(t)) + "." +
                   host_name() + "." + std::to_string(k));
  out_.open(path_, std::ios::binary);
  if (!out_) throw std::runtime_error("cannot create TensorBoard event file " + path_.string());
  pb::Event e;
  e.set_wall_time(t);
  e.set_file_version("brain.Event:2");
  write(e.SerializeAsString());
}

void EventFile::write(const std::string& event) {
  // TFRecord: uint64 length, uint32 masked CRC of the length, data, uint32 masked CRC of data.
  const uint64_t length = event.size();
  char header[12];
  std::memcpy(header, &length, 8);
  const uint32_t length_crc = masked_crc32c(header, 8);
  std::memcpy(header + 8, &length_crc, 4);
  const uint32_t data_crc = masked_crc32c(event.data(), event.size());
  out_.write(header, 12);
  out_.write(event.data(), static_cast<std::streamsize>(event.size()));
  out_.write(reinterpret_cast<const char*>(&data_crc), 4);
  out_.flush();
  if (!out_) throw std::runtime_error("cannot write TensorBoard event file " + path_.string());
}

void EventFile::scalars(int64_t step, const std::vector<std::pair<std::string, double>>& values) {
  if (values.empty()) return;
  pb::Event e;
  e.set_wall_time(now_seconds());
  e.set_step(step);
  pb::Summary* s = e.mutable_summary();
  for (const auto& [tag, v] : values) {
    pb::Summary::Value* value = s->add_value();
    value->set_tag(tag);
    value->set_simple_value(static_cast<float>(v));
  }
  write(e.SerializeAsString());
}

void EventFile::histogram(int64_t step, const std::string& tag, const std::vector<double>& values) {
  std::vector<double> v;
  for (double x : values)
    if (std::isfinite(x)) v.push_back(x);
  if (v.empty()) return;
  const auto [lo_it, hi_it] = std::minmax_element(v.begin(), v.end());
  const double lo = *lo_it, hi = *hi_it;
  pb::Event e;
  e.set_wall_time(now_seconds());
  e.set_step(step);
  pb::Summary::Value* value = e.mutable_summary()->add_value();
  value->set_tag(tag);
  pb::HistogramProto* h = value->mutable_histo();
  double sum = 0, squares = 0;
  for (double x : v) {
    sum += x;
    squares += x * x;
  }
  h->set_min(lo);
  h->set_max(hi);
  h->set_num(static_cast<double>(v.size()));
  h->set_sum(sum);
  h->set_sum_squares(squares);
  const int buckets = hi > lo ? static_cast<int>(std::min<size_t>(v.size(), 30)) : 1;
  std::vector<double> counts(static_cast<size_t>(buckets), 0);
  for (double x : v) {
    const int b =
        hi > lo ? std::min(buckets - 1, static_cast<int>((x - lo) / (hi - lo) * buckets)) : 0;
    counts[static_cast<size_t>(b)] += 1;
  }
  for (int b = 0; b < buckets; ++b) {
    h->add_bucket_limit(b + 1 == buckets ? hi : lo + (hi - lo) * (b + 1) / buckets);
    h->add_bucket(counts[static_cast<size_t>(b)]);
  }
  write(e.SerializeAsString());
}

#endif  // TAILOR_HAVE_TENSORBOARD

std::vector<std::pair<std::string, double>> record_scalars(const nlohmann::json& record) {
  std::vector<std::pair<std::string, double>> out;
  const std::string split = record.value("split", std::string("?"));
  for (const char* key :
       {"loss", "lr", "top1", "top5", "mean_class_recall", "mean_class_precision", "ece", "tau"})
    if (record.contains(key) && record[key].is_number())
      out.emplace_back(split + "/" + key, record[key].get<double>());
  for (const char* group : {"many", "medium", "few"})
    if (record.contains(group) && record[group].is_object() &&
        record[group].value("classes", 0) > 0) {
      out.emplace_back(split + "/" + group, record[group].value("accuracy", 0.0));
      out.emplace_back(split + "/" + group + "_ece", record[group].value("ece", 0.0));
    }
  return out;
}

Listener::Listener(const fs::path& run_dir, const ReportOptions& options)
    : file_(run_dir), step_every_(options.tensorboard_step_every) {}

void Listener::record(const nlohmann::json& record) {
  file_.scalars(record.value("epoch", int64_t{0}), record_scalars(record));
}

bool Listener::wants_step(int64_t step) const {
  return step_every_ > 0 && step % step_every_ == 0;
}

void Listener::step(int64_t step, double loss, double lr) {
  file_.scalars(step, {{"step/loss", loss}, {"step/lr", lr}});
}

void Listener::class_vectors(int64_t epoch, const std::string& /*stage*/,
                             const ClassVectors& vectors) {
  for (const auto& [name, values] : vectors)
    file_.histogram(epoch, "class_vectors/" + name, values);
}

}  // namespace tailor::host::tensorboard
