// host/engine/threads.cpp - affinity- and cgroup-aware core count.
#include "engine/threads.hpp"

#include <sched.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace tailor::host {
namespace {

namespace fs = std::filesystem;

// This process's cgroup path for the v2 hierarchy ("0::/a/b") or the v1 cpu controller
// ("4:cpu,cpuacct:/a/b"); "/" when not found.
std::string own_cgroup(bool v2) {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    const auto first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (v2 && line.compare(0, first, "0") == 0 && controllers.empty()) return path;
    if (!v2) {
      std::istringstream list(controllers);
      for (std::string c; std::getline(list, c, ',');)
        if (c == "cpu") return path;
    }
  }
  return "/";
}

// The smallest quota in cores over the cgroup `cgroup` under `mount` and its ancestors, 0 if
// none is set.
template <class Read>
double smallest_quota(const fs::path& mount, const std::string& cgroup, Read read) {
  double cores = 0;
  for (fs::path rel = fs::path(cgroup).relative_path();; rel = rel.parent_path()) {
    const double q = read(rel.empty() ? mount : mount / rel);
    if (q > 0 && (cores == 0 || q < cores)) cores = q;
    if (rel.empty()) break;
  }
  return cores;
}

// Returns the CPU quota of this process's cgroup and its ancestors as cores, or 0 when
// unlimited or unreadable.
double cgroup_quota_cores() {
  const fs::path v2_root = "/sys/fs/cgroup";
  std::error_code ec;
  if (fs::exists(v2_root / "cgroup.controllers", ec))
    return smallest_quota(v2_root, own_cgroup(true), [](const fs::path& dir) {
      std::ifstream in(dir / "cpu.max");
      std::string quota;
      double period = 0;
      if (!(in >> quota >> period) || quota == "max" || period <= 0) return 0.0;
      return std::stod(quota) / period;
    });
  for (const char* mount : {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"}) {
    if (!fs::is_directory(mount, ec)) continue;
    return smallest_quota(mount, own_cgroup(false), [](const fs::path& dir) {
      std::ifstream q(dir / "cpu.cfs_quota_us"), p(dir / "cpu.cfs_period_us");
      double quota = 0, period = 0;
      if (!(q >> quota) || !(p >> period) || quota <= 0 || period <= 0) return 0.0;
      return quota / period;
    });
  }
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

void keep_freed_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

}  // namespace tailor::host
