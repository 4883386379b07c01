// tests/fuzz/fuzz_config.cpp - libFuzzer target: the experiment layer (TOML with bases,
// `--set` overrides, schemas, every host section read into its typed options; [sampler] and
// [head] are plugin sections and only pass the section check here).
//
// Input: an experiment file. Lines after a line "%%set" are `--set` overrides; text after a
// line "%%schema" is a plugin schema, checked and resolved against the [loss] table. The
// file sits next to base.toml (a valid base), so `base = ["base.toml"]` and cycles through
// the file itself are reachable. Every bad input must end as ConfigError or tailor::Error;
// any other exception escapes and counts as a finding.
#include "config/experiment.hpp"
#include "config/schema.hpp"
#include "config/options.hpp"

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace tailor::host;

namespace {

const fs::path& work_dir() {
  static const fs::path dir = [] {
    const fs::path d =
        fs::temp_directory_path() / ("tailor-fuzz-config-" + std::to_string(::getpid()));
    fs::create_directories(d);
    std::ofstream(d / "base.toml") << "[experiment]\nname = \"base\"\nseed = 1\n"
                                      "[train]\nepochs = 2\n[loss]\nplugin = \"ce\"\n";
    return d;
  }();
  return dir;
}

const std::string kDefaultSchema =
    "gamma\tfloat\t2.0\t>= 0\tFocusing.\nreduction\tstring\t\"mean\"\tone of: mean, sum\tHow.\n"
    "weights\tfloat[]\t[]\t\tPer class.\nids\tint[]\t[1, 2]\t\tIds.\nflag\tbool\tfalse\t\tA "
    "flag.\n";

// Splits `text` at a line equal to `marker`: the part before, and the part after (or "").
std::pair<std::string, std::string> split_at(const std::string& text, const std::string& marker) {
  const std::string line = "\n" + marker + "\n";
  const auto at = text.find(line);
  if (at == std::string::npos) return {text, ""};
  return {text.substr(0, at + 1), text.substr(at + line.size())};
}

template <class T>
void read(const toml::table& root, const std::string& name) {
  try {
    read_section<T>(root, name);
  } catch (const ConfigError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  auto [rest, schema_text] = split_at(input, "%%schema");
  auto [file_text, set_text] = split_at(rest, "%%set");
  std::vector<std::string> overrides;
  for (size_t start = 0; start < set_text.size();) {
    const size_t end = std::min(set_text.find('\n', start), set_text.size());
    overrides.push_back(set_text.substr(start, end - start));
    start = end + 1;
  }
  const fs::path file = work_dir() / "experiment.toml";
  std::ofstream(file, std::ios::binary | std::ios::trunc) << file_text;

  toml::table root;
  try {
    root = load_experiment(file, overrides);
    check_sections(root, {"experiment", "dataset", "backbone", "head", "loss", "train", "optimizer",
                          "schedule", "sampler", "eval", "meta", "plugins", "stage", "report",
                          "distributed"});
  } catch (const ConfigError&) {
    return 0;
  }
  read<ExperimentOptions>(root, "experiment");
  read<TrainOptions>(root, "train");
  read<OptimizerOptions>(root, "optimizer");
  read<ScheduleOptions>(root, "schedule");
  read<EvalOptions>(root, "eval");
  read<MetaOptions>(root, "meta");
  read<DistributedOptions>(root, "distributed");
  read<PluginsOptions>(root, "plugins");
  try {
    const auto schema = parse_schema(schema_text.empty() ? kDefaultSchema : schema_text);
    const ResolvedSection loss = resolve_section("loss", find_section(root, "loss"), schema);
    (void)loss.table();
    for (const auto& entry : schema) (void)loss.find(entry.key);
  } catch (const ConfigError&) {
  }
  return 0;
}
