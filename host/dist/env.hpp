// host/dist/env.hpp - where this process stands in a data-parallel job, read from the
// environment that torchrun, Slurm's srun or `tailor run --nproc` set.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace tailor::host {

/// One process's place in the job. A single process is rank 0 of 1.
struct DistEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string launcher = "single";  ///< torchrun, slurm, tailor, or single
  /// Under torchrun the elastic agent already hosts a TCPStore at MASTER_ADDR:MASTER_PORT
  /// (TORCHELASTIC_USE_AGENT_STORE=True): every rank is then a client, and the job's keys live
  /// under this prefix ("/worker/attempt_<TORCHELASTIC_RESTART_COUNT>"), as in PyTorch's
  /// env:// rendezvous. Empty: rank 0 hosts the store itself.
  std::string agent_store_prefix;

  bool distributed() const { return world_size > 1; }
};

/// Reads the variables torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
/// MASTER_ADDR, MASTER_PORT), or Slurm's (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID,
/// SLURM_NTASKS_PER_NODE or SLURM_TASKS_PER_NODE, with MASTER_ADDR given by the batch script),
/// and torchrun's TORCHELASTIC_USE_AGENT_STORE / TORCHELASTIC_RESTART_COUNT.
/// Neither: a single process. `getenv` is injectable for tests. Throws std::runtime_error
/// naming the variable for a malformed or inconsistent value.
DistEnv read_dist_env(const std::function<const char*(const char*)>& getenv = {});

}  // namespace tailor::host
