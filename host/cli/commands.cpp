// host/cli/commands.cpp - what each subcommand does.
#include "cli/commands.hpp"

#include "config/experiment.hpp"
#include "config/schema.hpp"
#include "engine/experiment.hpp"
#include "engine/options.hpp"
#include "engine/resume.hpp"
#include "engine/threads.hpp"
#include "engine/trainer.hpp"
#include "plugins/host_api.hpp"
#include "report/records.hpp"
#include "report/run_dir.hpp"
#include "sweep/compare.hpp"
#include "sweep/sweep.hpp"

#include <tailor/version.hpp>

#include <ATen/Parallel.h>
#include <torch/version.h>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdlib>
#include <optional>
#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>

#ifndef TAILOR_GIT_REVISION
#define TAILOR_GIT_REVISION "unknown"
#endif

namespace fs = std::filesystem;

namespace tailor::host {
namespace {

void set_logger(const fs::path& log_file, bool verbose) {
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  if (!log_file.empty())
    sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_file.string()));
  auto logger = std::make_shared<spdlog::logger>("tailor", sinks.begin(), sinks.end());
  logger->set_pattern("[%Y-%m-%d %H:%M:%S] [%^%l%$] %v");
  logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

// experiment.threads, else TAILOR_THREADS (set by `tailor sweep --jobs`), else every usable core.
int configure_threads(int64_t wanted) {
  std::string how;
  const int usable = usable_cores(&how);
  int threads = wanted > 0 ? static_cast<int>(wanted) : usable;
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

nlohmann::json summary_json(const Experiment& e, const RunSummary& s, int threads) {
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
        {"shot_rule", "many: train count > many_threshold; few: < few_threshold; medium: the rest"},
        {"group_accuracy", "mean per-class recall over the group's classes"}}},
  };
  if (s.has_test) j["last_epoch"] = {{"label", "after the last epoch"}, {"test", headline(s.last_test)}};
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
  spdlog::info("backbone '{}': {} features; {} stage{}; device {}", e.backbone().name(),
               e.backbone().feature_dim(), e.stages().size(), e.stages().size() == 1 ? "" : "s",
               e.device().str());
}

// The resolved configuration without its comment header, for comparisons.
std::string config_body(const std::string& resolved) {
  std::istringstream in(resolved);
  std::string line, out;
  while (std::getline(in, line))
    if (line.rfind("#", 0) != 0) out += line + "\n";
  return out;
}

int run(const Command& cmd) {
  set_logger({}, cmd.verbose);
  const bool resume = !cmd.resume.empty();
  std::unique_ptr<Experiment> experiment;
  std::optional<RunDir> dir;
  ResumePlan start;
  if (resume) {
    if (!fs::exists(cmd.resume / "config.resolved.toml"))
      throw std::runtime_error(cmd.resume.string() + " is not a run directory (no " +
                               "config.resolved.toml); give the directory `tailor run` created");
    dir = RunDir::open(cmd.resume);  // the writer lock: refused while another process writes it
    const fs::path stored = dir->file("config.resolved.toml");
    experiment = Experiment::load(stored, {}, cmd.executable);
    if (!cmd.experiment.empty()) {
      auto given = Experiment::load(cmd.experiment, cmd.overrides, cmd.executable);
      if (config_body(given->resolved_toml()) != config_body(experiment->resolved_toml()))
        throw std::runtime_error(
            "cannot resume " + cmd.resume.string() + " with " + cmd.experiment.string() +
            ": the run was made by a different experiment (their resolved configurations differ; "
            "compare with `tailor validate`). Resume with `tailor run --resume " +
            cmd.resume.string() + "` alone, or start a new run");
    }
    std::ifstream in(stored, std::ios::binary);
    const std::string stored_text{std::istreambuf_iterator<char>(in),
                                  std::istreambuf_iterator<char>()};
    start = plan_resume(dir->path(), {cmd.resume_from, cmd.restart, cmd.allow_config_change},
                        stored_text);
  } else {
    experiment = Experiment::load(cmd.experiment, cmd.overrides, cmd.executable);
    if (cmd.max_epochs > 0) experiment->limit_epochs(cmd.max_epochs);
    const auto& options = experiment->experiment();
    if (cmd.out.empty()) {
      dir = RunDir::create(options.output_dir, options.name);
    } else {
      if (fs::exists(cmd.out) && !fs::is_empty(cmd.out))
        throw std::runtime_error("--out " + cmd.out.string() +
                                 " exists and is not empty; choose a new directory or resume it "
                                 "with --resume");
      fs::create_directories(cmd.out / "checkpoints");
      dir = RunDir::open(cmd.out);
    }
    start = fresh_start(experiment->resolved_toml());
  }
  RunDir& run = *dir;
  set_logger(run.file("log.txt"), cmd.verbose);
  spdlog::info("run directory {}{}", run.path().string(), resume ? " (resumed)" : "");
  if (!start.note.empty()) spdlog::warn("{}", start.note);
  if (!resume) write_file_atomic(run.file("config.resolved.toml"), experiment->resolved_toml());
  const int threads = configure_threads(experiment->experiment().threads);
  log_dataset(*experiment);
  // Also on resume: rewrites an artefact whose first write failed (a full disk).
  experiment->dataset().write_artifacts(run.path().string());

  Trainer trainer(*experiment, run);
  RunSummary s;
  try {
    s = trainer.run(start);
  } catch (const Interrupted& e) {
    spdlog::warn("{}", e.what());
    return 128 + e.signal();
  }
  nlohmann::json summary = summary_json(*experiment, s, threads);
  for (const auto& change : start.config_changes)
    summary["config_changes"].push_back(to_json(change));
  write_file_atomic(run.file("per_class.csv"), per_class_csv(*experiment, s));
  write_file_atomic(run.file("confusion_test_last.csv"), confusion_csv(s.last_test.confusion));
  write_file_atomic(run.file("summary.json"), summary.dump(2) + "\n");
  if (s.has_test)
    spdlog::info("done: test top-1 {:.2f}% after the last epoch, mean class recall {:.2f}%, "
                 "many/medium/few {:.1f}/{:.1f}/{:.1f}%",
                 100 * s.last_test.top1, 100 * s.last_test.mean_class_recall,
                 100 * s.last_test.many.accuracy, 100 * s.last_test.medium.accuracy,
                 100 * s.last_test.few.accuracy);
  spdlog::info("results in {}", run.path().string());
  return 0;
}

