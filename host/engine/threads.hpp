// host/engine/threads.hpp - how many CPU cores this process may use.
#pragma once

#include <string>

namespace tailor::host {

/// Cores available to this process: the CPU affinity mask, further limited by a cgroup v2
/// CPU quota (cpu.max) or a cgroup v1 CFS quota when one is set. At least 1.
int usable_cores(std::string* how = nullptr);

}  // namespace tailor::host
