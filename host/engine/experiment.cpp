// host/engine/experiment.cpp - config sections -> plugins -> configured components.
#include "engine/experiment.hpp"

#include "config/experiment.hpp"
#include "engine/preflight.hpp"

#include <torch/cuda.h>
#include <torch/utils.h>

#include <sstream>

namespace fs = std::filesystem;

namespace tailor::host {
namespace {

const std::vector<std::string> kSections = {
    "experiment", "dataset", "backbone", "head",   "loss", "train",  "optimizer",
    "schedule",   "sampler", "eval",     "meta",   "plugins", "stage"};
const std::vector<std::string> kStageTables = {"train", "optimizer", "schedule", "sampler", "loss"};

// The `plugin = "name"` key of a component table.
std::string plugin_name(const toml::table* table, const std::string& section,
                        const fs::path& file) {
  if (table == nullptr)
    throw ConfigError(file.string() + ": missing section [" + section + "]; add it with a " +
                      "`plugin = \"...\"` key (run `tailor plugins list` for the choices)");
  const toml::node* name = table->get("plugin");
  if (name == nullptr)
    throw ConfigError(origin_of(*table) + ": [" + section + "] needs a `plugin = \"...\"` key " +
                      "(run `tailor plugins list` for the choices)");
  if (!name->is_string())
    throw ConfigError(origin_of(*name) + ": [" + section +
                      "] plugin must be a string naming a plugin, e.g. plugin = \"ce\"");
  return name->as_string()->get();
}

// TOML literal of one node ("2.0", "\"ce\"", "[1, 2]").
std::string literal_of(const toml::node& node) {
  toml::table holder;
  holder.insert("v", node);
  std::ostringstream s;
  s << holder;
  std::string text = s.str();
  return text.substr(text.find('=') + 1);
}

// `schema` with its defaults replaced by the values of `values` (a resolved table), so a
// stage table is read over the global one.
std::vector<SchemaEntry> over_values(std::vector<SchemaEntry> schema, const toml::table& values) {
  for (auto& e : schema)
    if (const toml::node* n = values.get(e.key)) e.default_literal = literal_of(*n);
  return schema;
}

template <class T>
std::vector<SchemaEntry> schema_over(const T& base) {
  T copy = base;
  SchemaWriter writer;
  copy.visit(writer);
  return parse_schema(writer.text());
}

template <class T>
T read_over(const toml::table* table, const std::string& name, const T& base,
            ResolvedSection* out, const std::vector<std::string>& ignored = {}) {
  ResolvedSection r = resolve_section(name, table, schema_over(base), ignored);
  T value;
  try {
    value = read_options<T>(r.config());
  } catch (const tailor::Error& e) {
    throw ConfigError(e.what());
  }
  if (out != nullptr) *out = std::move(r);
  return value;
}

const toml::table* subtable(const toml::table& t, const std::string& key, const std::string& where) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return nullptr;
  if (!n->is_table())
    throw ConfigError(origin_of(*n) + ": " + where + "." + key + " must be a table, e.g. [" +
                      where + "." + key + "]");
  return n->as_table();
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

LossPlugin& Experiment::create_loss(const LoadedPlugin& plugin, ResolvedSection section,
                                    int64_t epochs) {
  LossContext context;
  context.num_classes = dataset_->info().num_classes;
  context.class_counts = class_counts_;
  context.feature_dim = backbone_->feature_dim();
  context.device = device_;
  context.total_epochs = epochs;
  losses_.push_back(std::make_unique<LossPlugin>(plugin, section.config(), context));
  loss_sections_.push_back(std::move(section));
  LossPlugin& loss = *losses_.back();
  if ((loss.needs() & TAILOR_LOSS_NEEDS_META_STEP) != 0 && meta_.scope == "full" &&
      !backbone_->has_functional_forward())
    throw ConfigError("loss '" + plugin.name + "' uses [meta] scope = \"full\", but backbone '" +
                      backbone_->name() + "' has no functional forward; set scope = \"head\"");
  if ((loss.needs() & TAILOR_LOSS_NEEDS_META_STEP) != 0 && meta_.split == "val" &&
      dataset_->size(Split::kVal) == 0)
    throw ConfigError("loss '" + plugin.name + "' needs a meta split, but dataset '" +
                      dataset_->name() + "' has no val split; give the dataset one or set " +
                      "[meta] split = \"train\"");
  if ((loss.needs() & TAILOR_LOSS_NEEDS_VAL_STATS) != 0 && dataset_->size(Split::kVal) == 0)
    throw ConfigError("loss '" + plugin.name + "' learns from per-class validation accuracy, " +
                      "but dataset '" + dataset_->name() + "' has no val split");
  if ((loss.needs() & TAILOR_LOSS_NORMED_HEAD) != 0 && head_.type != "cosine")
    throw ConfigError("loss '" + plugin.name + "' expects cosine logits; set [head] type = " +
                      "\"cosine\" (LDAM's NormedLinear)");
  return loss;
}

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
  const auto optimizer = read_section<OptimizerOptions>(root, "optimizer", &section);
  e->resolved_.push_back(std::move(section));
  const auto schedule = read_section<ScheduleOptions>(root, "schedule", &section);
  e->resolved_.push_back(std::move(section));
  const auto sampler = read_section<SamplerOptions>(root, "sampler", &section);
  e->resolved_.push_back(std::move(section));
  e->head_ = read_section<HeadOptions>(root, "head", &section);
  e->resolved_.push_back(std::move(section));
  e->eval_ = read_section<EvalOptions>(root, "eval", &section);
  e->resolved_.push_back(std::move(section));
  e->meta_ = read_section<MetaOptions>(root, "meta", &section);
  e->resolved_.push_back(std::move(section));
  e->plugins_ = read_section<PluginsOptions>(root, "plugins", &section);
  for (auto& dir : e->plugins_.paths) {
    const fs::path p(dir);
    dir = fs::absolute(p.is_absolute() ? p : file.parent_path() / p).lexically_normal().string();
    e->loader_.add_search_dir(dir);
  }
  e->loader_.add_default_dirs(executable);
  e->device_ = pick_device(e->experiment_.device);
  if (e->eval_.few_threshold > e->eval_.many_threshold)
    throw ConfigError("[eval] few_threshold (" + std::to_string(e->eval_.few_threshold) +
                      ") is above many_threshold (" + std::to_string(e->eval_.many_threshold) +
                      "); few-shot classes must have fewer samples than many-shot ones");

