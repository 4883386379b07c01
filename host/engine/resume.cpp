// host/engine/resume.cpp - the resume decision: which checkpoint, and when to refuse.
#include "engine/resume.hpp"

#include "report/digest.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace tailor::host {
namespace {

std::string local_time_iso() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  ::localtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  return text;
}

// The checkpoint files of a run, sorted by name.
std::vector<std::string> checkpoint_files(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".pt") names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string list(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s.empty() ? "none" : s;
}

// What `--resume-from` can name instead of `skip`, as a sentence.
std::string fallbacks(const fs::path& checkpoints, const fs::path& skip) {
  std::vector<std::string> others;
  for (const auto& name : checkpoint_files(checkpoints)) {
    if (checkpoints / name == skip) continue;
    others.push_back(name == "best.pt" ? "best" : fs::path(name).stem().string());
  }
  if (others.empty()) return "No other checkpoint is there; start a new run";
  std::string choices;
  for (const auto& o : others) choices += (choices.empty() ? "" : " | ") + o;
  return "Continue from an earlier checkpoint with --resume-from " + choices +
         " (later epochs are trained again), or start a new run";
}

// The highest epoch metrics.jsonl records (0: none). Records of epoch 1 are written before
// the first checkpoint, so only a record of epoch 2 or later proves one was written.
int64_t last_recorded_epoch(const fs::path& metrics) {
  std::ifstream in(metrics);
  std::string line;
  int64_t last = 0;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("epoch") && j["epoch"].is_number_integer())
      last = std::max(last, j["epoch"].get<int64_t>());
  }
  return last;
}

}  // namespace

std::string config_digest(const std::string& resolved_toml) {
  std::istringstream in(resolved_toml);
  std::string line, body;
  while (std::getline(in, line))
    if (line.rfind('#', 0) != 0) body += line + "\n";
  return sha256_hex(body);
}

ResumePlan fresh_start(const std::string& resolved_toml) {
  ResumePlan plan;
  plan.config_sha256 = config_digest(resolved_toml);
  return plan;
}

ResumePlan plan_resume(const fs::path& run_dir, const ResumeOptions& options,
                       const std::string& resolved_toml) {
  ResumePlan plan;
  plan.resume = true;
  plan.config_sha256 = config_digest(resolved_toml);
  const std::string dir = run_dir.string();
  if (fs::exists(run_dir / "summary.json"))
    throw std::runtime_error("run " + dir +
                             " is complete (it has a summary.json); resuming it "
                             "would overwrite its results. Start a new run with `tailor run " +
                             (run_dir / "config.resolved.toml").string() + "`");

  const fs::path checkpoints = run_dir / "checkpoints";
  static const std::regex kEpoch("epoch_[0-9]+");
  const bool latest = options.from.empty() || options.from == "latest";
  fs::path file;
  if (latest)
    file = checkpoints / "latest.pt";
  else if (options.from == "best")
    file = checkpoints / "best.pt";
  else if (std::regex_match(options.from, kEpoch))
    file = checkpoints / (options.from + ".pt");
  else
    file = options.from;

  std::error_code ec;
  if (!fs::exists(file, ec)) {
    if (!latest)
      throw std::runtime_error("--resume-from " + options.from + ": there is no " + file.string() +
                               " (checkpoints in " + checkpoints.string() + ": " +
                               list(checkpoint_files(checkpoints)) + ")");
    const auto others = checkpoint_files(checkpoints);
    const int64_t recorded = last_recorded_epoch(run_dir / "metrics.jsonl");
    const bool progressed = !others.empty() || recorded > 1;
    if (!progressed) {
      plan.note =
          "no checkpoint yet (the run stopped in its first epoch): training starts at "
          "epoch 1";
      return plan;
    }
    if (options.restart) {
      plan.note = file.string() +
                  " is missing; --restart: training again from epoch 1 (the "
                  "metrics recorded so far are replaced)";
      return plan;
    }
    throw std::runtime_error(
        file.string() +
        " is missing, but the run had progressed past its first checkpoint "
        "(checkpoints: " +
        list(others) + "; metrics.jsonl records " + std::to_string(recorded) + " epochs). " +
        (others.empty() ? std::string() : fallbacks(checkpoints, file) + "; or train ") +
        (others.empty() ? "Train " : "") +
        "again from epoch 1 in this directory with --restart (its metrics are replaced)");
  }
  if (options.restart) {
    plan.note = "--restart: ignoring " + file.string() + "; training again from epoch 1";
    return plan;
  }

  try {
    plan.checkpoint = load_checkpoint(file);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string(e.what()) + ". It cannot be trusted. " +
                             fallbacks(checkpoints, file));
  }
  plan.file = file;
  Checkpoint& c = *plan.checkpoint;
  plan.config_changes = c.config_changes;
  if (c.config_sha256 != plan.config_sha256) {
    const fs::path config = run_dir / "config.resolved.toml";
    if (!options.allow_config_change)
      throw std::runtime_error(
          config.string() + " was changed after " + file.string() +
          " was written (configuration SHA-256 " + plan.config_sha256.substr(0, 12) +
          "..., at the checkpoint " + c.config_sha256.substr(0, 12) +
          "...): resuming would train one run under two configurations. Undo the edit, start a "
          "new run with the edited file (`tailor run " +
          config.string() +
          "`), or give --allow-config-change to continue with it (the change is recorded in "
          "summary.json)");
    ConfigChange change;
    change.from_sha256 = c.config_sha256;
    change.to_sha256 = plan.config_sha256;
    change.checkpoint = file.filename().string();
    change.completed = c.meta.value("completed", int64_t{0});
    change.time = local_time_iso();
    plan.note = "--allow-config-change: " + config.string() + " differs from the configuration " +
                change.checkpoint + " was written under; continuing with it after epoch " +
                std::to_string(change.completed) + " (recorded in summary.json)";
    plan.config_changes.push_back(std::move(change));
  }
  return plan;
}

}  // namespace tailor::host
