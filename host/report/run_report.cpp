// host/report/run_report.cpp - the sections of report.html.
#include "report/run_report.hpp"

#include "eval/predictions.hpp"
#include "report/html.hpp"
#include "report/run_dir.hpp"
#include "report/run_files.hpp"
#include "report/svg.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace tailor::host {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double number(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number()) return kNaN;
  return j[key].get<double>();
}

std::string temperature(double t) {
  if (std::isnan(t)) return "–";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", t);
  return buf;
}

double group_accuracy(const nlohmann::json& j, const char* group) {
  if (!j.contains(group) || !j[group].is_object() || j[group].value("classes", 0) == 0) return kNaN;
  return number(j[group], "accuracy");
}

// Everything the sections read, loaded once.
struct RunData {
  fs::path dir;
  nlohmann::json summary;  // null when the run has not finished
  std::vector<nlohmann::json> metrics, vectors;
  PerClassTable classes;  // empty before the run finishes
  std::vector<std::vector<int64_t>> confusion;
  bool has_predictions = false;
  Predictions predictions;
  std::string config;
  int64_t many_threshold = 100, few_threshold = 20, ece_bins = 15;
};

RunData load(const fs::path& dir) {
  RunData d;
  d.dir = dir;
  if (!fs::is_directory(dir)) throw std::runtime_error(dir.string() + " is not a directory");
  if (!fs::exists(dir / "metrics.jsonl"))
    throw std::runtime_error(dir.string() +
                             " is not a run directory with results (no metrics.jsonl); give a "
                             "directory `tailor run` wrote");
  d.metrics = read_json_lines(dir / "metrics.jsonl");
  d.vectors = read_json_lines(dir / "class_vectors.jsonl");
  if (fs::exists(dir / "summary.json")) {
    std::ifstream in(dir / "summary.json");
    d.summary = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (d.summary.is_discarded())
      throw std::runtime_error((dir / "summary.json").string() + " is not readable JSON");
    const auto& e = d.summary.value("evaluation", nlohmann::json::object());
    d.many_threshold = e.value("many_threshold", d.many_threshold);
    d.few_threshold = e.value("few_threshold", d.few_threshold);
    d.ece_bins = e.value("ece_bins", d.ece_bins);
  }
  if (fs::exists(dir / "per_class.csv")) d.classes = read_per_class(dir / "per_class.csv");
  d.confusion = read_confusion(dir / "confusion_test_last.csv");
  if (fs::exists(dir / "predictions_test_last.bin")) {
    d.predictions = read_predictions(dir / "predictions_test_last.bin");
    d.has_predictions = true;
  }
  std::ifstream config(dir / "config.resolved.toml");
  d.config.assign(std::istreambuf_iterator<char>(config), std::istreambuf_iterator<char>());
  return d;
}

std::string class_name(const RunData& d, size_t c) {
  return c < d.classes.size() ? d.classes.name[c] : std::to_string(c);
}

// -- header -----------------------------------------------------------------------------------