  // Load every plugin first, so a bad name fails before any data is read.
  const toml::table* dataset_table = find_section(root, "dataset");
  const toml::table* backbone_table = find_section(root, "backbone");
  const toml::table* loss_table = find_section(root, "loss");
  const auto& dataset_plugin =
      e->loader_.load(plugin_name(dataset_table, "dataset", file), TAILOR_KIND_DATASET);
  const auto& backbone_plugin =
      e->loader_.load(plugin_name(backbone_table, "backbone", file), TAILOR_KIND_BACKBONE);
  const auto& loss_plugin = e->loader_.load(plugin_name(loss_table, "loss", file), TAILOR_KIND_LOSS);
  ResolvedSection dataset_section =
      resolve_section("dataset", dataset_table, parse_schema(dataset_plugin.schema_text));
  ResolvedSection backbone_section =
      resolve_section("backbone", backbone_table, parse_schema(backbone_plugin.schema_text));
  ResolvedSection loss_section =
      resolve_section("loss", loss_table, parse_schema(loss_plugin.schema_text));

  // Stages: [[stage]] tables read over the global sections.
  std::vector<StagePlan> plans;
  std::vector<const toml::table*> stage_loss_tables;
  if (const toml::node* stages = root.get("stage")) {
    if (!stages->is_array_of_tables() || stages->as_array()->empty())
      throw ConfigError(origin_of(*stages) + ": stage must be a list of [[stage]] tables");
    int i = 0;
    for (const auto& node : *stages->as_array()) {
      const toml::table& t = *node.as_table();
      const std::string where = "stage[" + std::to_string(i) + "]";
      StagePlan plan;
      plan.index = i;
      ResolvedSection stage_section;
      StageOptions defaults;
      defaults.name = "stage" + std::to_string(i);
      plan.stage = read_over(&t, where, defaults, &stage_section, kStageTables);
      if (plan.stage.epochs < 1)
        throw ConfigError(origin_of(t) + ": [[stage]] " + where +
                          " needs `epochs = N` (N >= 1)");
      plan.train = read_over(subtable(t, "train", where), where + ".train", e->train_, nullptr);
      plan.optimizer = read_over(subtable(t, "optimizer", where), where + ".optimizer", optimizer, nullptr);
      plan.schedule = read_over(subtable(t, "schedule", where), where + ".schedule", schedule, nullptr);
      plan.sampler = read_over(subtable(t, "sampler", where), where + ".sampler", sampler, nullptr);
      plan.train.epochs = plan.stage.epochs;
      for (const auto& part : plan.stage.reinit)
        if (part != "head")
          throw ConfigError(origin_of(t) + ": " + where + ".reinit names '" + part +
                            "'; only the head can be re-initialised (reinit = [\"head\"])");
      plans.push_back(plan);
      stage_loss_tables.push_back(subtable(t, "loss", where));
      ++i;
    }
  } else {
    StagePlan plan;
    plan.stage.name = "main";
    plan.stage.epochs = e->train_.epochs;
    plan.train = e->train_;
    plan.optimizer = optimizer;
    plan.schedule = schedule;
    plan.sampler = sampler;
    plans.push_back(plan);
    stage_loss_tables.push_back(nullptr);
  }

