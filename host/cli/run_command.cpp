// host/cli/run_command.cpp - `tailor run` (one process or one rank) and `tailor validate`.
#include "cli/run_command.hpp"

#include "cli/run_control.hpp"
#include "config/experiment.hpp"
#include "dist/collective.hpp"
#include "dist/env.hpp"
#include "dist/spawn.hpp"
#include "engine/experiment.hpp"
#include "engine/optim.hpp"
#include "engine/resume.hpp"
#include "engine/threads.hpp"
#include "engine/trainer.hpp"
#include "plugins/host_api.hpp"
#include "report/hooks.hpp"
#include "report/records.hpp"
#include "report/run_dir.hpp"
#include "sweep/flat_config.hpp"

#include <tailor/version.hpp>

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#ifndef TAILOR_GIT_REVISION
#define TAILOR_GIT_REVISION "unknown"
#endif

namespace fs = std::filesystem;

namespace tailor::host {

void set_logger(const fs::path& log_file, bool verbose, bool console_level_warn) {
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  if (console_level_warn) sinks.back()->set_level(spdlog::level::warn);
  if (!log_file.empty())
    sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_file.string()));
  auto logger = std::make_shared<spdlog::logger>("tailor", sinks.begin(), sinks.end());
  logger->set_pattern("[%Y-%m-%d %H:%M:%S] [%^%l%$] %v");
  logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

namespace {

// experiment.threads, else TAILOR_THREADS (set by `tailor sweep --jobs`), else every usable core
// shared among the ranks on this node.
int configure_threads(int64_t wanted, const DistEnv& env) {
  std::string how;
  const int usable = usable_cores(&how);
  int threads = wanted > 0 ? static_cast<int>(wanted) : std::max(1, usable / env.local_world_size);
  if (wanted == 0 && env.local_world_size > 1)
    how += "; split between " + std::to_string(env.local_world_size) + " local ranks";
  if (const char* env = std::getenv("TAILOR_THREADS"); env != nullptr && wanted == 0) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (end == env || *end != '\0' || n < 1)
      throw std::runtime_error(std::string("TAILOR_THREADS=") + env +
                               ": expected a positive number of threads");
    threads = static_cast<int>(n);
    how += "; TAILOR_THREADS";
  }
  at::set_num_threads(threads);
  spdlog::info("using {} intra-op thread{} ({} usable core{}: {})", threads,
               threads == 1 ? "" : "s", usable, usable == 1 ? "" : "s", how);
  return threads;
}

std::string per_class_csv(const Experiment& e, const RunSummary& s) {
  std::ostringstream out;
  out << "class,name,train_count,shot,test_support,last_recall,last_precision,best_val_recall,"
         "best_val_precision\n";
  const auto& names = e.dataset().info().class_names;
  auto num = [](const std::vector<double>& v, size_t i) -> std::string {
    if (i >= v.size() || std::isnan(v[i])) return "";
    std::ostringstream s;
    s.precision(6);
    s << v[i];
    return s.str();
  };
  const char* shots[] = {"many", "medium", "few"};
  for (size_t c = 0; c < names.size(); ++c) {
    std::string name = names[c];
    for (auto& ch : name)
      if (ch == ',' || ch == '"') ch = ' ';
    const int64_t n = e.class_counts()[c];
    out << c << "," << name << "," << n << ","
        << shots[shot_group(n, e.eval().many_threshold, e.eval().few_threshold)] << ","
        << (c < s.last_test.support.size() ? s.last_test.support[c] : 0) << ","
        << num(s.last_test.recall, c) << "," << num(s.last_test.precision, c) << ","
        << num(s.best_test.recall, c) << "," << num(s.best_test.precision, c) << "\n";
  }
  return out.str();
}

std::string confusion_csv(const at::Tensor& m) {
  std::ostringstream out;
  if (!m.defined()) return "";
  const auto* d = m.data_ptr<int64_t>();
  for (int64_t i = 0; i < m.size(0); ++i) {
    for (int64_t j = 0; j < m.size(1); ++j) out << (j ? "," : "") << d[i * m.size(1) + j];
    out << "\n";
  }
  return out.str();
}

