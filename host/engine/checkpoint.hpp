// host/engine/checkpoint.hpp - everything a resumed run needs, in one file.
#pragma once

#include <tailor/components.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tailor::host {

class Optimizer;

/// A resume that accepted an edited configuration (`--allow-config-change`).
struct ConfigChange {
  std::string from_sha256;  ///< configuration the checkpoint was written under
  std::string to_sha256;    ///< configuration the run continued with
  std::string checkpoint;   ///< file resumed from
  int64_t completed = 0;    ///< epochs done at that point
  std::string time;         ///< local time of the resume, ISO 8601
};

/// Contents of a checkpoint. Tensor groups are (name, tensor) lists; `meta` holds the
/// position in training and the results so far.
struct Checkpoint {
  NamedTensors model;
  NamedTensors loss;
  NamedTensors rng;
  nlohmann::json meta;
  std::string optimizer;      ///< serialised torch optimizer state (empty: none)
  std::string config_sha256;  ///< SHA-256 of the run's resolved configuration (config_digest)
  std::vector<ConfigChange> config_changes;  ///< accepted configuration edits, oldest first
};

/// Writes `c` to `path`: serialised in memory, framed with its SHA-256
/// (engine/checkpoint_file.hpp), then written atomically (temporary file, fsync, rename).
/// On failure (a full disk) the previous file at `path` is kept, no temporary file is left,
/// and std::runtime_error names the file, the system's reason and the fix.
void save_checkpoint(const std::filesystem::path& path, const Checkpoint& c);
/// Reads and verifies a checkpoint. Throws tailor::Error naming the file and what is wrong
/// (unreadable, truncated, corrupt, not a checkpoint); it never returns unverified contents.
Checkpoint load_checkpoint(const std::filesystem::path& path);
/// load_checkpoint() of bytes already in memory; `name` names them in messages.
Checkpoint read_checkpoint(std::string_view bytes, const std::string& name);

nlohmann::json to_json(const ConfigChange& change);

/// Serialises / restores an optimizer's state (momentum buffers, Adam moments).
std::string optimizer_state(Optimizer& optimizer);
void load_optimizer_state(Optimizer& optimizer, const std::string& state);

}  // namespace tailor::host
