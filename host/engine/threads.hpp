// host/engine/threads.hpp - how many CPU cores this process may use.
#pragma once

#include <string>

namespace tailor::host {

/// Cores available to this process: the CPU affinity mask, further limited by the smallest
/// CPU quota set on this process's cgroup or an ancestor (cgroup v2 cpu.max, or the v1 CFS
/// quota of the cpu controller), as /proc/self/cgroup names it. At least 1.
int usable_cores(std::string* how = nullptr);

}  // namespace tailor::host