nlohmann::json summary_json(const Experiment& e, const RunSummary& s, int threads,
                            const DistEnv& env, const std::string& backend) {
  const auto& options = e.experiment();
  nlohmann::json j = {
      {"experiment", options.name},
      {"config", e.file().string()},
      {"seed", options.seed},
      {"versions",
       {{"tailor", TAILOR_SDK_VERSION},
        {"abi", std::to_string(TAILOR_ABI_MAJOR) + "." + std::to_string(TAILOR_ABI_MINOR)},
        {"torch", TORCH_VERSION},
        {"git_revision", TAILOR_GIT_REVISION}}},
      {"device", e.device().str()},
      {"threads", threads},
      {"epochs", s.epochs},
      {"seconds", s.seconds},
      {"evaluation",
       {{"many_threshold", e.eval().many_threshold},
        {"few_threshold", e.eval().few_threshold},
        {"ece_bins", e.eval().ece_bins},
        {"temperature_scaling", e.eval().temperature_scaling},
        {"shot_rule", "many: train count > many_threshold; few: < few_threshold; medium: the rest"},
        {"group_accuracy", "mean per-class recall over the group's classes"}}},
  };
  nlohmann::json plugins = nlohmann::json::array();
  for (const LoadedPlugin* p : e.config().loaded_plugins())
    plugins.push_back({{"name", p->name},
                       {"kind", kind_name(p->kind)},
                       {"version", p->descriptor->version},
                       {"path", p->path.string()},
                       {"sha256", p->sha256}});
  j["plugins"] = plugins;
  const TrainOptions& train = e.train();
  const OptimizerOptions& optimizer = e.stages().front().optimizer;
  j["batch"] = {{"batch_size", train.batch_size},
                {"meaning", "global: samples per optimizer step over all ranks"},
                {"world_size", env.world_size},
                {"per_rank", train.batch_size / env.world_size},
                {"accumulate", train.accumulate},
                {"micro_batch", train.batch_size / env.world_size / train.accumulate},
                {"lr_scaling", OptimizerOptions::kLrScalings.name(optimizer.lr_scaling)},
                {"lr_factor", lr_factor(optimizer, train.batch_size)}};
  j["distributed"] = {{"world_size", env.world_size},
                      {"launcher", env.launcher},
                      {"backend", backend},
                      {"sync_batchnorm", train.sync_batchnorm}};
  if (s.has_test)
    j["last_epoch"] = {{"label", "after the last epoch"}, {"test", headline(s.last_test)}};
  if (s.has_val) j["last_epoch"]["val"] = headline(s.last_val);
  if (s.best_epoch > 0 && s.has_test)
    j["best_on_val"] = {{"label", "epoch with the best val top-1 (selected on val, never on test)"},
                        {"epoch", s.best_epoch},
                        {"val_top1", s.best_val_top1},
                        {"test", headline(s.best_test)}};
  return j;
}

void log_dataset(const Experiment& e) {
  const auto& info = e.dataset().info();
  std::string counts;
  for (int64_t c : e.class_counts()) counts += " " + std::to_string(c);
  spdlog::info("dataset '{}': {} classes, train {} / val {} / test {}; train counts:{}",
               e.dataset().name(), info.num_classes, info.split_size[0], info.split_size[1],
               info.split_size[2], counts);
  for (const LoadedPlugin* p : e.config().loaded_plugins())
    spdlog::info("plugin {} '{}' {}: {} (sha256 {})", kind_name(p->kind), p->name,
                 p->descriptor->version, p->path.string(), p->sha256);
  spdlog::info("backbone '{}': {} features; {} stage{}; device {}", e.backbone().name(),
               e.backbone().feature_dim(), e.stages().size(), e.stages().size() == 1 ? "" : "s",
               e.device().str());
}

// Every stage's global batch must split evenly into ranks x micro-batches.
void check_batch_split(const ResolvedConfig& config, int world) {
  for (const auto& s : config.stages) {
    const int64_t parts = world * s.train.accumulate;
    if (s.train.batch_size % parts != 0)
      throw ConfigError("[train] batch_size = " + std::to_string(s.train.batch_size) + " (stage '" +
                        s.stage.name + "') is the global batch; it does not split into " +
                        std::to_string(world) +
                        " ranks x accumulate = " + std::to_string(s.train.accumulate) +
                        " equal parts. Choose a batch_size "
                        "divisible by " +
                        std::to_string(parts) + ", or another number of ranks");
  }
}

