// host/sweep/sweep.hpp - `tailor sweep`: the cross product of experiments, grid values and
// seeds, each a normal run directory, run as child processes and resumable as a whole.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tailor::host {

/// One `--grid key=v1,v2,...` axis.
struct GridAxis {
  std::string key;
  std::vector<std::string> values;  ///< TOML literals, as `--set` takes them
};

/// Parses `key=v1,v2`. Commas inside brackets or quotes belong to the value, so array
/// values work (`--grid optimizer.betas=[0.9,0.99],[0.9,0.999]`). Throws on a spec
/// without `=`, an empty key or no values.
GridAxis parse_grid_axis(const std::string& spec);

/// One run of a sweep.
struct SweepRun {
  std::string id;                      ///< path below the sweep directory, e.g. ce/rho=10/seed1
  std::filesystem::path experiment;    ///< experiment file
  std::vector<std::string> overrides;  ///< --set values, the sweep's own included
  int64_t seed = 0;
  int64_t data_seed = -1;  ///< dataset.seed set by --data-seeds; -1: not varied
};

/// What `tailor sweep` was asked to do.
struct SweepOptions {
  std::vector<std::filesystem::path> experiments;
  std::vector<std::string> grid;       ///< `key=v1,v2` specs
  std::vector<std::string> overrides;  ///< --set applied to every run
  int64_t seeds = 1;                   ///< seeds experiment.seed, +1, ... per point
  int64_t data_seeds = 0;             ///< long-tail subsamples dataset.seed, +1, ...; 0: not varied
  int64_t jobs = 1;                    ///< runs at a time
  int64_t nproc_per_run = 1;           ///< ranks of each run (`tailor run --nproc`)
  int64_t max_epochs = 0;              ///< passed to every run (0: none)
  std::filesystem::path out;           ///< sweep directory (default runs/sweeps/<stem>)
  std::filesystem::path executable;    ///< this `tailor`, started for each run
  bool verbose = false;
};

/// The runs of a sweep in execution order: experiments, then grid points (last axis fastest),
/// then data seeds, then seeds. `base_seeds[i]` is experiment i's configured seed and
/// `base_data_seeds[i]` its dataset.seed. With `data_seeds` > 0 every run also sets
/// dataset.seed and lives in .../data_seed<D>/seed<S>; with 0 dataset.seed is left alone
/// (.../seed<S>).
std::vector<SweepRun> plan_sweep(const std::vector<std::filesystem::path>& experiments,
                                 const std::vector<GridAxis>& axes,
                                 const std::vector<std::string>& overrides, int64_t seeds,
                                 const std::vector<int64_t>& base_seeds, int64_t data_seeds = 0,
                                 const std::vector<int64_t>& base_data_seeds = {});

/// Checks every experiment and grid key (each key must exist in the resolved configuration;
/// with --data-seeds the dataset plugin must have a `seed` option), writes or checks
/// <out>/sweep.json, then runs what is not finished: a run directory with a
/// summary.json is done, one with a resolved config is resumed, anything else starts afresh.
/// A run directory another process holds (its writer lock) is waited for first. Each run is
/// a child process that receives SIGTERM when the sweep dies. Returns 0 when every run
/// finished, 128 + the signal when interrupted (130 for SIGINT, 143 for SIGTERM), 1 when some
/// run failed.
int run_sweep(const SweepOptions& options);

}  // namespace tailor::host
