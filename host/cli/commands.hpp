// host/cli/commands.hpp - the subcommands of `tailor`, one function each.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tailor::host {

/// Parsed command line.
struct Command {
  enum class Kind {
    kRun,
    kValidate,
    kSweep,
    kCompare,
    kPluginsList,
    kPluginsDescribe,
    kPluginsInspect,
    kConfigReference,
    kReport
  };
  Kind kind = Kind::kRun;
  std::filesystem::path executable;       ///< argv[0], to find the bundled plugins
  std::filesystem::path experiment;       ///< run, validate
  std::vector<std::string> overrides;     ///< --set key.path=value
  std::filesystem::path out;              ///< run --out: exact run directory
  std::filesystem::path resume;           ///< run --resume: run directory to continue
  std::string resume_from;                ///< run --resume-from: latest|best|epoch_<N>|PATH
  bool restart = false;                   ///< run --restart: train again from epoch 1
  bool allow_config_change = false;       ///< run --allow-config-change
  std::string plugin;                     ///< plugins describe NAME
  std::filesystem::path plugin_file;      ///< plugins inspect PATH
  std::vector<std::filesystem::path> plugin_dirs;  ///< --plugin-dir for plugins *
  int64_t max_epochs = 0;                 ///< run/sweep: cap every stage's epochs (0: none)
  std::vector<std::filesystem::path> experiments;  ///< sweep: experiment files
  std::vector<std::string> grid;          ///< sweep --grid key=v1,v2
  int64_t seeds = 1;                      ///< sweep --seeds
  int64_t data_seeds = 0;                 ///< sweep --data-seeds (0: dataset.seed not varied)
  int64_t jobs = 1;                       ///< sweep --jobs
  std::vector<std::filesystem::path> run_dirs;  ///< compare: run or sweep directories
  std::string select = "best";            ///< compare --select best|last
  std::filesystem::path csv;              ///< compare --csv FILE
  std::filesystem::path markdown;         ///< compare --markdown FILE
  int64_t nproc = 1;                      ///< run --nproc: local ranks to start
  std::vector<std::string> arguments;     ///< run: the command line minus --nproc (for ranks)
  int64_t nproc_per_run = 1;              ///< sweep --nproc-per-run
  std::filesystem::path html;             ///< compare --html FILE
  std::string baseline;                   ///< compare --baseline NAME
  int64_t bootstrap = 2000;               ///< compare --bootstrap N (replicates)
  bool verbose = false;
};

/// Runs the command; returns the process exit status. Errors are printed, not thrown.
int execute(const Command& command);

}  // namespace tailor::host
