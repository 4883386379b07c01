// host/cli/run_command.hpp - `tailor run` and `tailor validate`, one process or one rank of
// a data-parallel run.
#pragma once

#include "cli/commands.hpp"

#include <filesystem>

namespace tailor::host {

/// Trains command.experiment (or resumes command.resume) into a run directory. Under
/// torchrun, Slurm or `--nproc N` this process is one rank: rank 0 writes the run directory,
/// the others log to log.rank<N>.txt in it.
int run_command(const Command& command);
/// Resolves and builds the experiment, prints the resolved configuration; trains nothing.
int validate_command(const Command& command);

/// Logs to stderr and, when given, to `log_file`. `console_level_warn`: only warnings and
/// errors reach stderr (ranks other than 0).
void set_logger(const std::filesystem::path& log_file, bool verbose, bool console_level_warn = false);

}  // namespace tailor::host
