// host/plugins/host_api.hpp - the services table the host hands to every plugin.
#pragma once

#include <tailor/abi.h>
#include <tailor/components.hpp>

#include <string>
#include <utility>
#include <vector>

namespace tailor::host {

/// What a TailorTensorDict handle points to.
struct TensorDict {
  NamedTensors items;

  TailorTensorDict handle() { return reinterpret_cast<TailorTensorDict>(this); }
};

class Collective;

/// The process-wide host API table (logging through spdlog, tensor-dict access,
/// collectives for plugins).
const TailorHostApi* host_api();

/// The data-parallel group plugins reach through TailorHostApi.world_size/all_reduce_sum
/// (null: a single process, world size 1).
void set_host_collective(Collective* collective);

/// The TailorHostInfo passed to every entry point: ABI version, fingerprint, API.
const TailorHostInfo* host_info();

/// The host's own build fingerprint (the same values a matching plugin carries).
const TailorBuildFingerprint& host_fingerprint();

/// Name of the exported marker symbol a compatible plugin must carry.
const char* host_fingerprint_marker();

}  // namespace tailor::host
