// host/engine/resolve.cpp - experiment file -> checked sections, without creating anything.
#include "engine/resolve.hpp"

#include "config/experiment.hpp"
#include "engine/component_sections.hpp"

#include <algorithm>
#include <functional>
#include <sstream>

namespace fs = std::filesystem;

namespace tailor::host {
namespace {

const std::vector<std::string> kSections = {
    "experiment", "dataset", "backbone", "head",   "loss",    "train", "optimizer",   "schedule",
    "sampler",    "eval",    "meta",     "report", "plugins", "stage", "distributed", "batch_mix"};
const std::vector<std::string> kStageTables = {"train",   "optimizer", "schedule",
                                               "sampler", "loss",      "batch_mix"};

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

using Elsewhere = std::function<std::string(const std::string&)>;

// Reads a host section (layers: most specific first) into its options struct.
template <class T>
T read_layers(const std::string& name, const std::vector<const toml::table*>& layers,
              ResolvedSection* out, const Elsewhere& elsewhere = {},
              const std::vector<std::string>& ignored = {}) {
  ResolvedSection r =
      resolve_section(name, layers, parse_schema(schema_of<T>()), ignored, elsewhere);
  T value;
  try {
    value = read_options<T>(r.config());
  } catch (const tailor::Error& e) {
    throw ConfigError(e.what());
  }
  if (out != nullptr) *out = std::move(r);
  return value;
}

const toml::table* subtable(const toml::table& t, const std::string& key,
                            const std::string& where) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return nullptr;
  if (!n->is_table())
    throw ConfigError(origin_of(*n) + ": " + where + "." + key + " must be a table, e.g. [" +
                      where + "." + key + "]");
  return n->as_table();
}

PluginSection plugin_section(PluginLoader& loader, const std::string& name, uint32_t kind,
                             const std::string& section,
                             const std::vector<const toml::table*>& layers,
                             const Elsewhere& elsewhere) {
  PluginSection p;
  p.plugin = &loader.load(name, kind);
  // A batch mix's table also holds the sub-table of its second sampler.
  std::vector<std::string> ignored = {"plugin"};
  if (kind == TAILOR_KIND_BATCH_MIX) ignored.push_back("sampler");
  p.values =
      resolve_section(section, layers, parse_schema(p.plugin->schema_text), ignored, elsewhere);
  return p;
}

// Every section's keys, for naming the section an unknown key belongs to.
class KeyIndex {
 public:
  template <class T>
  void add_host(const std::string& section) {
    add(section, parse_schema(schema_of<T>()));
  }
  void add(const std::string& section, const std::vector<SchemaEntry>& schema) {
    for (const auto& e : schema) keys_.emplace_back(e.key, section);
  }
  std::string operator()(const std::string& key) const {
    for (const auto& [k, section] : keys_)
      if (k == key) return "[" + section + "] " + key;
    return "";
  }

 private:
  std::vector<std::pair<std::string, std::string>> keys_;
};

toml::table with_plugin(toml::table t, const PluginSection& p) {
  t.insert_or_assign("plugin", p.plugin->name);
  return t;
}

// The second stream of a batch mix: class-balanced unless [batch_mix.sampler] says otherwise.
const ComponentKind kMixSamplerKind = {
    "batch_mix.sampler", TAILOR_KIND_SAMPLER, "class_balanced", {}};

// The plugin a [batch_mix] table names: "" for none (no table, no key, or "none").
std::string mix_plugin(const toml::table* table, const std::string& where) {
  if (table == nullptr || table->get("plugin") == nullptr) return "";
  const toml::node* n = table->get("plugin");
  if (!n->is_string())
    throw ConfigError(origin_of(*n) + ": [" + where +
                      "] plugin must be a string naming a batch-mix plugin, e.g. plugin = "
                      "\"cmo\", or \"none\"");
  const std::string name = n->as_string()->get();
  return name == "none" ? "" : name;
}

// A stage's batch mix: `own` ([stage.batch_mix], may be null) over `global` ([batch_mix]).
// The global table is a layer only under the same plugin, as for a stage's loss.
std::optional<BatchMixSection> resolve_batch_mix(PluginLoader& loader, const std::string& where,
                                                 const toml::table* own, const toml::table* global,
                                                 const Elsewhere& elsewhere) {
  const bool own_names = own != nullptr && own->get("plugin") != nullptr;
  const std::string name = own_names ? mix_plugin(own, where) : mix_plugin(global, "batch_mix");
  if (name.empty()) return std::nullopt;
  const bool same = global != nullptr && mix_plugin(global, "batch_mix") == name;
  auto sampler_of = [&](const toml::table* t, const std::string& at) -> const toml::table* {
    return t != nullptr ? subtable(*t, "sampler", at) : nullptr;
  };
  BatchMixSection out;
  out.mix = plugin_section(loader, name, TAILOR_KIND_BATCH_MIX, where,
                           {own, same ? global : nullptr}, elsewhere);
  // resolve_section ignores only "plugin"; the sampler sub-table is read below.
  out.sampler =
      resolve_component(loader, kMixSamplerKind, where + ".sampler", sampler_of(own, where),
                        same ? sampler_of(global, "batch_mix") : nullptr, elsewhere);
  return out;
}

}  // namespace

