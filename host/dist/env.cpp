// host/dist/env.cpp - torchrun and Slurm environment variables.
#include "dist/env.hpp"

#include <cstdlib>
#include <stdexcept>

namespace tailor::host {
namespace {

int parse_int(const char* name, const char* text, int lo) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < lo || v > 1 << 24)
    throw std::runtime_error(std::string(name) + "=" + text +
                             ": expected a whole number >= " + std::to_string(lo));
  return static_cast<int>(v);
}

}  // namespace

DistEnv read_dist_env(const std::function<const char*(const char*)>& getenv_fn) {
  auto get = [&](const char* name) -> const char* {
    const char* v = getenv_fn ? getenv_fn(name) : std::getenv(name);
    return v != nullptr && *v != '\0' ? v : nullptr;
  };
  auto number = [&](const char* name, int fallback, int lo) {
    const char* v = get(name);
    return v != nullptr ? parse_int(name, v, lo) : fallback;
  };
  DistEnv env;
  if (get("RANK") != nullptr || get("WORLD_SIZE") != nullptr) {
    if (get("RANK") == nullptr || get("WORLD_SIZE") == nullptr)
      throw std::runtime_error(
          "RANK and WORLD_SIZE must be set together (torchrun sets both); set both or neither");
    env.launcher = get("TAILOR_LAUNCHER") != nullptr ? get("TAILOR_LAUNCHER") : "torchrun";
    env.rank = number("RANK", 0, 0);
    env.world_size = number("WORLD_SIZE", 1, 1);
    env.local_rank = number("LOCAL_RANK", env.rank, 0);
    env.local_world_size = number("LOCAL_WORLD_SIZE", env.world_size, 1);
    const char* agent = get("TORCHELASTIC_USE_AGENT_STORE");
    if (agent != nullptr && std::string(agent) == "True")
      env.agent_store_prefix =
          "/worker/attempt_" + std::to_string(number("TORCHELASTIC_RESTART_COUNT", 0, 0));
  } else if (get("SLURM_PROCID") != nullptr && get("SLURM_NTASKS") != nullptr) {
    env.launcher = "slurm";
    env.rank = number("SLURM_PROCID", 0, 0);
    env.world_size = number("SLURM_NTASKS", 1, 1);
    env.local_rank = number("SLURM_LOCALID", 0, 0);
    // SLURM_NTASKS_PER_NODE is set with --ntasks-per-node; SLURM_TASKS_PER_NODE reads "4(x2)".
    if (const char* per_node = get("SLURM_NTASKS_PER_NODE"))
      env.local_world_size = parse_int("SLURM_NTASKS_PER_NODE", per_node, 1);
    else if (const char* tasks = get("SLURM_TASKS_PER_NODE"))
      env.local_world_size = std::max(1, std::atoi(tasks));
    if (env.world_size > 1 && get("MASTER_ADDR") == nullptr)
      throw std::runtime_error(
          "Slurm job of " + std::to_string(env.world_size) +
          " tasks without MASTER_ADDR: export MASTER_ADDR (the first node's hostname, e.g. "
          "$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1)) and MASTER_PORT in "
          "the batch script before srun");
  } else {
    return env;
  }
  if (env.rank >= env.world_size)
    throw std::runtime_error("rank " + std::to_string(env.rank) + " is not below the world size " +
                             std::to_string(env.world_size));
  if (env.local_rank >= env.local_world_size)
    throw std::runtime_error("local rank " + std::to_string(env.local_rank) +
                             " is not below the local world size " +
                             std::to_string(env.local_world_size));
  if (const char* addr = get("MASTER_ADDR")) env.master_addr = addr;
  env.master_port = number("MASTER_PORT", env.master_port, 1);
  if (env.master_port > 65535)
    throw std::runtime_error("MASTER_PORT=" + std::to_string(env.master_port) +
                             ": a TCP port is at most 65535");
  return env;
}

}  // namespace tailor::host
