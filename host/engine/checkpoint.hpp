// host/engine/checkpoint.hpp - everything a resumed run needs, in one file.
#pragma once

#include <tailor/components.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace tailor::host {

class Optimizer;

/// Contents of a checkpoint. Tensor groups are (name, tensor) lists; `meta` holds the
/// position in training and the results so far.
struct Checkpoint {
  NamedTensors model;
  NamedTensors loss;
  NamedTensors rng;
  nlohmann::json meta;
  std::string optimizer;  ///< serialised torch optimizer state (empty: none)
};

/// Writes `c` to `path` atomically (temporary file, then rename).
void save_checkpoint(const std::filesystem::path& path, const Checkpoint& c);
/// Reads a checkpoint; throws tailor::Error naming the file when it is unreadable.
Checkpoint load_checkpoint(const std::filesystem::path& path);

/// Serialises / restores an optimizer's state (momentum buffers, Adam moments).
std::string optimizer_state(Optimizer& optimizer);
void load_optimizer_state(Optimizer& optimizer, const std::string& state);

}  // namespace tailor::host