  // The same seed gives the same initialisation: seed before any plugin creates weights.
  torch::manual_seed(static_cast<uint64_t>(e->experiment_.seed));
  e->dataset_ = std::make_unique<DatasetPlugin>(dataset_plugin, dataset_section.config());
  const DatasetInfo& info = e->dataset_->info();
  TAILOR_CHECK(info.num_classes > 1, "dataset '", dataset_plugin.name, "' reports ",
               info.num_classes, " classes; at least 2 are needed");
  TAILOR_CHECK(e->dataset_->size(Split::kTrain) > 0, "dataset '", dataset_plugin.name,
               "' has an empty train split");
  const at::Tensor labels = e->dataset_->labels(Split::kTrain).to(at::kLong).contiguous();
  TAILOR_CHECK(labels.numel() == e->dataset_->size(Split::kTrain), "dataset '",
               dataset_plugin.name, "' returned ", labels.numel(), " train labels for ",
               e->dataset_->size(Split::kTrain), " samples");
  TAILOR_CHECK(labels.min().item<int64_t>() >= 0 && labels.max().item<int64_t>() < info.num_classes,
               "dataset '", dataset_plugin.name, "' has train labels outside [0, ",
               info.num_classes, ")");
  e->train_labels_.assign(labels.data_ptr<int64_t>(), labels.data_ptr<int64_t>() + labels.numel());
  const at::Tensor counts = labels.bincount({}, info.num_classes);
  e->class_counts_.assign(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + counts.numel());

  BackboneContext backbone_context;
  backbone_context.sample_shape = info.sample_shape;
  backbone_context.num_classes = info.num_classes;
  e->backbone_ =
      std::make_unique<BackbonePlugin>(backbone_plugin, backbone_section.config(), backbone_context);