std::string header(const RunData& d) {
  std::ostringstream out;
  const std::string name = d.summary.is_object() ? d.summary.value("experiment", std::string())
                                                 : d.dir.parent_path().filename().string();
  out << "<h1>" << svg::escape(name.empty() ? d.dir.filename().string() : name) << "</h1>\n";
  out << "<p class=\"sub\">" << svg::escape(d.dir.string());
  if (d.summary.is_object()) {
    const double seconds = d.summary.value("seconds", 0.0);
    char took[32];
    if (seconds < 120)
      std::snprintf(took, sizeof took, "%.1f s", seconds);
    else
      std::snprintf(took, sizeof took, "%.0f min", seconds / 60);
    out << " · seed " << d.summary.value("seed", 0) << " · " << d.summary.value("epochs", 0)
        << " epochs in " << took << " on "
        << svg::escape(d.summary.value("device", std::string("?")));
    if (d.summary.contains("versions"))
      out << " · tailor " << svg::escape(d.summary["versions"].value("tailor", std::string()))
          << " (" << svg::escape(d.summary["versions"].value("git_revision", std::string())) << ")";
  } else {
    out << " · the run has not finished (no summary.json): curves so far";
  }
  out << "</p>\n";
  if (!d.summary.is_object()) return out.str();
  out << "<table><tr><th class=\"l\">test</th><th>top-1</th><th>mean class recall</th>"
         "<th>many</th><th>medium</th><th>few</th><th>ECE</th>"
         "<th>ECE after T</th><th>T</th></tr>\n";
  auto row = [&](const std::string& what, const nlohmann::json& t) {
    out << "<tr><td class=\"l\">" << svg::escape(what) << "</td><td>"
        << html::pct(number(t, "top1")) << "</td><td>" << html::pct(number(t, "mean_class_recall"))
        << "</td><td>" << html::pct(group_accuracy(t, "many")) << "</td><td>"
        << html::pct(group_accuracy(t, "medium")) << "</td><td>"
        << html::pct(group_accuracy(t, "few")) << "</td><td>" << html::pct(number(t, "ece"))
        << "</td><td>" << html::pct(number(t, "ece_ts")) << "</td><td>"
        << temperature(number(t, "temperature")) << "</td></tr>\n";
  };
  const auto& s = d.summary;
  if (s.contains("last_epoch") && s["last_epoch"].contains("test"))
    row("after the last epoch", s["last_epoch"]["test"]);
  if (s.contains("best_on_val"))
    row("best on val (epoch " + std::to_string(s["best_on_val"].value("epoch", 0)) + ")",
        s["best_on_val"]["test"]);
  out << "</table>\n<p class=\"note\">Percent. Groups by train count: many &gt; "
      << d.many_threshold << ", few &lt; " << d.few_threshold
      << ", medium the rest; a group's value is the mean recall of its classes. ECE over "
      << d.ece_bins
      << " equal-width confidence bins; \"after T\": of softmax(logits / T), T fitted on val "
         "by least NLL ([eval] temperature_scaling).</p>\n";
  return out.str();
}

// -- curves -----------------------------------------------------------------------------------

struct Series {
  std::vector<double> x, y;
};

Series series(const std::vector<nlohmann::json>& metrics, const std::string& split,
              const std::function<double(const nlohmann::json&)>& value) {
  Series s;
  for (const auto& r : metrics) {
    if (r.value("split", std::string()) != split) continue;
    s.x.push_back(static_cast<double>(r.value("epoch", int64_t{0})));
    s.y.push_back(value(r));
  }
  return s;
}

