// host/dist/spawn.hpp - `tailor run --nproc N`: N local ranks without torchrun.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tailor::host {

/// Starts `nproc` copies of `executable` with `args`, as torchrun --nproc-per-node would:
/// RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1 and a free
/// MASTER_PORT in their environment (TAILOR_THREADS, when set, split between them). SIGINT
/// and SIGTERM are forwarded; the ranks die with this process. Waits for all of them and
/// returns 0 when every rank succeeded, else the exit status of the first rank that failed
/// (128 + signal for a killed one), after saying which rank it was.
int spawn_local_ranks(int nproc, const std::filesystem::path& executable,
                      const std::vector<std::string>& args);

/// A TCP port on 127.0.0.1 that nothing listens on right now.
int free_local_port();

}  // namespace tailor::host
