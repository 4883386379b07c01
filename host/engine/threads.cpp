// host/engine/threads.cpp - affinity- and cgroup-aware core count.
#include "engine/threads.hpp"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

namespace tailor::host {
namespace {

// Returns quota/period as cores, or 0 when unlimited or unreadable.
double cgroup_quota_cores() {
  std::ifstream v2("/sys/fs/cgroup/cpu.max");
  std::string quota;
  double period = 0;
  if (v2 >> quota >> period) {
    if (quota == "max" || period <= 0) return 0;
    return std::stod(quota) / period;
  }
  std::ifstream q1("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), p1("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
  double q = 0, p = 0;
  if (q1 >> q && p1 >> p && q > 0 && p > 0) return q / p;
  return 0;
}

}  // namespace

int usable_cores(std::string* how) {
  int cores = static_cast<int>(std::thread::hardware_concurrency());
  std::ostringstream why;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    cores = CPU_COUNT(&set);
    why << cores << " in the CPU affinity mask";
  } else {
    why << cores << " online";
  }
  const double quota = cgroup_quota_cores();
  if (quota > 0 && std::ceil(quota) < cores) {
    cores = static_cast<int>(std::ceil(quota));
    why << ", limited to " << cores << " by the cgroup CPU quota";
  }
  cores = std::max(cores, 1);
  if (how != nullptr) *how = why.str();
  return cores;
}

}  // namespace tailor::host
