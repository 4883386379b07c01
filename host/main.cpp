// host/main.cpp - the `tailor` command line: parsing, then one call.
#include "cli/commands.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>

int main(int argc, char** argv) {
  using tailor::host::Command;
  Command cmd;
  cmd.executable = argv[0];

  CLI::App app{"tailor: long-tailed recognition experiments from TOML files and plugins"};
  app.require_subcommand(1);
  app.add_flag("-v,--verbose", cmd.verbose, "Debug logging");

  auto* run = app.add_subcommand("run", "Train an experiment into a new run directory");
  run->add_option("experiment", cmd.experiment, "Experiment TOML file");
  run->add_option("--resume", cmd.resume,
                  "Continue this run directory from its latest checkpoint (with EXPERIMENT: "
                  "check it is the same experiment)");
  run->add_option("--resume-from", cmd.resume_from,
                  "With --resume: continue from checkpoints/best.pt (best), epoch_<N>.pt "
                  "(epoch_<N>) or a checkpoint file instead of latest.pt");
  run->add_flag("--restart", cmd.restart,
                "With --resume: train again from epoch 1 in the run directory (when latest.pt "
                "is lost)");
  run->add_flag("--allow-config-change", cmd.allow_config_change,
                "With --resume: continue although config.resolved.toml was edited since the "
                "checkpoint (recorded in summary.json)");
  run->add_option("--set", cmd.overrides, "Override a key: --set loss.gamma=2");
  run->add_option("--out", cmd.out, "Exact run directory to create (default: runs/<name>/<time>)");
  run->add_option("--max-epochs", cmd.max_epochs,
                  "Cap every stage at N epochs (quick check of an experiment; recorded in the "
                  "resolved config)");
  run->add_option("--nproc", cmd.nproc,
                  "Train data-parallel with N local processes (ranks), as torchrun "
                  "--nproc-per-node N would start them")
      ->check(CLI::PositiveNumber);

  auto* validate = app.add_subcommand("validate", "Resolve the config and create every plugin; train nothing");
  validate->add_option("experiment", cmd.experiment, "Experiment TOML file")->required();
  validate->add_option("--set", cmd.overrides, "Override a key: --set loss.gamma=2");

  auto* sweep = app.add_subcommand(
      "sweep", "Run experiments over a grid of values and seeds; rerun the command to resume it");
  sweep->add_option("experiments", cmd.experiments, "Experiment TOML files")->required();
  sweep->add_option("--grid", cmd.grid, "An axis of the grid: --grid loss.gamma=0.5,1,2");
  sweep->add_option("--seeds", cmd.seeds, "Runs per grid point, seeds experiment.seed, +1, ...");
  sweep->add_option("--data-seeds", cmd.data_seeds,
                    "Long-tail subsamples per grid point, dataset.seed, +1, ... (each run with "
                    "every --seeds seed)");
  sweep->add_option("--jobs,-j", cmd.jobs, "Runs at a time (the cores are split between them)");
  sweep->add_option("--set", cmd.overrides, "Override a key in every run: --set train.epochs=4");
  sweep->add_option("--max-epochs", cmd.max_epochs, "Cap every stage of every run at N epochs");
  sweep->add_option("--out", cmd.out, "Sweep directory (default runs/sweeps/<name>)");
  sweep->add_option("--nproc-per-run", cmd.nproc_per_run,
                    "Run each run data-parallel with N local ranks (tailor run --nproc N)")
      ->check(CLI::PositiveNumber);

  auto* compare =
      app.add_subcommand("compare",
                         "Table of test metrics, means with 95 % intervals over seeds, one row per "
                         "configuration; paired tests against a baseline row");
  compare->add_option("runs", cmd.run_dirs, "Run directories, sweep directories or folders of runs")
      ->required();
  compare->add_option("--select", cmd.select,
                      "best: the epoch with the best val top-1 (default); last: the last epoch");
  compare->add_option("--csv", cmd.csv, "Also write the table as CSV to this file");
  compare->add_option("--markdown", cmd.markdown, "Also write the Markdown table to this file");
  compare->add_option("--html", cmd.html, "Also write an HTML report (table, charts) to this file");
  compare->add_option("--baseline", cmd.baseline,
                      "Experiment name (or row label) to compare every row with: paired "
                      "differences, bootstrap intervals, Holm-adjusted p-values");
  compare->add_option("--bootstrap", cmd.bootstrap, "Bootstrap replicates of --baseline (2000)");

  auto* report = app.add_subcommand("report", "Write report.html of run directories");
  report->add_option("runs", cmd.run_dirs, "Run directories")->required();

  auto* plugins = app.add_subcommand("plugins", "List, describe or inspect plugins");
  plugins->require_subcommand(1);
  auto* list = plugins->add_subcommand("list", "Plugins found in the search path");
  list->add_option("--plugin-dir", cmd.plugin_dirs, "Extra directory to search first");
  auto* describe = plugins->add_subcommand("describe", "Parameters, defaults and docs of a plugin");
  describe->add_option("name", cmd.plugin, "Plugin name")->required();
  describe->add_option("--plugin-dir", cmd.plugin_dirs, "Extra directory to search first");
  auto* inspect = plugins->add_subcommand("inspect", "Descriptor and compatibility of a .so file");
  inspect->add_option("path", cmd.plugin_file, "Plugin file")->required();

  auto* reference = app.add_subcommand("config-reference",
                                       "Print every host configuration key as Markdown tables");

  CLI11_PARSE(app, argc, argv);
  // The ranks `run --nproc N` starts get the same command line without --nproc.
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--nproc") {
      ++i;
      continue;
    }
    if (a.rfind("--nproc=", 0) != 0) cmd.arguments.push_back(a);
  }
  if (*run && cmd.experiment.empty() && cmd.resume.empty()) {
    std::cerr << "tailor run: give an experiment file, or --resume RUN_DIR\n";
    return 2;
  }
  if (*run && cmd.resume.empty() &&
      (!cmd.resume_from.empty() || cmd.restart || cmd.allow_config_change)) {
    std::cerr << "tailor run: --resume-from, --restart and --allow-config-change continue a run; "
                 "give --resume RUN_DIR too\n";
    return 2;
  }
  // A file-size limit (ulimit -f) then fails the write with EFBIG, which is reported and
  // leaves the last good checkpoint, instead of killing the process.
  std::signal(SIGXFSZ, SIG_IGN);
  if (*run) cmd.kind = Command::Kind::kRun;
  if (*validate) cmd.kind = Command::Kind::kValidate;
  if (*sweep) cmd.kind = Command::Kind::kSweep;
  if (*compare) cmd.kind = Command::Kind::kCompare;
  if (*list) cmd.kind = Command::Kind::kPluginsList;
  if (*describe) cmd.kind = Command::Kind::kPluginsDescribe;
  if (*inspect) cmd.kind = Command::Kind::kPluginsInspect;
  if (*reference) cmd.kind = Command::Kind::kConfigReference;
  if (*report) cmd.kind = Command::Kind::kReport;
  return tailor::host::execute(cmd);
}