int validate(const Command& cmd) {
  set_logger({}, cmd.verbose);
  auto experiment = Experiment::load(cmd.experiment, cmd.overrides, cmd.executable);
  log_dataset(*experiment);
  std::cout << experiment->resolved_toml();
  spdlog::info("{} is valid", cmd.experiment.string());
  return 0;
}

int sweep(const Command& cmd) {
  set_logger({}, cmd.verbose);
  SweepOptions options;
  options.experiments = cmd.experiments;
  options.grid = cmd.grid;
  options.overrides = cmd.overrides;
  options.seeds = cmd.seeds;
  options.jobs = cmd.jobs;
  options.max_epochs = cmd.max_epochs;
  options.out = cmd.out;
  options.executable = cmd.executable;
  options.verbose = cmd.verbose;
  return run_sweep(options);
}

int compare(const Command& cmd) {
  set_logger({}, cmd.verbose);
  if (cmd.select != "best" && cmd.select != "last")
    throw std::runtime_error("--select " + cmd.select + ": expected best (best val epoch) or last");
  const auto table = compare_runs(find_runs(cmd.run_dirs),
                                  cmd.select == "last" ? Selection::kLast : Selection::kBestOnVal);
  const std::string markdown = to_markdown(table);
  std::cout << markdown;
  if (!cmd.markdown.empty()) write_file_atomic(cmd.markdown, markdown);
  if (!cmd.csv.empty()) write_file_atomic(cmd.csv, to_csv(table));
  return 0;
}

void add_dirs(PluginLoader& loader, const Command& cmd) {
  for (const auto& d : cmd.plugin_dirs) loader.add_search_dir(d);
  loader.add_default_dirs(cmd.executable);
}

void print_descriptor(const LoadedPlugin& p) {
  const auto* d = p.descriptor;
  std::cout << p.name << " (" << kind_name(p.kind) << ") " << d->version << "\n"
            << "  " << (d->description != nullptr ? d->description : "") << "\n"
            << "  file: " << p.path.string() << "\n"
            << "  ABI " << d->abi_major << "." << d->abi_minor << ", built with "
            << d->fingerprint.compiler << " against torch " << d->fingerprint.torch_major << "."
            << d->fingerprint.torch_minor << " (" << d->fingerprint.torch_build_id << ")\n";
}

int plugins_list(const Command& cmd) {
  set_logger({}, cmd.verbose);
  PluginLoader loader;
  add_dirs(loader, cmd);
  std::vector<std::pair<std::string, std::string>> refused;
  const auto found = loader.discover(&refused);
  for (uint32_t kind : {TAILOR_KIND_DATASET, TAILOR_KIND_BACKBONE, TAILOR_KIND_LOSS}) {
    std::cout << (kind == TAILOR_KIND_LOSS ? "losses" : std::string(kind_name(kind)) + "s") << ":\n";
    for (const auto* p : found)
      if (p->kind == kind)
        std::cout << "  " << p->name << std::string(p->name.size() < 22 ? 22 - p->name.size() : 1, ' ')
                  << p->descriptor->description << "\n";
  }
  for (const auto& [file, why] : refused) std::cout << "refused: " << why << "\n";
  std::cout << "searched:";
  for (const auto& d : loader.search_dirs()) std::cout << " " << d.string();
  std::cout << "\n";
  return 0;
}