  const toml::table global_loss_values = loss_section.table();
  LossPlugin& global_loss = e->create_loss(loss_plugin, std::move(loss_section), plans.front().stage.epochs);
  for (size_t i = 0; i < plans.size(); ++i) {
    const toml::table* t = stage_loss_tables[i];
    if (t == nullptr) {
      plans[i].loss = &global_loss;
      continue;
    }
    const std::string where = "stage[" + std::to_string(i) + "].loss";
    const toml::node* named = t->get("plugin");
    if (named != nullptr && named->is_string() && named->as_string()->get() != loss_plugin.name) {
      const auto& p = e->loader_.load(named->as_string()->get(), TAILOR_KIND_LOSS);
      plans[i].loss = &e->create_loss(p, resolve_section(where, t, parse_schema(p.schema_text)),
                                      plans[i].stage.epochs);
    } else {
      const auto schema = over_values(parse_schema(loss_plugin.schema_text), global_loss_values);
      plans[i].loss = &e->create_loss(loss_plugin, resolve_section(where, t, schema),
                                      plans[i].stage.epochs);
    }
  }
  e->stages_ = std::move(plans);

  e->resolved_.push_back(std::move(section));  // [plugins], with absolute paths below
  e->resolved_.push_back(std::move(dataset_section));
  e->resolved_.push_back(std::move(backbone_section));
  preflight(*e);
  return e;
}

void Experiment::limit_epochs(int64_t epochs) {
  for (auto& plan : stages_) {
    plan.stage.epochs = std::min(plan.stage.epochs, epochs);
    plan.train.epochs = plan.stage.epochs;
  }
}

std::string Experiment::resolved_toml() const {
  toml::table out;
  for (const auto& section : resolved_) {
    toml::table t = section.table();
    if (section.name() == "dataset") t.insert_or_assign("plugin", dataset_->name());
    if (section.name() == "backbone") t.insert_or_assign("plugin", backbone_->name());
    if (section.name() == "train" && stages_.size() == 1 && stages_.front().stage.name == "main")
      t.insert_or_assign("epochs", stages_.front().stage.epochs);  // after limit_epochs()
    if (section.name() == "plugins") {
      toml::array paths;
      for (const auto& p : plugins_.paths) paths.push_back(p);
      t.insert_or_assign("paths", std::move(paths));
    }
    out.insert_or_assign(section.name(), std::move(t));
  }
  {
    toml::table loss = loss_sections_.front().table();
    loss.insert_or_assign("plugin", losses_.front()->name());
    out.insert_or_assign("loss", std::move(loss));
  }
  if (stages_.size() > 1 || stages_.front().stage.name != "main") {
    toml::array stages;
    for (const auto& plan : stages_) {
      toml::table s;
      s.insert("name", plan.stage.name);
      s.insert("epochs", plan.stage.epochs);
      toml::array freeze, reinit;
      for (const auto& f : plan.stage.freeze) freeze.push_back(f);
      for (const auto& r : plan.stage.reinit) reinit.push_back(r);
      s.insert("freeze", std::move(freeze));
      s.insert("reinit", std::move(reinit));
      s.insert("reset_optimizer", plan.stage.reset_optimizer);
      auto table_of = [](auto options) {
        SchemaWriter writer;
        options.visit(writer);
        toml::table t;
        for (const auto& entry : parse_schema(writer.text())) {
          toml::table parsed = toml::parse("v = " + entry.default_literal);
          t.insert(entry.key, *parsed.get("v"));
        }
        return t;
      };
      toml::table train = table_of(plan.train);
      train.erase("epochs");
      s.insert("train", std::move(train));
      s.insert("optimizer", table_of(plan.optimizer));
      s.insert("schedule", table_of(plan.schedule));
      s.insert("sampler", table_of(plan.sampler));
      // A stage without a loss table shares the global loss instance (and its state).
      for (size_t i = 1; i < losses_.size(); ++i) {
        if (losses_[i].get() != plan.loss) continue;
        toml::table loss = loss_sections_[i].table();
        loss.insert_or_assign("plugin", losses_[i]->name());
        s.insert("loss", std::move(loss));
      }
      stages.push_back(std::move(s));
    }
    out.insert_or_assign("stage", std::move(stages));
  }
  std::ostringstream s;
  s << "# Fully resolved configuration of this run: every key, defaults filled in.\n"
    << "# Source: " << fs::absolute(file_).lexically_normal().string() << "\n\n"
    << out << "\n";
  return s.str();
}

}  // namespace tailor::host
