// host/sweep/sweep.cpp - planning, bookkeeping and child processes of `tailor sweep`.
#include "sweep/sweep.hpp"

#include "config/experiment.hpp"
#include "engine/resolve.hpp"
#include "engine/threads.hpp"
#include "report/run_dir.hpp"
#include "sweep/flat_config.hpp"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <string_view>
#include <thread>

extern char** environ;

namespace fs = std::filesystem;

namespace tailor::host {
namespace {

std::atomic<int> g_stop{0};
extern "C" void on_sweep_signal(int sig) {
  g_stop.store(sig);
}

// Keeps a path component readable and portable: letters, digits and . _ = - stay.
std::string path_safe(const std::string& text) {
  std::string out;
  for (char c : text) {
    const bool keep = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' ||
                      c == '=' || c == '-';
    out += keep ? c : '_';
  }
  return out.empty() ? "_" : out;
}

std::vector<std::string> split_values(const std::string& text) {
  std::vector<std::string> values;
  std::string current;
  int depth = 0;
  char quote = 0;
  for (char c : text) {
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == ',' && depth == 0) {
      values.push_back(current);
      current.clear();
      continue;
    }
    current += c;
  }
  values.push_back(current);
  return values;
}

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

fs::path default_sweep_dir(const std::vector<fs::path>& experiments) {
  const fs::path& first = experiments.front();
  const std::string name = experiments.size() == 1
                               ? first.stem().string()
                               : fs::absolute(first).parent_path().filename().string();
  return fs::path("runs") / "sweeps" / path_safe(name);
}

nlohmann::json plan_json(const std::vector<SweepRun>& runs) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : runs) {
    list.push_back({{"id", r.id},
                    {"experiment", fs::absolute(r.experiment).lexically_normal().string()},
                    {"overrides", r.overrides},
                    {"seed", r.seed}});
    if (r.data_seed >= 0) list.back()["data_seed"] = r.data_seed;
  }
  return list;
}

// Writes sweep.json, or checks that the one there describes the same runs.
void record_plan(const fs::path& dir, const std::vector<SweepRun>& runs, int64_t max_epochs) {
  const nlohmann::json plan = {
      {"format", 1}, {"max_epochs", max_epochs}, {"runs", plan_json(runs)}};
  const fs::path file = dir / "sweep.json";
  if (fs::exists(file)) {
    nlohmann::json old;
    try {
      std::ifstream in(file);
      old = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
      throw std::runtime_error(file.string() + " is not readable JSON (" + e.what() +
                               "); remove it or choose another --out");
    }
    if (old.value("runs", nlohmann::json()) != plan["runs"] ||
        old.value("max_epochs", int64_t{0}) != max_epochs)
      throw std::runtime_error(dir.string() +
                               " holds a different sweep (its sweep.json lists other "
                               "runs); rerun the command that made it to continue it, or give a "
                               "new --out");
    return;
  }
  fs::create_directories(dir);
  write_file_atomic(file, plan.dump(2) + "\n");
}

enum class State { kDone, kResume, kFresh };

State state_of(const fs::path& run_dir) {
  if (fs::exists(run_dir / "summary.json")) return State::kDone;
  if (fs::exists(run_dir / "config.resolved.toml")) return State::kResume;
  return State::kFresh;
}

struct Child {
  pid_t pid = -1;
  const SweepRun* run = nullptr;
  std::chrono::steady_clock::time_point start;
};

