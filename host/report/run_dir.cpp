// host/report/run_dir.cpp - run directory layout and atomic writes.
#include "report/run_dir.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace fs = std::filesystem;

namespace tailor::host {

void write_file_atomic(const fs::path& path, const std::string& content) {
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(errno));
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      throw std::runtime_error("cannot write " + path.string() + ": " + why);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot write " + path.string() + ": " + why);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot replace " + path.string() + ": " + why);
  }
}

RunDir RunDir::create(const fs::path& root, const std::string& name) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  ::localtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  const fs::path parent = root / name;
  fs::create_directories(parent);
  for (int suffix = 0;; ++suffix) {
    fs::path dir = parent / (suffix == 0 ? std::string(stamp)
                                         : std::string(stamp) + "-" + std::to_string(suffix));
    if (fs::create_directory(dir)) {
      fs::create_directories(dir / "checkpoints");
      return RunDir(dir);
    }
  }
}

RunDir RunDir::open(const fs::path& dir) {
  if (!fs::is_directory(dir))
    throw std::runtime_error("run directory " + dir.string() + " does not exist");
  return RunDir(fs::canonical(dir));
}

void RunDir::append_metrics(const nlohmann::json& record) {
  if (!writer_) return;
  std::ofstream out(file("metrics.jsonl"), std::ios::app);
  out << record.dump() << '\n';
  out.flush();
  if (!out) throw std::runtime_error("cannot append to " + file("metrics.jsonl").string());
  for (const auto& l : listeners_) l->record(record);
}

void RunDir::append_class_vectors(int64_t epoch, const std::string& stage,
                                  const NamedTensors& vectors) {
  if (!writer_ || vectors.empty()) return;
  ClassVectors plain;
  nlohmann::json map = nlohmann::json::object();
  for (const auto& [name, t] : vectors) {
    if (!t.defined()) continue;
    const at::Tensor d = t.detach().to(at::kCPU, at::kDouble).contiguous().view(-1);
    std::vector<double> v(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
    nlohmann::json values = nlohmann::json::array();
    for (double x : v) values.push_back(std::isfinite(x) ? nlohmann::json(x) : nlohmann::json());
    map[name] = std::move(values);
    plain.emplace_back(name, std::move(v));
  }
  if (plain.empty()) return;
  const nlohmann::json record = {{"epoch", epoch}, {"stage", stage}, {"vectors", map}};
  std::ofstream out(file("class_vectors.jsonl"), std::ios::app);
  out << record.dump() << '\n';
  out.flush();
  if (!out) throw std::runtime_error("cannot append to " + file("class_vectors.jsonl").string());
  for (const auto& l : listeners_) l->class_vectors(epoch, stage, plain);
}

bool RunDir::wants_step(int64_t step) const {
  for (const auto& l : listeners_)
    if (l->wants_step(step)) return true;
  return false;
}

void RunDir::append_step(int64_t step, double loss, double lr) {
  for (const auto& l : listeners_)
    if (l->wants_step(step)) l->step(step, loss, lr);
}

void truncate_epochs(const fs::path& file, int64_t completed) {
  std::ifstream in(file);
  if (!in) return;
  std::string kept, line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded() && j.value("epoch", int64_t{0}) <= completed) kept += line + "\n";
  }
  in.close();
  write_file_atomic(file, kept);
}

void RunDir::truncate_metrics(int64_t completed) {
  if (!writer_) return;
  std::ifstream in(file("metrics.jsonl"));
  if (!in) return;
  std::string kept, line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded() && j.value("epoch", int64_t{0}) <= completed) kept += line + "\n";
  }
  in.close();
  write_file_atomic(file("metrics.jsonl"), kept);
}

void RunDir::append_timing(int64_t epoch, const std::string& split, double seconds,
                           int64_t images) {
  if (!writer_) return;
  std::ofstream(file("timing.jsonl"), std::ios::app)
      << nlohmann::json({{"epoch", epoch},
                         {"split", split},
                         {"seconds", seconds},
                         {"images", images},
                         {"images_per_s", images / std::max(seconds, 1e-9)}})
             .dump()
      << "\n";
}

}  // namespace tailor::host