std::string curves(const RunData& d) {
  int64_t last_epoch = 1;
  std::vector<std::pair<int64_t, std::string>> stage_starts;
  for (const auto& r : d.metrics) {
    const int64_t e = r.value("epoch", int64_t{0});
    last_epoch = std::max(last_epoch, e);
    if (r.value("split", std::string()) != "train") continue;
    const std::string stage = r.value("stage", std::string());
    if (stage_starts.empty() || stage_starts.back().second != stage)
      stage_starts.emplace_back(e, stage);
  }
  int64_t best = -1;
  if (d.summary.is_object() && d.summary.contains("best_on_val"))
    best = d.summary["best_on_val"].value("epoch", int64_t{-1});

  struct Line {
    std::string split, text;
    std::function<double(const nlohmann::json&)> value;
    std::string colour;
    bool dashed;
  };
  auto chart = [&](const std::string& title, const std::string& y_label,
                   const std::vector<Line>& lines, std::vector<svg::LegendEntry> fixed = {}) {
    const bool log_y = false;
    std::vector<Series> ss;
    std::vector<double> all;
    for (const auto& l : lines) {
      ss.push_back(series(d.metrics, l.split, l.value));
      all.insert(all.end(), ss.back().y.begin(), ss.back().y.end());
    }
    auto [lo, hi] = svg::range_of(all, log_y);
    if (!log_y) {
      const double pad = (hi - lo) * 0.05;
      lo -= pad;
      hi += pad;
    }
    svg::Chart c(title);
    c.axes(0.5, static_cast<double>(last_epoch) + 0.5, lo, hi, "epoch", y_label, false, log_y);
    for (size_t i = 1; i < stage_starts.size(); ++i)
      c.vline(static_cast<double>(stage_starts[i].first) - 0.5, "#999", stage_starts[i].second);
    if (best > 0) c.vline(static_cast<double>(best), "#d62728", "best on val", true, true);
    std::vector<svg::LegendEntry> legend;
    for (size_t i = 0; i < lines.size(); ++i) {
      const bool any =
          std::any_of(ss[i].y.begin(), ss[i].y.end(), [](double v) { return !std::isnan(v); });
      if (!any) continue;
      c.line(ss[i].x, ss[i].y, lines[i].colour, lines[i].dashed, 1.8, lines[i].text);
      for (size_t k = 0; k < ss[i].x.size() && ss[i].x.size() <= 60; ++k)
        c.point(
            ss[i].x[k], ss[i].y[k], lines[i].colour,
            lines[i].text + ", epoch " + svg::label(ss[i].x[k]) + ": " + svg::label(ss[i].y[k], 4),
            2.2);
      legend.push_back({lines[i].text, lines[i].colour, lines[i].dashed});
    }
    c.legend(fixed.empty() ? legend : fixed);
    return c.str();
  };
  auto key = [](const char* k) { return [k](const nlohmann::json& r) { return number(r, k); }; };
  auto pct_key = [](const char* k) {
    return [k](const nlohmann::json& r) { return 100 * number(r, k); };
  };
  auto group = [](const char* g) {
    return [g](const nlohmann::json& r) { return 100 * group_accuracy(r, g); };
  };
  const std::string blue = svg::palette(0), orange = svg::palette(1), green = svg::palette(2);
  std::ostringstream out;
  out << "<h2>Training and validation curves</h2>\n<div class=\"charts\">\n";
  out << chart("loss", "loss",
               {{"train", "train", key("loss"), blue, false},
                {"val", "val", key("loss"), orange, false},
                {"test", "test", key("loss"), green, true}});
  out << chart("learning rate", "lr", {{"train", "lr", key("lr"), blue, false}});
  out << chart("top-1 (%)", "%",
               {{"val", "val", pct_key("top1"), orange, false},
                {"test", "test", pct_key("top1"), green, true}});
  out << chart("mean class recall (%)", "%",
               {{"val", "val", pct_key("mean_class_recall"), orange, false},
                {"test", "test", pct_key("mean_class_recall"), green, true}});
  std::vector<Line> groups;
  for (int g = 0; g < 3; ++g) {
    const char* n = svg::group_name(g);
    groups.push_back({"test", std::string("test ") + n, group(n), svg::group_colour(g), false});
    groups.push_back({"val", std::string("val ") + n, group(n), svg::group_colour(g), true});
  }
  out << chart("many / medium / few: mean class recall (%)", "%", groups,
               {{"many", svg::group_colour(0), false},
                {"medium", svg::group_colour(1), false},
                {"few", svg::group_colour(2), false},
                {"test", "#555", false},
                {"val", "#555", true}});
  out << "</div>\n<p class=\"note\">Epochs count over every stage; dotted lines mark a new "
         "stage and the epoch with the best val top-1. Evaluation uses the logits the loss "
         "asks for (post-hoc adjustments included).</p>\n";
  return out.str();
}

// -- per class --------------------------------------------------------------------------------

// Shot-group bands over a log train-count axis.
void group_bands(svg::Chart& c, const RunData& d, double lo, double hi) {
  // Counts are integers: few < few_threshold <= medium <= many_threshold < many.
  const double few_edge = static_cast<double>(d.few_threshold) - 0.5;
  const double many_edge = static_cast<double>(d.many_threshold) + 0.5;
  c.band(lo, few_edge, svg::group_colour(2), "few");
  c.band(few_edge, many_edge, svg::group_colour(1), "medium");
  c.band(many_edge, hi, svg::group_colour(0), "many");
}