pid_t start_child(const SweepOptions& options, const SweepRun& run, const fs::path& run_dir,
                  const fs::path& log_file, int threads) {
  std::vector<std::string> args = {options.executable.string(), "run"};
  if (state_of(run_dir) == State::kResume) {
    args.insert(args.end(), {"--resume", run_dir.string()});
  } else {
    fs::remove_all(run_dir);  // a run that died before writing its config left nothing to keep
    args.insert(args.end(), {run.experiment.string(), "--out", run_dir.string()});
    for (const auto& o : run.overrides) args.insert(args.end(), {"--set", o});
    if (options.max_epochs > 0)
      args.insert(args.end(), {"--max-epochs", std::to_string(options.max_epochs)});
  }
  if (options.nproc_per_run > 1)
    args.insert(args.end(), {"--nproc", std::to_string(options.nproc_per_run)});
  if (options.verbose) args.emplace_back("-v");
  fs::create_directories(log_file.parent_path());

  // Everything the child needs is built before fork(): only async-signal-safe calls follow.
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_text = {"TAILOR_THREADS=" + std::to_string(threads)};
  for (char** e = environ; *e != nullptr; ++e)
    if (std::string_view(*e).rfind("TAILOR_THREADS=", 0) != 0) env_text.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string log_path = log_file.string();

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("cannot start a run: fork failed");
  if (pid == 0) {
    setpgid(0, 0);  // a terminal's Ctrl-C reaches the sweep, which forwards it once
    // A run outlives no sweep: when the sweep dies (SIGKILL, SIGHUP), the run gets SIGTERM and
    // stops at a checkpoint, so a rerun of the sweep never races an orphan for its directory.
    // Had the sweep died before prctl(), getppid() no longer names it.
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) _exit(143);
    const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  return pid;
}

// Plugin file -> SHA-256 when the sweep was planned.
using PluginHashes = std::map<std::string, std::string>;

// Warns when run `id` recorded (summary.json) a plugin file whose bytes differ from `now`:
// its results came from other code than the runs made now.
void warn_changed_plugins(const fs::path& run_dir, const std::string& id, const PluginHashes& now) {
  std::ifstream in(run_dir / "summary.json");
  const auto summary = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (summary.is_discarded() || !summary.contains("plugins")) return;
  for (const auto& p : summary["plugins"]) {
    const auto it = now.find(p.value("path", ""));
    if (it == now.end() || it->second == p.value("sha256", "")) continue;
    spdlog::warn("run {} used plugin '{}' ({}) with SHA-256 {}, but the file now has {}: it changed "
                 "between the runs of this sweep, so their results come from different code; rerun "
                 "the affected runs (delete their directories) if that matters",
                 id, p.value("name", ""), it->first, p.value("sha256", "").substr(0, 12),
                 it->second.substr(0, 12));
  }
}