// The first dotted key whose value differs between two resolved configurations.
std::string first_difference(const std::string& ours, const std::string& theirs) {
  const auto a = flatten_config(ours, "this rank's configuration");
  const auto b = flatten_config(theirs, "rank 0's configuration");
  for (const auto& [key, value] : b) {
    const auto it = a.find(key);
    if (it == a.end()) return key + " is missing here, rank 0 has " + value;
    if (it->second != value) return key + " = " + it->second + " here, " + value + " on rank 0";
  }
  for (const auto& [key, value] : a)
    if (b.count(key) == 0) return key + " = " + value + " here, missing on rank 0";
  return "they differ";
}

std::string plugin_list(const ResolvedConfig& config) {
  std::string s;
  for (const LoadedPlugin* p : config.loaded_plugins())
    s += p->name + " " + p->sha256 + " " + p->path.string() + "\n";
  return s;
}

// Rank 0 creates (or, resuming, opens) the run directory and holds its writer lock; the
// other ranks attach to it.
RunDir open_run_dir(const Command& cmd, const Experiment& experiment, Collective* dist) {
  if (dist != nullptr && dist->rank() != 0) return RunDir::attach(dist->from_rank0("run_dir", ""));
  auto make = [&] {
    if (!cmd.resume.empty()) return RunDir::open(cmd.resume);
    if (cmd.out.empty())
      return RunDir::create(experiment.experiment().output_dir, experiment.experiment().name);
    if (fs::exists(cmd.out) && !fs::is_empty(cmd.out))
      throw std::runtime_error("--out " + cmd.out.string() +
                               " exists and is not empty; choose a new directory or resume it "
                               "with --resume");
    fs::create_directories(cmd.out / "checkpoints");
    return RunDir::open(cmd.out);
  };
  RunDir dir = make();
  if (dist != nullptr) dist->from_rank0("run_dir", dir.path().string());
  return dir;
}

// Where the run starts: a fresh run, or the verified checkpoint a resume continues from.
ResumePlan plan_start(const Command& cmd, const RunDir& run, const ResolvedConfig& config) {
  if (cmd.resume.empty()) return fresh_start(config.toml());
  std::ifstream in(run.file("config.resolved.toml"), std::ios::binary);
  const std::string stored{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return plan_resume(run.path(), {cmd.resume_from, cmd.restart, cmd.allow_config_change}, stored);
}

}  // namespace

