// host/engine/threads.hpp - how many CPU cores this process may use.
#pragma once

#include <string>

namespace tailor::host {

/// Cores available to this process: the CPU affinity mask, further limited by the smallest
/// CPU quota set on this process's cgroup or an ancestor (cgroup v2 cpu.max, or the v1 CFS
/// quota of the cpu controller), as /proc/self/cgroup names it. At least 1.
int usable_cores(std::string* how = nullptr);

/// Keeps freed blocks up to 32 MiB in glibc's heap (and trims it only past 1 GiB free at its
/// top): every training step frees and reallocates the same activation tensors, and handing
/// them back to the kernel each time costs a fifth of a small CPU model's step in page faults.
/// The peak resident size does not change. A no-op without glibc.
void keep_freed_memory();

}  // namespace tailor::host
