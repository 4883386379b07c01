// host/cli/run_control.cpp - signals, progress bar, fault injection.
#include "cli/run_control.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace tailor::host {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::atomic<int> g_signal{0};
extern "C" void on_signal(int sig) {
  g_signal.store(sig);
  std::signal(sig, SIG_DFL);  // a second Ctrl-C kills at once
}

double seconds_since(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

}  // namespace

// A one-line progress bar on a terminal; nothing otherwise (the log lines suffice).
struct RunControl::Bar {
  std::string label;
  int64_t total = 0;
  bool drawn = false;
  double last = -1;
  SteadyClock::time_point start = SteadyClock::now();

  ~Bar() {
    if (drawn) std::fprintf(stderr, "\r\033[K");
  }
  void update(int64_t done, int64_t images) {
    const double t = seconds_since(start);
    if (t - last < 0.25 && done < total) return;
    last = t;
    const double rate = images / std::max(t, 1e-9);
    const double eta = done > 0 ? t * static_cast<double>(total - done) / done : 0;
    const int width = 24, filled = static_cast<int>(width * done / std::max<int64_t>(total, 1));
    std::fprintf(stderr, "\r\033[K%s [%s%s] %lld/%lld  %.0f img/s  ETA %dm%02ds", label.c_str(),
                 std::string(filled, '=').c_str(), std::string(width - filled, ' ').c_str(),
                 static_cast<long long>(done), static_cast<long long>(total), rate,
                 static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
    drawn = true;
  }
};

RunControl::RunControl() {
  g_signal.store(0);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

RunControl::~RunControl() {
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

void RunControl::epoch_begin(const std::string& label, int64_t steps) {
  bar_.reset();
  if (::isatty(STDERR_FILENO) == 0) return;
  bar_ = std::make_unique<Bar>();
  bar_->label = label;
  bar_->total = steps;
}

// TAILOR_FAULT_AT="<INT|TERM|KILL>@<epoch>:<step>" raises that signal before the given step
// (1-based epoch over all stages, 0-based step): a test aid for interruption and resume.
void RunControl::step_begin(int64_t epoch, int64_t step) {
  static const char* spec = std::getenv("TAILOR_FAULT_AT");
  if (spec == nullptr || *spec == '\0') return;
  char name[8] = {0};
  long long e = 0, s = 0;
  if (std::sscanf(spec, "%7[A-Z]@%lld:%lld", name, &e, &s) != 3) return;
  if (e != epoch || s != step) return;
  const std::string n = name;
  std::raise(n == "KILL" ? SIGKILL : n == "TERM" ? SIGTERM : SIGINT);
}

void RunControl::step_end(int64_t done, int64_t images) {
  if (bar_) bar_->update(done, images);
}

void RunControl::epoch_end() {
  bar_.reset();
}

int RunControl::stop_signal() const {
  return g_signal.load();
}

}  // namespace tailor::host