// Waits while another process holds the lock of `run_dir` (a run of an earlier sweep still
// stopping, or a `tailor run --resume` by hand): two writers would interleave its metrics.
// Returns false when the sweep is told to stop meanwhile.
bool wait_until_unlocked(const fs::path& run_dir, const std::string& id) {
  if (!fs::is_directory(run_dir)) return true;
  bool told = false;
  for (;;) {
    pid_t holder = 0;
    if (RunDirLock::try_acquire(run_dir, &holder)) return true;  // released again at once
    if (!told)
      spdlog::warn("{} is being written by {}; waiting for it to finish", id,
                   holder > 0 ? "process " + std::to_string(holder) : "another process");
    told = true;
    if (g_stop.load() != 0) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

std::string log_name(const std::string& id) {
  std::string name = id;
  std::replace(name.begin(), name.end(), '/', '.');
  return name + ".log";
}

}  // namespace

GridAxis parse_grid_axis(const std::string& spec) {
  const auto eq = spec.find('=');
  if (eq == std::string::npos)
    throw std::runtime_error("--grid " + spec +
                             ": expected KEY=V1,V2,... (e.g. --grid loss.gamma=1,2)");
  GridAxis axis;
  axis.key = trim(spec.substr(0, eq));
  if (axis.key.empty())
    throw std::runtime_error("--grid " + spec + ": the key before '=' is empty");
  for (auto& v : split_values(spec.substr(eq + 1))) {
    v = trim(v);
    if (v.empty())
      throw std::runtime_error("--grid " + spec + ": empty value for " + axis.key +
                               "; give one or more comma-separated values");
    axis.values.push_back(v);
  }
  return axis;
}

std::vector<SweepRun> plan_sweep(const std::vector<fs::path>& experiments,
                                 const std::vector<GridAxis>& axes,
                                 const std::vector<std::string>& overrides, int64_t seeds,
                                 const std::vector<int64_t>& base_seeds, int64_t data_seeds,
                                 const std::vector<int64_t>& base_data_seeds) {
  std::map<std::string, int> stems;
  for (const auto& e : experiments) ++stems[e.stem().string()];
  std::vector<SweepRun> runs;
  for (size_t e = 0; e < experiments.size(); ++e) {
    const fs::path& file = experiments[e];
    std::string stem = file.stem().string();
    if (stems[stem] > 1) stem = fs::absolute(file).parent_path().filename().string() + "_" + stem;
    size_t points = 1;
    for (const auto& a : axes) points *= a.values.size();
    for (size_t p = 0; p < points; ++p) {
      std::vector<std::string> set = overrides;
      std::string point;
      size_t rest = p;
      std::vector<size_t> pick(axes.size());
      for (size_t a = axes.size(); a-- > 0;) {
        pick[a] = rest % axes[a].values.size();
        rest /= axes[a].values.size();
      }
      for (size_t a = 0; a < axes.size(); ++a) {
        const std::string& v = axes[a].values[pick[a]];
        set.push_back(axes[a].key + "=" + v);
        point += (point.empty() ? "" : "_") + path_safe(axes[a].key + "=" + v);
      }
      for (int64_t d = 0; d < std::max<int64_t>(data_seeds, 1); ++d) {
        for (int64_t s = 0; s < seeds; ++s) {
          SweepRun run;
          run.experiment = file;
          run.seed = base_seeds.at(e) + s;
          run.overrides = set;
          std::string prefix = path_safe(stem) + "/" + (point.empty() ? "" : point + "/");
          if (data_seeds > 0) {
            run.data_seed = base_data_seeds.at(e) + d;
            run.overrides.push_back("dataset.seed=" + std::to_string(run.data_seed));
            prefix += "data_seed" + std::to_string(run.data_seed) + "/";
          }
          run.overrides.push_back("experiment.seed=" + std::to_string(run.seed));
          run.id = prefix + "seed" + std::to_string(run.seed);
          runs.push_back(std::move(run));
        }
      }
    }
  }
  return runs;
}

int run_sweep(const SweepOptions& options) {
  if (options.experiments.empty())
    throw std::runtime_error("tailor sweep: give one or more experiment files");
  if (options.seeds < 1) throw std::runtime_error("--seeds must be at least 1");
  if (options.data_seeds < 0) throw std::runtime_error("--data-seeds must be at least 1");
  if (options.jobs < 1) throw std::runtime_error("--jobs must be at least 1");
  std::vector<GridAxis> axes;
  std::set<std::string> keys;
  for (const auto& spec : options.grid) {
    axes.push_back(parse_grid_axis(spec));
    if (!keys.insert(axes.back().key).second)
      throw std::runtime_error("--grid names " + axes.back().key + " twice; give its values once");
    if (axes.back().key == "experiment.seed")
      throw std::runtime_error("--grid experiment.seed: use --seeds N to repeat runs over seeds");
    if (axes.back().key == "dataset.seed")
      throw std::runtime_error(
          "--grid dataset.seed: use --data-seeds M to repeat runs over long-tail subsamples "
          "(`tailor compare` counts them as repetitions of one configuration)");
  }

  // Every experiment must resolve, and every grid key must be one of its keys.
  std::vector<int64_t> base_seeds, base_data_seeds;
  PluginHashes hashes;
  for (const auto& file : options.experiments) {
    PluginLoader loader;
    const ResolvedConfig config = resolve(file, options.overrides, loader, options.executable);
    for (const LoadedPlugin* p : config.loaded_plugins()) hashes[p->path.string()] = p->sha256;
    const auto flat = flatten_config(config.toml(), file.string());
    for (const auto& axis : axes) {
      if (flat.count(axis.key) != 0) continue;
      std::vector<std::string> candidates;
      for (const auto& [k, v] : flat) candidates.push_back(k);
      const std::string guess = did_you_mean(axis.key, candidates);
      throw std::runtime_error("--grid " + axis.key +
                               ": no such key in the resolved configuration of " + file.string() +
                               (guess.empty() ? "" : "; did you mean '" + guess + "'?") +
                               " (`tailor validate " + file.string() + "` prints every key)");
    }
    base_seeds.push_back(config.experiment.seed);
    if (options.data_seeds > 0) {
      // The long-tail subsample is the dataset plugin's business: only one with a `seed`
      // option draws it at random.
      const auto seed = flat.find("dataset.seed");
      if (seed == flat.end())
        throw std::runtime_error(
            "--data-seeds: dataset plugin '" + config.dataset.plugin->name + "' of " +
            file.string() +
            " has no `seed` option, so its long-tailed train split is fixed (by its list files "
            "or protocol) and there is no subsample to vary; drop --data-seeds for it "
            "(`tailor plugins describe " +
            config.dataset.plugin->name + "` lists its options)");
      base_data_seeds.push_back(std::stoll(seed->second));
    }
  }

  const auto runs = plan_sweep(options.experiments, axes, options.overrides, options.seeds,
                               base_seeds, options.data_seeds, base_data_seeds);
  const fs::path dir = options.out.empty() ? default_sweep_dir(options.experiments) : options.out;
  record_plan(dir, runs, options.max_epochs);

  std::vector<const SweepRun*> unfinished;
  for (const auto& r : runs) {
    if (state_of(dir / r.id) != State::kDone) unfinished.push_back(&r);
    else warn_changed_plugins(dir / r.id, r.id, hashes);
  }
  spdlog::info("sweep {}: {} runs, {} finished, {} to run, {} at a time", dir.string(), runs.size(),
               runs.size() - unfinished.size(), unfinished.size(), options.jobs);

  std::string how;
  const int threads = std::max(1, usable_cores(&how) / static_cast<int>(options.jobs));
  // No SA_RESTART: a signal must interrupt waitpid() so that it is forwarded at once.
  g_stop.store(0);
  struct sigaction action {
  }, old_int{}, old_term{};
  action.sa_handler = on_sweep_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &old_int);
  sigaction(SIGTERM, &action, &old_term);

  std::vector<Child> running;
  std::vector<std::string> failed;
  size_t next = 0, finished = 0;
  bool forwarded = false;
  while (next < unfinished.size() || !running.empty()) {
    while (g_stop.load() == 0 && next < unfinished.size() &&
           running.size() < static_cast<size_t>(options.jobs)) {
      const SweepRun& r = *unfinished[next++];
      if (!wait_until_unlocked(dir / r.id, r.id)) break;
      if (state_of(dir / r.id) == State::kDone) {  // the other writer finished it
        ++finished;
        spdlog::info("[{}/{}] {} was finished meanwhile", next, unfinished.size(), r.id);
        continue;
      }
      const bool resuming = state_of(dir / r.id) == State::kResume;
      Child c;
      c.run = &r;
      c.start = std::chrono::steady_clock::now();
      c.pid = start_child(options, r, dir / r.id, dir / "logs" / log_name(r.id), threads);
      spdlog::info("[{}/{}] start {}{}", next, unfinished.size(), r.id,
                   resuming ? " (resuming)" : "");
      running.push_back(c);
    }
    if (g_stop.load() != 0 && !forwarded) {
      for (const auto& c : running) kill(c.pid, g_stop.load());
      forwarded = true;
      spdlog::warn(
          "stopping: the running runs write a checkpoint; rerun the same command to continue");
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    auto it =
        std::find_if(running.begin(), running.end(), [&](const Child& c) { return c.pid == pid; });
    if (it == running.end()) continue;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - it->start).count();
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    const std::string id = it->run->id;
    running.erase(it);
    if (code == 0) {
      ++finished;
      spdlog::info("done {} in {:.0f} s", id, seconds);
      warn_changed_plugins(dir / id, id, hashes);
    } else if (g_stop.load() != 0) {
      spdlog::warn("stopped {} (exit {})", id, code);
    } else {
      failed.push_back(id);
      spdlog::error("run {} failed (exit {}); its output is in {}", id, code,
                    (dir / "logs" / log_name(id)).string());
    }
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);

  if (g_stop.load() != 0) {
    spdlog::warn("sweep interrupted: {} of {} runs to go; rerun the same command to continue",
                 unfinished.size() - finished, runs.size());
    return 128 + g_stop.load();
  }
  if (!failed.empty()) {
    spdlog::error(
        "{} of {} runs failed: {}; fix the cause and rerun the command (finished runs are kept)",
        failed.size(), runs.size(), failed.front());
    return 1;
  }
  spdlog::info("sweep finished: {} runs in {}; summarise with `tailor compare {}`", runs.size(),
               dir.string(), dir.string());
  return 0;
}

}  // namespace tailor::host
