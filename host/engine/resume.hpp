// host/engine/resume.hpp - how a run starts: which checkpoint a resumed run continues from,
// and the reasons to refuse (a complete run, a lost or damaged checkpoint, an edited
// configuration).
#pragma once

#include "engine/checkpoint.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tailor::host {

/// What `tailor run --resume DIR` was asked.
struct ResumeOptions {
  /// --resume-from: "" or "latest" (checkpoints/latest.pt), "best", "epoch_<N>", or the path
  /// of a checkpoint file.
  std::string from;
  /// --restart: with checkpoints/latest.pt missing, train again from epoch 1 in DIR.
  bool restart = false;
  /// --allow-config-change: continue although config.resolved.toml changed since the
  /// checkpoint was written; the change is recorded in summary.json.
  bool allow_config_change = false;
};

/// Where a run starts. A fresh run has no checkpoint and `resume` false.
struct ResumePlan {
  bool resume = false;                       ///< continuing a run directory
  std::optional<Checkpoint> checkpoint;      ///< verified; nullopt: start at epoch 1
  std::filesystem::path file;                ///< the checkpoint's file
  std::string config_sha256;                 ///< config_digest() of the configuration trained now
  std::vector<ConfigChange> config_changes;  ///< every accepted edit, oldest first
  std::string note;  ///< for the run's log when non-empty: a restart or an accepted edit
};

/// SHA-256 of a resolved configuration's text without its comment lines (lines starting
/// with '#'), so the provenance header may change but no key or value may.
std::string config_digest(const std::string& resolved_toml);

/// The plan of a fresh run whose resolved configuration is `resolved_toml`.
ResumePlan fresh_start(const std::string& resolved_toml);

/// Decides how `tailor run --resume <run_dir>` continues; `resolved_toml` is the run's
/// config.resolved.toml as read now. Refuses, with std::runtime_error naming the file and
/// the fix:
///  - a complete run (summary.json exists);
///  - a missing checkpoints/latest.pt when the run had progressed past its first checkpoint
///    (metrics recorded, or other checkpoints present), unless `restart`;
///  - a checkpoint that is unreadable, truncated or corrupt (listing the other checkpoints
///    `--resume-from` can fall back to);
///  - a configuration whose digest differs from the one the checkpoint was written under,
///    unless `allow_config_change`.
ResumePlan plan_resume(const std::filesystem::path& run_dir, const ResumeOptions& options,
                       const std::string& resolved_toml);

}  // namespace tailor::host