std::string per_class(const RunData& d) {
  std::ostringstream out;
  out << "<h2>Per-class recall against train count</h2>\n";
  if (d.classes.size() == 0)
    return out.str() + "<p class=\"note\">per_class.csv appears when the run finishes.</p>\n";
  std::vector<double> counts;
  for (int64_t n : d.classes.train_count)
    counts.push_back(static_cast<double>(std::max<int64_t>(n, 1)));
  auto [lo, hi] = svg::range_of(counts, true);
  lo /= 1.5;
  hi *= 1.5;
  svg::Chart c("test recall per class (" + std::to_string(d.classes.size()) + " classes)", 700,
               340);
  c.axes(lo, hi, -0.03, 1.12, "train images of the class (log scale)", "test recall", true);
  group_bands(c, d, lo, hi);
  for (size_t k = 0; k < d.classes.size(); ++k) {
    const double x = counts[k];
    const std::string colour = svg::group_colour(d.classes.group[k]);
    const std::string who =
        d.classes.name[k] + " (" + std::to_string(d.classes.train_count[k]) + " train)";
    if (!std::isnan(d.classes.best_recall[k]))
      c.point(x, d.classes.best_recall[k], colour,
              who + ": best-on-val " + html::pct(d.classes.best_recall[k]) + "%", 3.5, true);
    c.point(x, d.classes.last_recall[k], colour,
            who + ": last epoch " + html::pct(d.classes.last_recall[k]) + "%", 3.5);
  }
  c.legend(
      {{"after the last epoch (filled)", "#444", false}, {"best on val (hollow)", "#444", true}});
  out << "<div class=\"charts\">" << c.str() << "</div>\n";
  return out.str();
}

// -- calibration ------------------------------------------------------------------------------

std::string reliability(const RunData& d) {
  std::ostringstream out;
  out << "<h2>Reliability (test, after the last epoch)</h2>\n";
  if (!d.has_predictions)
    return out.str() +
           "<p class=\"note\">predictions_test_last.bin appears when the run "
           "finishes (runs made before tailor saved predictions have none).</p>\n";
  const auto& s = d.predictions.samples;
  const int64_t bins = std::max<int64_t>(d.ece_bins, 1);
  out << "<div class=\"charts\">\n";
  for (int g = -1; g < 3; ++g) {
    std::vector<double> count(bins, 0), conf(bins, 0), hits(bins, 0);
    for (size_t i = 0; i < s.size(); ++i) {
      const auto y = static_cast<size_t>(s.label[i]);
      if (g >= 0 && (y >= d.classes.size() || d.classes.group[y] != g)) continue;
      const int64_t b = std::clamp<int64_t>(
          static_cast<int64_t>(std::ceil(s.max_prob[i] * static_cast<float>(bins))) - 1, 0,
          bins - 1);
      count[b] += 1;
      conf[b] += s.max_prob[i];
      hits[b] += s.predicted[i] == s.label[i] ? 1 : 0;
    }
    const double total = std::accumulate(count.begin(), count.end(), 0.0);
    if (total == 0) continue;
    double ece = 0;
    for (int64_t b = 0; b < bins; ++b) ece += std::abs(conf[b] - hits[b]);
    ece /= total;
    svg::Chart c(std::string(g < 0 ? "all" : svg::group_name(g)) + ": ECE " + html::pct(ece) +
                     "%, " + std::to_string(static_cast<int64_t>(total)) + " samples",
                 330, 300);
    c.axes(0, 1, 0, 1, "confidence (max probability)", "accuracy");
    c.segment(0, 0, 1, 1, "#888");
    for (int64_t b = 0; b < bins; ++b) {
      if (count[b] == 0) continue;
      const double a = static_cast<double>(b) / bins, e = static_cast<double>(b + 1) / bins;
      const double acc = hits[b] / count[b], mean_conf = conf[b] / count[b];
      c.bar(a, 0, e, acc, g < 0 ? svg::palette(0) : svg::group_colour(g),
            "confidence " + svg::label(a, 2) + "–" + svg::label(e, 2) + ": " +
                svg::label(count[b], 6) + " samples, accuracy " + html::pct(acc) +
                "%, mean confidence " + html::pct(mean_conf) + "%");
      c.point((a + e) / 2, mean_conf, "#d62728", "mean confidence " + html::pct(mean_conf) + "%",
              2.2);
    }
    out << c.str() << "\n";
  }
  out << "</div>\n<p class=\"note\">Bars: accuracy of the samples whose confidence falls in "
         "each bin; red dots: their mean confidence; the dashed diagonal is perfect "
         "calibration. Groups by the true class.</p>\n";
  return out.str();
}

