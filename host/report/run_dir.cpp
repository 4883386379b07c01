// host/report/run_dir.cpp - run directory layout, its writer lock, and atomic writes.
#include "report/run_dir.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <regex>
#include <stdexcept>

namespace fs = std::filesystem;

namespace tailor::host {
namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

// Makes a rename in `dir` durable (best effort: some file systems refuse fsync on a
// directory, which loses nothing already written).
void sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// The pid recorded in an open lock file; 0 when none is there, or when it names a process
// that no longer exists (a holder killed with SIGKILL leaves its pid behind; the lock is
// then held by a process that has not written its own pid yet, or by another program).
pid_t read_holder(int fd) {
  char text[32] = {0};
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  if (n <= 0) return 0;
  const auto pid = static_cast<pid_t>(std::strtol(text, nullptr, 10));
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno == ESRCH)) return 0;
  return pid;
}

// Removes what an interrupted write_file_atomic or write_artifact left in `dir`.
void remove_temporaries(const fs::path& dir) {
  static const std::regex kTemporary(R"(.+\.tmp(\.[0-9]+)?)");
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file(ec) || !std::regex_match(name, kTemporary)) continue;
    if (fs::remove(entry.path(), ec))
      spdlog::info("removed {}, left by an interrupted write", entry.path().string());
  }
}

}  // namespace

void write_file_atomic(const fs::path& path, const std::string& content) {
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot write " + path.string() + ": " + errno_text(errno));
  auto fail = [&](const std::string& verb, int err, bool close_fd) {
    if (close_fd) ::close(fd);
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot " + verb + " " + path.string() + ": " + errno_text(err));
  };
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write", errno, true);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) fail("write", errno, true);
  if (::close(fd) != 0) fail("write", errno, false);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("replace", errno, false);
  sync_directory(path.parent_path());
}

// -- RunDirLock ---------------------------------------------------------------------------

std::optional<RunDirLock> RunDirLock::try_acquire(const fs::path& dir, pid_t* holder) {
  const fs::path file = dir / kFileName;
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    throw std::runtime_error("cannot lock run directory " + dir.string() + ": cannot open " +
                             file.string() + ": " + errno_text(errno));
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    if (err == EWOULDBLOCK) {
      if (holder != nullptr) *holder = read_holder(fd);
      ::close(fd);
      return std::nullopt;
    }
    ::close(fd);
    throw std::runtime_error("cannot lock run directory " + dir.string() + ": " + errno_text(err));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0)
    spdlog::debug("cannot record the pid in {}: {}", file.string(), errno_text(errno));
  return RunDirLock(fd);
}

RunDirLock RunDirLock::acquire(const fs::path& dir) {
  pid_t holder = 0;
  if (auto lock = try_acquire(dir, &holder)) return std::move(*lock);
  const std::string who = holder > 0 ? "process " + std::to_string(holder) : "another process";
  throw std::runtime_error(
      "run directory " + dir.string() + " is in use: " + who +
      " is writing it (two writers would interleave its metrics and checkpoints). Wait for it "
      "to finish, or stop it" +
      (holder > 0 ? " (kill -INT " + std::to_string(holder) + ")" : "") +
      " and then continue with `tailor run --resume " + dir.string() + "`");
}

RunDirLock::RunDirLock(RunDirLock&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

RunDirLock& RunDirLock::operator=(RunDirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

RunDirLock::~RunDirLock() {
  if (fd_ < 0) return;
  [[maybe_unused]] const int cleared = ::ftruncate(fd_, 0);  // the pid is stale from here on
  ::close(fd_);  // closing the last descriptor releases the flock
}

// -- RunDir -------------------------------------------------------------------------------

void check_run_name(const std::string& name) {
  std::string why;
  if (name.empty())
    why = "it is empty";
  else if (name == "." || name == "..")
    why = "it names a directory above the run";
  else if (name.find('/') != std::string::npos || name.find('\\') != std::string::npos)
    why = "it contains a path separator, so the run directory would land elsewhere";
  else
    for (char c : name)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
        why = "it contains a control character";
  if (!why.empty())
    throw std::runtime_error("[experiment] name = \"" + name +
                             "\" cannot name a run directory: " + why +
                             "; use a plain name such as \"cifar10_lt_ce\" and put "
                             "directories in [experiment] output_dir");
}

RunDir RunDir::create(const fs::path& root, const std::string& name) {
  check_run_name(name);
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
      RunDirLock lock = RunDirLock::acquire(dir);
      fs::create_directories(dir / "checkpoints");
      return RunDir(dir, std::move(lock));
    }
  }
}

RunDir RunDir::open(const fs::path& dir) {
  if (!fs::is_directory(dir))
    throw std::runtime_error("run directory " + dir.string() + " does not exist");
  const fs::path canonical = fs::canonical(dir);
  RunDirLock lock = RunDirLock::acquire(canonical);
  remove_temporaries(canonical);
  remove_temporaries(canonical / "checkpoints");
  return RunDir(canonical, std::move(lock));
}

RunDir RunDir::attach(const fs::path& dir) {
  if (!fs::is_directory(dir))
    throw std::runtime_error("run directory " + dir.string() + " does not exist");
  RunDir run(fs::canonical(dir), std::nullopt);
  run.set_writer(false);
  return run;
}

void RunDir::append_metrics(const nlohmann::json& record) {
  if (!writer_) return;
  std::ofstream out(file("metrics.jsonl"), std::ios::app);
  out << record.dump() << '\n';
  out.flush();
  if (!out)
    throw std::runtime_error("cannot append to " + file("metrics.jsonl").string() + ": " +
                             errno_text(errno));
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
  if (writer_) truncate_epochs(file("metrics.jsonl"), completed);
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