ResolvedConfig resolve(const fs::path& file, const std::vector<std::string>& overrides,
                       PluginLoader& loader, const fs::path& executable) {
  ResolvedConfig c;
  c.file = file;
  const toml::table root = load_experiment(file, overrides);
  check_sections(root, kSections);

  // [plugins] first: its paths say where the other plugins are. Then every plugin is loaded
  // before any section is checked, so a bad name is reported first.
  c.plugins = read_layers<PluginsOptions>("plugins", {find_section(root, "plugins")}, nullptr);
  for (auto& dir : c.plugins.paths) {
    const fs::path p(dir);
    dir = fs::absolute(p.is_absolute() ? p : file.parent_path() / p).lexically_normal().string();
    loader.add_search_dir(dir);
  }
  loader.add_default_dirs(executable);
  const toml::table* dataset_table = find_section(root, "dataset");
  const toml::table* backbone_table = find_section(root, "backbone");
  const toml::table* loss_table = find_section(root, "loss");
  const std::string dataset_name = plugin_name(dataset_table, "dataset", file);
  const std::string backbone_name = plugin_name(backbone_table, "backbone", file);
  const std::string loss_name = plugin_name(loss_table, "loss", file);
  KeyIndex index;
  index.add("dataset", parse_schema(loader.load(dataset_name, TAILOR_KIND_DATASET).schema_text));
  index.add("backbone", parse_schema(loader.load(backbone_name, TAILOR_KIND_BACKBONE).schema_text));
  index.add("loss", parse_schema(loader.load(loss_name, TAILOR_KIND_LOSS).schema_text));
  const toml::table* sampler_table = find_section(root, "sampler");
  const toml::table* head_table = find_section(root, "head");
  index.add(
      "sampler",
      parse_schema(loader.load(chosen_plugin(sampler_table, kSamplerKind), TAILOR_KIND_SAMPLER)
                       .schema_text));
  index.add("head",
            parse_schema(
                loader.load(chosen_plugin(head_table, kHeadKind), TAILOR_KIND_HEAD).schema_text));
  const toml::table* mix_table = find_section(root, "batch_mix");
  if (const std::string mix = mix_plugin(mix_table, "batch_mix"); !mix.empty())
    index.add("batch_mix", parse_schema(loader.load(mix, TAILOR_KIND_BATCH_MIX).schema_text));
  index.add_host<ExperimentOptions>("experiment");
  index.add_host<TrainOptions>("train");
  index.add_host<OptimizerOptions>("optimizer");
  index.add_host<ScheduleOptions>("schedule");
  index.add_host<EvalOptions>("eval");
  index.add_host<MetaOptions>("meta");
  index.add_host<ReportOptions>("report");
  index.add_host<DistributedOptions>("distributed");
  const Elsewhere elsewhere = std::cref(index);

  auto host_section = [&](const std::string& name, auto& value) {
    ResolvedSection section;
    value = read_layers<std::decay_t<decltype(value)>>(name, {find_section(root, name)}, &section,
                                                       elsewhere);
    c.host_sections.push_back(std::move(section));
  };
  OptimizerOptions optimizer;
  ScheduleOptions schedule;
  host_section("experiment", c.experiment);
  host_section("train", c.train);
  host_section("optimizer", optimizer);
  host_section("schedule", schedule);
  host_section("eval", c.eval);
  host_section("meta", c.meta);
  host_section("report", c.report);
  host_section("distributed", c.distributed);
  if (c.eval.few_threshold > c.eval.many_threshold)
    throw ConfigError("[eval] few_threshold (" + std::to_string(c.eval.few_threshold) +
                      ") is above many_threshold (" + std::to_string(c.eval.many_threshold) +
                      "); few-shot classes must have fewer samples than many-shot ones");
  c.dataset = plugin_section(loader, dataset_name, TAILOR_KIND_DATASET, "dataset", {dataset_table},
                             elsewhere);
  c.backbone = plugin_section(loader, backbone_name, TAILOR_KIND_BACKBONE, "backbone",
                              {backbone_table}, elsewhere);
  c.losses.push_back(
      plugin_section(loader, loss_name, TAILOR_KIND_LOSS, "loss", {loss_table}, elsewhere));
  c.head = resolve_component(loader, kHeadKind, "head", head_table, nullptr, elsewhere);
  c.sampler = resolve_component(loader, kSamplerKind, "sampler", sampler_table, nullptr, elsewhere);

  const toml::node* stages = root.get("stage");
  if (stages == nullptr) {
    StageConfig s;
    s.stage.name = "main";
    s.stage.epochs = c.train.epochs;
    s.train = c.train;
    s.optimizer = optimizer;
    s.schedule = schedule;
    s.sampler =
        resolve_component(loader, kSamplerKind, "sampler", sampler_table, nullptr, elsewhere);
    s.batch_mix = resolve_batch_mix(loader, "batch_mix", mix_table, nullptr, elsewhere);
    c.stages.push_back(std::move(s));
    return c;
  }
  if (!stages->is_array_of_tables() || stages->as_array()->empty())
    throw ConfigError(origin_of(*stages) + ": stage must be a list of [[stage]] tables");
  c.implicit_stage = false;
  int i = 0;
  for (const auto& node : *stages->as_array()) {
    const toml::table& t = *node.as_table();
    const std::string where = "stage[" + std::to_string(i) + "]";
    StageConfig s;
    s.index = i;
    s.stage = read_layers<StageOptions>(where, {&t}, nullptr, elsewhere, kStageTables);
    if (s.stage.name.empty()) s.stage.name = "stage" + std::to_string(i);
    if (s.stage.epochs < 1)
      throw ConfigError(origin_of(t) + ": [[stage]] " + where + " needs `epochs = N` (N >= 1)");
    if (s.stage.shift_bn &&
        std::find(s.stage.freeze.begin(), s.stage.freeze.end(), "backbone") == s.stage.freeze.end())
      throw ConfigError(origin_of(t) + ": " + where +
                        ".shift_bn = true re-estimates a frozen backbone's BatchNorm statistics; "
                        "add freeze = [\"backbone\"] or remove shift_bn");
    for (const auto& part : s.stage.reinit)
      if (part != "head")
        throw ConfigError(origin_of(t) + ": " + where + ".reinit names '" + part +
                          "'; only the head can be re-initialised (reinit = [\"head\"])");
    auto layers = [&](const char* name) {
      return std::vector<const toml::table*>{subtable(t, name, where), find_section(root, name)};
    };
    s.train =
        read_layers<TrainOptions>(where + ".train", layers("train"), &s.train_values, elsewhere);
    s.train.epochs = s.stage.epochs;
    s.optimizer = read_layers<OptimizerOptions>(where + ".optimizer", layers("optimizer"),
                                                &s.optimizer_values, elsewhere);
    s.schedule = read_layers<ScheduleOptions>(where + ".schedule", layers("schedule"),
                                              &s.schedule_values, elsewhere);
    s.sampler = resolve_component(loader, kSamplerKind, where + ".sampler",
                                  subtable(t, "sampler", where), sampler_table, elsewhere);
    s.batch_mix = resolve_batch_mix(loader, where + ".batch_mix", subtable(t, "batch_mix", where),
                                    mix_table, elsewhere);
    if (const toml::table* own = subtable(t, "loss", where)) {
      const toml::node* named = own->get("plugin");
      const std::string name =
          named != nullptr && named->is_string() ? named->as_string()->get() : loss_name;
      // The global [loss] table is a layer only under the same plugin.
      const toml::table* global = name == loss_name ? loss_table : nullptr;
      s.loss = c.losses.size();
      c.losses.push_back(plugin_section(loader, name, TAILOR_KIND_LOSS, where + ".loss",
                                        {own, global}, elsewhere));
    }
    c.stages.push_back(std::move(s));
    ++i;
  }
  return c;
}