// -- confusions -------------------------------------------------------------------------------

std::string confusions(const RunData& d) {
  std::ostringstream out;
  out << "<h2>Confusions (test, after the last epoch)</h2>\n";
  const auto& m = d.confusion;
  if (m.empty())
    return out.str() +
           "<p class=\"note\">confusion_test_last.csv appears when the run finishes.</p>\n";
  const size_t c = m.size();
  std::vector<int64_t> support(c, 0);
  struct Cell {
    int64_t count;
    size_t i, j;
  };
  std::vector<Cell> off;
  for (size_t i = 0; i < c; ++i)
    for (size_t j = 0; j < c; ++j) {
      support[i] += m[i][j];
      if (i != j && m[i][j] > 0) off.push_back({m[i][j], i, j});
    }
  std::sort(off.begin(), off.end(), [](const Cell& a, const Cell& b) {
    return a.count != b.count ? a.count > b.count : (a.i != b.i ? a.i < b.i : a.j < b.j);
  });
  out << "<table><tr><th class=\"l\">true class</th><th class=\"l\">predicted as</th>"
         "<th>samples</th><th>% of the true class</th></tr>\n";
  for (size_t k = 0; k < off.size() && k < 12; ++k)
    out << "<tr><td class=\"l\">" << svg::escape(class_name(d, off[k].i)) << "</td><td class=\"l\">"
        << svg::escape(class_name(d, off[k].j)) << "</td><td>" << off[k].count << "</td><td>"
        << html::pct(static_cast<double>(off[k].count) / static_cast<double>(support[off[k].i]))
        << "</td></tr>\n";
  out << "</table>\n";
  if (c > 100)
    return out.str() + "<p class=\"note\">" + std::to_string(c) +
           " classes: the heat map is drawn for 100 classes or fewer.</p>\n";
  svg::HeatMap h;
  h.title = "confusion matrix (rows: true class, normalised)";
  h.row_label = "true class";
  h.column_label = "predicted class";
  for (size_t i = 0; i < c; ++i) {
    h.rows.push_back(class_name(d, i));
    h.columns.push_back(class_name(d, i));
  }
  for (size_t i = 0; i < c; ++i)
    for (size_t j = 0; j < c; ++j) {
      const double rate = support[i] > 0 ? static_cast<double>(m[i][j]) / support[i] : kNaN;
      h.value.push_back(rate);
      h.cell_title.push_back(m[i][j] == 0
                                 ? std::string()
                                 : class_name(d, i) + " → " + class_name(d, j) + ": " +
                                       std::to_string(m[i][j]) + " (" + html::pct(rate) + "%)");
    }
  out << "<div class=\"charts\">" << h.str() << "</div>\n";
  return out.str();
}

// -- per-class vectors ------------------------------------------------------------------------