int plugins_describe(const Command& cmd) {
  set_logger({}, cmd.verbose);
  PluginLoader loader;
  add_dirs(loader, cmd);
  std::vector<std::pair<std::string, std::string>> refused;
  for (const auto* p : loader.discover(&refused)) {
    if (p->name != cmd.plugin) continue;
    print_descriptor(*p);
    std::cout << "\nparameters ([" << kind_name(p->kind) << "] table):\n";
    for (const auto& e : parse_schema(p->schema_text)) {
      std::cout << "  " << e.key << " (" << e.type << ") = " << e.default_literal;
      if (!e.constraint.empty()) std::cout << "   [" << e.constraint << "]";
      std::cout << "\n      " << e.doc << "\n";
    }
    return 0;
  }
  std::cerr << "error: no plugin named '" << cmd.plugin
            << "'; run `tailor plugins list` to see what is installed\n";
  return 1;
}

int plugins_inspect(const Command& cmd) {
  set_logger({}, cmd.verbose);
  PluginLoader loader;
  const Inspection report = loader.inspect(cmd.plugin_file);
  std::cout << "file: " << report.path.string() << "\nexported tailor symbols:";
  for (const auto& s : report.exported) std::cout << " " << s;
  std::cout << "\nhost fingerprint marker: " << host_fingerprint_marker() << "\n";
  if (report.plugin != nullptr) print_descriptor(*report.plugin);
  std::cout << "verdict: " << report.verdict << "\n";
  return report.compatible ? 0 : 1;
}

template <class T>
void reference_table(std::ostream& out, const std::string& section, const std::string& about) {
  out << "## [" << section << "]\n\n" << about << "\n\n"
      << "| key | type | default | constraint | meaning |\n|---|---|---|---|---|\n";
  for (const auto& e : parse_schema(schema_of<T>())) {
    std::string doc = e.doc;
    for (size_t p = 0; (p = doc.find('|', p)) != std::string::npos; p += 2) doc.replace(p, 1, "\\|");
    out << "| `" << e.key << "` | " << e.type << " | `" << e.default_literal << "` | "
        << e.constraint << " | " << doc << " |\n";
  }
  out << "\n";
}

int config_reference() {
  std::ostream& out = std::cout;
  reference_table<ExperimentOptions>(out, "experiment", "The run as a whole.");
  reference_table<TrainOptions>(out, "train", "Shared by every stage unless a stage's `[stage.train]` overrides it.");
  reference_table<OptimizerOptions>(out, "optimizer", "Per stage: `[stage.optimizer]` overrides keys.");
  reference_table<ScheduleOptions>(out, "schedule", "Per stage: `[stage.schedule]` overrides keys; epochs count from the stage's start.");
  reference_table<SamplerOptions>(out, "sampler", "Per stage: `[stage.sampler]` overrides keys.");
  reference_table<HeadOptions>(out, "head", "The classifier the host puts on the backbone features.");
  reference_table<EvalOptions>(out, "eval", "The evaluation convention, recorded in summary.json.");
  reference_table<MetaOptions>(out, "meta", "The one-step look-ahead for losses that request a meta step.");
  reference_table<PluginsOptions>(out, "plugins", "Where plugins are searched.");
  reference_table<StageOptions>(out, "[stage]", "Each `[[stage]]` table; its `train`, `optimizer`, `schedule`, `sampler` and `loss` sub-tables override the global sections for that stage. A stage without a `loss` table shares the global loss instance (and its state).");
  return 0;
}

}  // namespace

int execute(const Command& cmd) {
  try {
    switch (cmd.kind) {
      case Command::Kind::kRun: return run(cmd);
      case Command::Kind::kValidate: return validate(cmd);
      case Command::Kind::kSweep: return sweep(cmd);
      case Command::Kind::kCompare: return compare(cmd);
      case Command::Kind::kPluginsList: return plugins_list(cmd);
      case Command::Kind::kPluginsDescribe: return plugins_describe(cmd);
      case Command::Kind::kPluginsInspect: return plugins_inspect(cmd);
      case Command::Kind::kConfigReference: return config_reference();
    }
  } catch (const c10::Error& e) {
    // LibTorch's messages carry a C++ stack trace; the user needs the first line only.
    spdlog::error("{}", e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  return 1;
}

}  // namespace tailor::host
