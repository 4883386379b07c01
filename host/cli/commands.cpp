// host/cli/commands.cpp - what each subcommand does.
#include "cli/commands.hpp"

#include "cli/run_command.hpp"

#include "cli/run_control.hpp"
#include "config/experiment.hpp"
#include "config/options.hpp"
#include "config/schema.hpp"
#include "engine/experiment.hpp"
#include "engine/threads.hpp"
#include "engine/trainer.hpp"
#include "plugins/host_api.hpp"
#include "report/compare_report.hpp"
#include "report/records.hpp"
#include "report/run_dir.hpp"
#include "report/run_report.hpp"
#include "sweep/compare.hpp"
#include "sweep/sweep.hpp"

#include <tailor/version.hpp>

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/version.h>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#ifndef TAILOR_GIT_REVISION
#define TAILOR_GIT_REVISION "unknown"
#endif

namespace fs = std::filesystem;

namespace tailor::host {
namespace {

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
  options.nproc_per_run = cmd.nproc_per_run;
  options.data_seeds = cmd.data_seeds;
  return run_sweep(options);
}

int compare(const Command& cmd) {
  set_logger({}, cmd.verbose);
  if (cmd.select != "best" && cmd.select != "last")
    throw std::runtime_error("--select " + cmd.select + ": expected best (best val epoch) or last");
  if (cmd.bootstrap < 1) throw std::runtime_error("--bootstrap must be at least 1 replicate");
  const auto runs = find_runs(cmd.run_dirs);
  auto table = compare_runs(runs, cmd.select == "last" ? Selection::kLast : Selection::kBestOnVal);
  if (!cmd.baseline.empty()) add_paired_differences(table, runs, {cmd.baseline, cmd.bootstrap, 0});
  const std::string markdown = to_markdown(table);
  std::cout << markdown;
  if (!cmd.markdown.empty()) write_file_atomic(cmd.markdown, markdown);
  if (!cmd.csv.empty()) write_file_atomic(cmd.csv, to_csv(table));
  if (!cmd.html.empty()) write_file_atomic(cmd.html, render_compare_report(table, runs));
  return 0;
}

int report(const Command& cmd) {
  set_logger({}, cmd.verbose);
  for (const auto& dir : cmd.run_dirs) std::cout << write_run_report(dir).string() << "\n";
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
  std::vector<Shadowed> shadowed;
  const auto found = loader.discover(&refused, &shadowed);
  for (uint32_t kind : {TAILOR_KIND_DATASET, TAILOR_KIND_BACKBONE, TAILOR_KIND_HEAD,
                        TAILOR_KIND_LOSS, TAILOR_KIND_SAMPLER, TAILOR_KIND_BATCH_MIX}) {
    std::cout << (kind == TAILOR_KIND_LOSS        ? std::string("losses")
                  : kind == TAILOR_KIND_BATCH_MIX ? std::string("batch mixes")
                                                  : std::string(kind_name(kind)) + "s")
              << ":\n";
    for (const auto* p : found)
      if (p->kind == kind)
        std::cout << "  " << p->name
                  << std::string(p->name.size() < 22 ? 22 - p->name.size() : 1, ' ')
                  << p->descriptor->description << "\n"
                  << "  " << std::string(22, ' ') << p->path.string() << "\n";
  }
  for (const auto& [file, why] : refused) std::cout << "refused: " << why << "\n";
  for (const auto& s : shadowed)
    std::cout << "warning: " << s.file.string() << " is shadowed by " << s.by.string()
              << " (an earlier search directory); remove one of them or reorder the search "
                 "path\n";
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
  bool any = false;  // two kinds may share a name (the class_balanced loss and sampler)
  for (const auto* p : loader.discover(&refused)) {
    if (p->name != cmd.plugin) continue;
    if (any) std::cout << "\n";
    any = true;
    print_descriptor(*p);
    std::cout << "\nparameters ([" << kind_name(p->kind) << "] table):\n";
    for (const auto& e : parse_schema(p->schema_text)) {
      std::cout << "  " << e.key << " (" << e.type
                << ") = " << (e.required ? TAILOR_SCHEMA_REQUIRED : e.default_literal);
      if (!e.constraint.empty()) std::cout << "   [" << e.constraint << "]";
      std::cout << "\n      " << e.doc << "\n";
    }
  }
  if (any) return 0;
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
  out << "## [" << section << "]\n\n"
      << about << "\n\n"
      << "| key | type | default | constraint | meaning |\n|---|---|---|---|---|\n";
  for (const auto& e : parse_schema(schema_of<T>())) {
    std::string doc = e.doc;
    for (size_t p = 0; (p = doc.find('|', p)) != std::string::npos; p += 2)
      doc.replace(p, 1, "\\|");
    out << "| `" << e.key << "` | " << e.type << " | `" << e.default_literal << "` | "
        << e.constraint << " | " << doc << " |\n";
  }
  out << "\n";
}

int config_reference() {
  std::ostream& out = std::cout;
  reference_table<ExperimentOptions>(out, "experiment", "The run as a whole.");
  reference_table<TrainOptions>(
      out, "train", "Shared by every stage unless a stage's `[stage.train]` overrides it.");
  reference_table<OptimizerOptions>(out, "optimizer",
                                    "Per stage: `[stage.optimizer]` overrides keys.");
  reference_table<ScheduleOptions>(
      out, "schedule",
      "Per stage: `[stage.schedule]` overrides keys; epochs count from the stage's start.");
  reference_table<EvalOptions>(out, "eval", "The evaluation convention, recorded in summary.json.");
  reference_table<MetaOptions>(out, "meta",
                               "The one-step look-ahead for losses that request a meta step.");
  reference_table<ReportOptions>(
      out, "report",
      "What a run writes besides its metrics: the HTML report and TensorBoard event files.");
  reference_table<DistributedOptions>(out, "distributed",
                                      "Data-parallel training over several processes "
                                      "(`docs/distributed.md`); a single process ignores it.");
  reference_table<PluginsOptions>(out, "plugins", "Where plugins are searched.");
  reference_table<StageOptions>(
      out, "[stage]",
      "Each `[[stage]]` table; its `train`, `optimizer`, `schedule`, `sampler` and `loss` "
      "sub-tables override the global sections for that stage. A stage without a `loss` table "
      "shares the global loss instance (and its state).");
  return 0;
}

}  // namespace

int execute(const Command& cmd) {
  try {
    switch (cmd.kind) {
      case Command::Kind::kRun:
        return run_command(cmd);
      case Command::Kind::kValidate:
        return validate_command(cmd);
      case Command::Kind::kSweep:
        return sweep(cmd);
      case Command::Kind::kCompare:
        return compare(cmd);
      case Command::Kind::kReport:
        return report(cmd);
      case Command::Kind::kPluginsList:
        return plugins_list(cmd);
      case Command::Kind::kPluginsDescribe:
        return plugins_describe(cmd);
      case Command::Kind::kPluginsInspect:
        return plugins_inspect(cmd);
      case Command::Kind::kConfigReference:
        return config_reference();
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