int run_command(const Command& cmd) {
  set_logger({}, cmd.verbose);
  const DistEnv env = read_dist_env();
  if (cmd.nproc > 1) {
    if (env.distributed())
      throw std::runtime_error("--nproc " + std::to_string(cmd.nproc) +
                               " inside a launcher that "
                               "already started " +
                               std::to_string(env.world_size) + " ranks (" + env.launcher +
                               "); drop --nproc");
    std::vector<std::string> args = cmd.arguments;
    return spawn_local_ranks(static_cast<int>(cmd.nproc), cmd.executable, args);
  }
  keep_freed_memory();
  const bool resume = !cmd.resume.empty();
  PluginLoader loader;
  ResolvedConfig config;
  if (resume) {
    const fs::path stored = fs::path(cmd.resume) / "config.resolved.toml";
    if (!fs::exists(stored))
      throw std::runtime_error(cmd.resume.string() + " is not a run directory (no " +
                               "config.resolved.toml); give the directory `tailor run` created");
    config = resolve(stored, {}, loader, cmd.executable);
    if (!cmd.experiment.empty()) {
      PluginLoader other;
      const ResolvedConfig given = resolve(cmd.experiment, cmd.overrides, other, cmd.executable);
      if (given.table() != config.table())
        throw std::runtime_error(
            "cannot resume " + cmd.resume.string() + " with " + cmd.experiment.string() +
            ": the run was made by a different experiment (their resolved configurations differ; "
            "compare with `tailor validate`). Resume with `tailor run --resume " +
            cmd.resume.string() + "` alone, or start a new run");
    }
  } else {
    config = resolve(cmd.experiment, cmd.overrides, loader, cmd.executable);
    if (cmd.max_epochs > 0) config.limit_epochs(cmd.max_epochs);
  }
  check_batch_split(config, env.world_size);
  std::unique_ptr<Collective> dist;
  c10::Device device(c10::kCPU);
  if (env.distributed()) {
    if (env.rank != 0) set_logger({}, cmd.verbose, /*console_level_warn=*/true);
    const bool cuda =
        config.experiment.device != ExperimentOptions::Device::kCpu && torch::cuda::is_available();
    device = cuda ? c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(env.local_rank)) : device;
    dist = Collective::connect(env, std::chrono::seconds(config.distributed.timeout_s), device);
    std::ostringstream text;
    text << config.table();
    dist->require_same("resolved configuration", text.str(), [&](const std::string& theirs) {
      return first_difference(text.str(), theirs);
    });
    dist->require_same("plugin files", plugin_list(config), [&](const std::string& theirs) {
      return "here:\n" + plugin_list(config) + "rank 0:\n" + theirs;
    });
  }
  set_host_collective(dist.get());
  struct Unset {
    ~Unset() { set_host_collective(nullptr); }
  } unset;
  auto experiment =
      Experiment::build(std::move(config), dist != nullptr ? env.local_rank : 0, env.world_size);
  RunDir run = open_run_dir(cmd, *experiment, dist.get());
  // Before anything is written: a resume that must be refused leaves the directory as it was.
  const ResumePlan start = plan_start(cmd, run, experiment->config());
  const bool writer = run.writer();
  set_logger(run.file(writer ? "log.txt" : "log.rank" + std::to_string(env.rank) + ".txt"),
             cmd.verbose, !writer);
  spdlog::info("run directory {}{}", run.path().string(), resume ? " (resumed)" : "");
  if (dist != nullptr)
    spdlog::info("rank {} of {} ({}; local rank {} of {}), {} over {}:{}", env.rank, env.world_size,
                 env.launcher, env.local_rank, env.local_world_size, dist->backend(),
                 env.master_addr, env.master_port);
  if (!start.note.empty()) spdlog::warn("{}", start.note);
  if (!resume && writer)
    write_file_atomic(run.file("config.resolved.toml"), experiment->config().toml());
  const int threads = configure_threads(experiment->experiment().threads, env);
  log_dataset(*experiment);
  // Also on resume: rewrites an artefact whose first write failed (a full disk).
  if (writer) experiment->dataset().write_artifacts(run.path().string());

  if (writer) attach_report_listeners(run, experiment->report());
  RunSummary s;
  try {
    RunControl control;
    Trainer trainer(*experiment, run, &control, dist.get());
    s = trainer.run(start);
  } catch (const Interrupted& e) {
    spdlog::warn("{}", e.what());
    return 128 + e.signal;
  } catch (const c10::Error& e) {
    if (dist == nullptr) throw;
    throw std::runtime_error(dist->failure(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    // Gloo reports a vanished peer as its own exception type, not as c10::Error.
    if (dist == nullptr) throw;
    throw std::runtime_error(dist->failure(e.what()));
  }
  if (writer) {
    write_file_atomic(run.file("per_class.csv"), per_class_csv(*experiment, s));
    write_file_atomic(run.file("confusion_test_last.csv"), confusion_csv(s.last_test.confusion));
    nlohmann::json summary =
        summary_json(*experiment, s, threads, env, dist ? dist->backend() : "none");
    for (const auto& change : start.config_changes)
      summary["config_changes"].push_back(to_json(change));
    write_file_atomic(run.file("summary.json"), summary.dump(2) + "\n");
    finish_report(run, experiment->report());
  }
  if (s.has_test)
    spdlog::info(
        "done: test top-1 {:.2f}% after the last epoch, mean class recall {:.2f}%, "
        "many/medium/few {}/{}/{}%",
        100 * s.last_test.top1, 100 * s.last_test.mean_class_recall,
        group_percent(s.last_test.many), group_percent(s.last_test.medium),
        group_percent(s.last_test.few));
  spdlog::info("results in {}", run.path().string());
  return 0;
}

int validate_command(const Command& cmd) {
  set_logger({}, cmd.verbose);
  PluginLoader loader;
  auto experiment =
      Experiment::build(resolve(cmd.experiment, cmd.overrides, loader, cmd.executable));
  log_dataset(*experiment);
  std::cout << experiment->config().toml();
  spdlog::info("{} is valid", cmd.experiment.string());
  return 0;
}

}  // namespace tailor::host