std::string class_vectors(const RunData& d) {
  std::ostringstream out;
  out << "<h2>The loss's per-class vectors over epochs</h2>\n";
  std::vector<std::string> names;
  for (const auto& r : d.vectors) {
    const nlohmann::json vectors = r.value("vectors", nlohmann::json::object());
    for (const auto& [name, v] : vectors.items())
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  if (names.empty())
    return out.str() +
           "<p class=\"note\">This run's loss reports no per-class vectors "
           "(class_vectors.jsonl).</p>\n";
  out << "<div class=\"charts\">\n";
  for (const auto& name : names) {
    std::vector<double> epochs;
    std::vector<std::vector<double>> rows;  // per epoch, per class
    std::vector<std::string> stages;
    for (const auto& r : d.vectors) {
      const auto& v = r.value("vectors", nlohmann::json::object());
      if (!v.contains(name)) continue;
      epochs.push_back(static_cast<double>(r.value("epoch", int64_t{0})));
      std::vector<double> values;
      for (const auto& x : v[name]) values.push_back(x.is_number() ? x.get<double>() : kNaN);
      rows.push_back(std::move(values));
      const std::string stage = r.value("stage", std::string());
      if (std::find(stages.begin(), stages.end(), stage) == stages.end()) stages.push_back(stage);
    }
    size_t classes = 0;
    for (const auto& r : rows) classes = std::max(classes, r.size());
    std::string title = "\u201c" + name + "\u201d (stage";
    title += stages.size() > 1 ? "s " : " ";
    for (size_t i = 0; i < stages.size(); ++i) title += (i ? ", " : "") + stages[i];
    title += ")";
    if (classes <= 30) {
      std::vector<double> all;
      for (const auto& r : rows) all.insert(all.end(), r.begin(), r.end());
      auto [lo, hi] = svg::range_of(all);
      const double pad = (hi - lo) * 0.05;
      svg::Chart c(title, 460, 280);
      auto [xlo, xhi] = svg::range_of(epochs);
      c.axes(xlo - 0.5, xhi + 0.5, lo - pad, hi + pad, "epoch", name);
      for (size_t k = 0; k < classes; ++k) {
        std::vector<double> ys;
        for (const auto& r : rows) ys.push_back(k < r.size() ? r[k] : kNaN);
        const int g = k < d.classes.size() ? d.classes.group[k] : -1;
        c.line(epochs, ys, svg::group_colour(g), false, 1.5, class_name(d, k));
        if (epochs.size() == 1)
          c.point(epochs[0], ys[0], svg::group_colour(g),
                  class_name(d, k) + ": " + svg::label(ys[0], 4));
      }
      if (d.classes.size() > 0)
        c.legend({{"many", svg::group_colour(0), false},
                  {"medium", svg::group_colour(1), false},
                  {"few", svg::group_colour(2), false}});
      out << c.str() << "\n";
    } else {
      // Too many classes for lines: classes (by train count, largest first) x epochs.
      std::vector<size_t> order(classes);
      std::iota(order.begin(), order.end(), size_t{0});
      if (d.classes.size() == classes)
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
          return d.classes.train_count[a] > d.classes.train_count[b];
        });
      std::vector<double> all;
      for (const auto& r : rows) all.insert(all.end(), r.begin(), r.end());
      auto [lo, hi] = svg::range_of(all);
      svg::HeatMap h;
      h.title = title + ", scaled to [" + svg::label(lo, 4) + ", " + svg::label(hi, 4) + "]";
      h.row_label = "class, most train images first";
      h.column_label = "epoch";
      for (size_t k : order) {
        for (size_t e = 0; e < rows.size(); ++e) {
          const double v = k < rows[e].size() ? rows[e][k] : kNaN;
          h.value.push_back((v - lo) / (hi - lo));
          h.cell_title.push_back(class_name(d, k) + ", epoch " + svg::label(epochs[e]) + ": " +
                                 svg::label(v, 4));
        }
      }
      for (double e : epochs) h.columns.push_back(svg::label(e));
      h.cell = std::clamp(400.0 / static_cast<double>(classes), 1.0, 12.0);
      out << h.str() << "\n";
    }
  }
  out << "</div>\n<p class=\"note\">What the loss applied during each epoch's training steps "
         "(class_vectors.jsonl), one line per class coloured by its shot group.</p>\n";
  return out.str();
}

}  // namespace

std::string render_run_report(const fs::path& run_dir) {
  const RunData d = load(run_dir);
  std::string body =
      header(d) + curves(d) + per_class(d) + reliability(d) + confusions(d) + class_vectors(d);
  if (!d.config.empty())
    body += "<h2>Configuration</h2>\n<details><summary>config.resolved.toml</summary><pre>" +
            svg::escape(d.config) + "</pre></details>\n";
  std::string title = d.summary.is_object() ? d.summary.value("experiment", std::string()) : "";
  return html::page((title.empty() ? run_dir.filename().string() : title) + " — tailor report",
                    body);
}

fs::path write_run_report(const fs::path& run_dir) {
  const fs::path out = run_dir / "report.html";
  write_file_atomic(out, render_run_report(run_dir));
  return out;
}

}  // namespace tailor::host