std::vector<const LoadedPlugin*> ResolvedConfig::loaded_plugins() const {
  std::vector<const LoadedPlugin*> out = {dataset.plugin, backbone.plugin, head.plugin};
  auto add = [&](const LoadedPlugin* p) {
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  };
  for (const auto& loss : losses) add(loss.plugin);
  add(sampler.plugin);
  for (const auto& s : stages) {
    add(s.sampler.plugin);
    if (s.batch_mix) {
      add(s.batch_mix->mix.plugin);
      add(s.batch_mix->sampler.plugin);
    }
  }
  return out;
}

void ResolvedConfig::limit_epochs(int64_t epochs) {
  for (auto& s : stages) {
    s.stage.epochs = std::min(s.stage.epochs, epochs);
    s.train.epochs = s.stage.epochs;
  }
}

toml::table ResolvedConfig::table() const {
  toml::table out;
  for (const auto& section : host_sections) {
    toml::table t = section.table();
    if (section.name() == "train" && implicit_stage)
      t.insert_or_assign("epochs", stages.front().stage.epochs);  // after limit_epochs()
    out.insert_or_assign(section.name(), std::move(t));
  }
  toml::array paths;
  for (const auto& p : plugins.paths) paths.push_back(p);
  toml::table plugins_table;
  plugins_table.insert("paths", std::move(paths));
  out.insert_or_assign("plugins", std::move(plugins_table));
  out.insert_or_assign("dataset", with_plugin(dataset.values.table(), dataset));
  out.insert_or_assign("backbone", with_plugin(backbone.values.table(), backbone));
  out.insert_or_assign("loss", with_plugin(losses.front().values.table(), losses.front()));
  out.insert_or_assign("head", component_table(head));
  out.insert_or_assign("sampler", component_table(sampler));
  auto mix_table = [](const BatchMixSection& m) {
    toml::table t = with_plugin(m.mix.values.table(), m.mix);
    t.insert_or_assign("sampler", component_table(m.sampler));
    return t;
  };
  if (implicit_stage) {
    if (stages.front().batch_mix)
      out.insert_or_assign("batch_mix", mix_table(*stages.front().batch_mix));
    return out;
  }
  toml::array list;
  for (const auto& s : stages) {
    toml::table t;
    t.insert("name", s.stage.name);
    t.insert("epochs", s.stage.epochs);
    toml::array freeze, reinit;
    for (const auto& f : s.stage.freeze) freeze.push_back(f);
    for (const auto& r : s.stage.reinit) reinit.push_back(r);
    t.insert("freeze", std::move(freeze));
    t.insert("reinit", std::move(reinit));
    t.insert("reset_optimizer", s.stage.reset_optimizer);
    if (s.stage.shift_bn) t.insert("shift_bn", true);
    if (s.stage.inputs != StageOptions::Inputs::kTrain)
      t.insert("inputs", std::string(StageOptions::kInputs.name(s.stage.inputs)));
    if (s.stage.views != 1) t.insert("views", s.stage.views);
    toml::table train = s.train_values.table();
    train.erase("epochs");
    t.insert("train", std::move(train));
    t.insert("optimizer", s.optimizer_values.table());
    t.insert("schedule", s.schedule_values.table());
    t.insert("sampler", component_table(s.sampler));
    // Every stage states its batch mix, "none" included, so that the file reads the same
    // without a global [batch_mix].
    if (s.batch_mix) {
      t.insert("batch_mix", mix_table(*s.batch_mix));
    } else if (std::any_of(stages.begin(), stages.end(),
                           [](const auto& x) { return x.batch_mix.has_value(); })) {
      toml::table none;
      none.insert("plugin", "none");
      t.insert("batch_mix", std::move(none));
    }
    // A stage without a loss table shares the global loss instance (and its state).
    if (s.loss != 0) t.insert("loss", with_plugin(losses[s.loss].values.table(), losses[s.loss]));
    list.push_back(std::move(t));
  }
  out.insert_or_assign("stage", std::move(list));
  return out;
}

std::string ResolvedConfig::toml() const {
  std::ostringstream s;
  s << "# Fully resolved configuration of this run: every key, defaults filled in.\n"
    << "# Source: " << fs::absolute(file).lexically_normal().string() << "\n\n"
    << table() << "\n";
  return s.str();
}

}  // namespace tailor::host
