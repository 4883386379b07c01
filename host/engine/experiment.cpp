// host/engine/experiment.cpp - config sections -> plugins -> configured components.
#include "engine/experiment.hpp"

#include "config/experiment.hpp"

#include <torch/cuda.h>

#include <sstream>

namespace fs = std::filesystem;

namespace tailor::host {
namespace {

const std::vector<std::string> kSections = {"experiment", "dataset", "backbone", "head",
                                            "loss",       "train",   "plugins"};

// The `plugin = "name"` key of a component section.
std::string plugin_name(const toml::table& root, const std::string& section,
                        const fs::path& file) {
  const toml::node* table = root.get(section);
  if (table == nullptr || !table->is_table())
    throw ConfigError(file.string() + ": missing section [" + section + "]; add it with a " +
                      "`plugin = \"...\"` key (run `tailor plugins list` for the choices)");
  const toml::node* name = table->as_table()->get("plugin");
  if (name == nullptr)
    throw ConfigError(origin_of(*table) + ": [" + section + "] needs a `plugin = \"...\"` key " +
                      "(run `tailor plugins list` for the choices)");
  if (!name->is_string())
    throw ConfigError(origin_of(*name) + ": [" + section +
                      "] plugin must be a string naming a plugin, e.g. plugin = \"ce\"");
  return name->as_string()->get();
}

ResolvedSection resolve_plugin_section(const toml::table& root, const std::string& section,
                                       const LoadedPlugin& plugin) {
  const toml::node* node = root.get(section);
  ResolvedSection resolved = resolve_section(section, node->as_table(),
                                             parse_schema(plugin.schema_text), {"plugin"});
  return resolved;
}

c10::Device pick_device(const std::string& wanted) {
  const bool cuda = torch::cuda::is_available();
  if (wanted == "cuda" && !cuda)
    throw ConfigError("[experiment] device = \"cuda\", but this build of tailor or this " +
                      std::string("machine has no CUDA; use device = \"auto\" or \"cpu\""));
  return (wanted == "cuda" || (wanted == "auto" && cuda)) ? c10::Device(c10::kCUDA, 0)
                                                         : c10::Device(c10::kCPU);
}

}  // namespace

std::unique_ptr<Experiment> Experiment::load(const fs::path& file,
                                             const std::vector<std::string>& overrides,
                                             const fs::path& executable) {
  std::unique_ptr<Experiment> e(new Experiment());
  e->file_ = file;
  const toml::table root = load_experiment(file, overrides);
  check_sections(root, kSections);

  ResolvedSection section;
  e->experiment_ = read_section<ExperimentOptions>(root, "experiment", &section);
  e->resolved_.push_back(std::move(section));
  e->train_ = read_section<TrainOptions>(root, "train", &section);
  e->resolved_.push_back(std::move(section));
  e->head_ = read_section<HeadOptions>(root, "head", &section);
  e->resolved_.push_back(std::move(section));
  e->plugins_ = read_section<PluginsOptions>(root, "plugins", &section);
  e->resolved_.push_back(std::move(section));

  for (const auto& dir : e->plugins_.paths) {
    const fs::path p(dir);
    e->loader_.add_search_dir(p.is_absolute() ? p : file.parent_path() / p);
  }
  e->loader_.add_default_dirs(executable);
  e->device_ = pick_device(e->experiment_.device);

  // Load all three plugins first so a bad name fails before any data is read.
  const auto& dataset_plugin = e->loader_.load(plugin_name(root, "dataset", file), TAILOR_KIND_DATASET);
  const auto& backbone_plugin =
      e->loader_.load(plugin_name(root, "backbone", file), TAILOR_KIND_BACKBONE);
  const auto& loss_plugin = e->loader_.load(plugin_name(root, "loss", file), TAILOR_KIND_LOSS);
  ResolvedSection dataset_section = resolve_plugin_section(root, "dataset", dataset_plugin);
  ResolvedSection backbone_section = resolve_plugin_section(root, "backbone", backbone_plugin);
  ResolvedSection loss_section = resolve_plugin_section(root, "loss", loss_plugin);

  e->dataset_ = std::make_unique<DatasetPlugin>(dataset_plugin, dataset_section.config());
  const DatasetInfo& info = e->dataset_->info();
  TAILOR_CHECK(info.num_classes > 1, "dataset '", dataset_plugin.name, "' reports ",
               info.num_classes, " classes; at least 2 are needed");
  TAILOR_CHECK(e->dataset_->size(Split::kTrain) > 0, "dataset '", dataset_plugin.name,
               "' has an empty train split");
  const at::Tensor labels = e->dataset_->labels(Split::kTrain);
  TAILOR_CHECK(labels.numel() == e->dataset_->size(Split::kTrain), "dataset '",
               dataset_plugin.name, "' returned ", labels.numel(), " train labels for ",
               e->dataset_->size(Split::kTrain), " samples");
  TAILOR_CHECK(labels.numel() == 0 || (labels.min().item<int64_t>() >= 0 &&
                                       labels.max().item<int64_t>() < info.num_classes),
               "dataset '", dataset_plugin.name, "' has train labels outside [0, ",
               info.num_classes, ")");
  const at::Tensor counts = labels.to(at::kLong).bincount({}, info.num_classes);
  e->class_counts_.assign(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + counts.numel());

  BackboneContext backbone_context;
  backbone_context.sample_shape = info.sample_shape;
  backbone_context.num_classes = info.num_classes;
  e->backbone_ =
      std::make_unique<BackbonePlugin>(backbone_plugin, backbone_section.config(), backbone_context);

  LossContext loss_context;
  loss_context.num_classes = info.num_classes;
  loss_context.class_counts = e->class_counts_;
  loss_context.feature_dim = e->backbone_->feature_dim();
  loss_context.device = e->device_;
  loss_context.total_epochs = e->train_.epochs;
  e->loss_ = std::make_unique<LossPlugin>(loss_plugin, loss_section.config(), loss_context);
  if ((e->loss_->needs() & TAILOR_LOSS_NEEDS_META_STEP) != 0)
    throw ConfigError("loss '" + loss_plugin.name +
                      "' needs the meta-learning step, which this engine does not run yet");

  e->resolved_.push_back(std::move(dataset_section));
  e->resolved_.push_back(std::move(backbone_section));
  e->resolved_.push_back(std::move(loss_section));
  return e;
}

std::string Experiment::resolved_toml() const {
  toml::table out;
  for (const auto& section : resolved_) {
    toml::table t = section.table();
    for (const char* component : {"dataset", "backbone", "loss"}) {
      if (section.name() != component) continue;
      const std::string plugin = section.name() == "dataset"    ? dataset_->name()
                                 : section.name() == "backbone" ? backbone_->name()
                                                                : loss_->name();
      t.insert_or_assign("plugin", plugin);
    }
    out.insert_or_assign(section.name(), std::move(t));
  }
  std::ostringstream s;
  s << "# Fully resolved configuration of this run: every key, defaults filled in.\n"
    << "# Source: " << file_.string() << "\n\n"
    << out << "\n";
  return s.str();
}

}  // namespace tailor::host
