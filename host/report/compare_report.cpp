// host/report/compare_report.cpp - sections of the comparison report.
#include "report/compare_report.hpp"

#include "report/html.hpp"
#include "report/run_files.hpp"
#include "report/svg.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

namespace fs = std::filesystem;

namespace tailor::host {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string interval_cell(const Interval& ci) {
  if (std::isnan(ci.mean)) return "<td>–</td>";
  if (ci.n < 2) return "<td title=\"one run: no interval\">" + html::pct(ci.mean) + "</td>";
  return "<td title=\"95 % interval [" + html::pct(ci.low) + ", " + html::pct(ci.high) +
         "], n = " + std::to_string(ci.n) + ", sd " + html::pct(ci.sd) + "\">" +
         html::pct(ci.mean) + " ± " + html::pct((ci.high - ci.low) / 2) + "</td>";
}

std::string signed_pct(double v) {
  const std::string s = html::pct(v);
  return !std::isnan(v) && v >= 0 ? "+" + s : s;
}

std::string difference_cells(const Difference& d) {
  if (std::isnan(d.estimate)) return "<td>–</td><td>–</td>";
  const bool sig = !std::isnan(d.p_holm) && d.p_holm < 0.05;
  std::ostringstream out;
  out << "<td" << (sig ? " class=\"sig\"" : "") << " title=\"bootstrap p " << svg::label(d.p, 3)
      << ", Holm " << svg::label(d.p_holm, 3) << ", " << d.pairs << " seed pairs\">"
      << signed_pct(d.estimate) << " [" << html::pct(d.low) << ", " << html::pct(d.high) << "]"
      << (sig ? "*" : "") << "</td><td>"
      << (std::isnan(d.p_holm) ? std::string("–")
          : d.p_holm < 0.001   ? std::string("&lt;0.001")
                               : svg::label(d.p_holm, 3))
      << "</td>";
  return out.str();
}

std::string table_section(const CompareTable& t) {
  const bool paired = !t.baseline.empty();
  std::ostringstream out;
  out << "<table><tr><th class=\"l\">configuration</th><th>n</th>";
  for (const auto& m : compare_metrics()) out << "<th>" << svg::escape(m.title) << "</th>";
  out << "</tr>\n";
  for (const auto& row : t.rows) {
    out << "<tr" << (row.is_baseline ? " class=\"base\"" : "") << "><td class=\"l\">"
        << svg::escape(row.label) << "</td><td>" << row.runs.size() << "</td>";
    for (const auto& ci : row.interval) out << interval_cell(ci);
    out << "</tr>\n";
  }
  out << "</table>\n<p class=\"note\">Test metrics in percent at "
      << (t.selection == Selection::kLast ? "the last epoch" : "the epoch with the best val top-1")
      << ": mean ± half-width of the 95 % Student-t interval over the n runs of a row (hover "
         "a cell for the interval and the standard deviation).</p>\n";
  if (!paired) return out.str();
  out << "<h2>Paired differences to " << svg::escape(t.baseline) << "</h2>\n"
      << "<table><tr><th class=\"l\">configuration</th><th class=\"l\">baseline row</th>"
         "<th>pairs</th>";
  for (int m = 0; m < kPairedMetrics; ++m)
    out << "<th>Δ " << svg::escape(compare_metrics()[m].title) << "</th><th>p</th>";
  out << "</tr>\n";
  for (const auto& row : t.rows) {
    if (!row.paired) continue;
    out << "<tr><td class=\"l\">" << svg::escape(row.label) << "</td><td class=\"l\">"
        << svg::escape(row.baseline) << "</td><td>" << row.difference[kTop1].pairs << "</td>";
    for (int m = 0; m < kPairedMetrics; ++m) out << difference_cells(row.difference[m]);
    out << "</tr>\n";
  }
  out << "</table>\n<p class=\"note\">Row − baseline in percentage points, runs paired by "
         "(dataset.seed, experiment.seed) and by test sample; [95 % paired bootstrap interval, "
      << t.replicates
      << " replicates]; p: two-sided bootstrap p-value, Holm-adjusted across the rows of each "
         "metric; * and bold: p &lt; 0.05. docs/statistics.md states the method.</p>\n";
  return out.str();
}

std::vector<std::string> labels_of(const CompareTable& t) {
  std::vector<std::string> names;
  for (const auto& row : t.rows) names.push_back(row.label);
  return names;
}

std::string bar_charts(const CompareTable& t) {
  std::ostringstream out;
  out << "<h2>Means with their 95 % intervals</h2>\n<div class=\"charts\">\n";
  const auto names = labels_of(t);
  const double height = 60 + 20.0 * static_cast<double>(t.rows.size());
  for (size_t m = 0; m < compare_metrics().size(); ++m) {
    double hi = 0;
    for (const auto& row : t.rows) {
      const auto& ci = row.interval[m];
      if (!std::isnan(ci.mean)) hi = std::max(hi, 100 * (std::isnan(ci.high) ? ci.mean : ci.high));
    }
    svg::Chart c(std::string(compare_metrics()[m].title) + " (%)", 640, height);
    c.axes(0, hi > 0 ? hi * 1.05 : 1, static_cast<double>(t.rows.size()) - 0.5, -0.5, "%", "");
    c.y_categories(names);
    for (size_t r = 0; r < t.rows.size(); ++r) {
      const auto& ci = t.rows[r].interval[m];
      if (std::isnan(ci.mean)) continue;
      const double y = static_cast<double>(r);
      const std::string text =
          t.rows[r].label + ": " + html::pct(ci.mean) + "% (n = " + std::to_string(ci.n) + ")";
      c.bar(0, y - 0.35, 100 * ci.mean, y + 0.35,
            t.rows[r].is_baseline ? "#7f7f7f" : svg::palette(0), text);
      if (ci.n > 1)
        c.error_bar(100 * ci.low, 100 * ci.high, y,
                    "95 % interval [" + html::pct(ci.low) + ", " + html::pct(ci.high) + "]");
    }
    out << c.str() << "\n";
  }
  out << "</div>\n";
  return out.str();
}

std::string difference_charts(const CompareTable& t) {
  std::vector<size_t> paired;
  for (size_t r = 0; r < t.rows.size(); ++r)
    if (t.rows[r].paired) paired.push_back(r);
  if (paired.empty()) return "";
  std::vector<std::string> names;
  for (size_t r : paired) names.push_back(t.rows[r].label);
  std::ostringstream out;
  out << "<h2>Differences to " << svg::escape(t.baseline)
      << " with their paired bootstrap intervals</h2>\n<div class=\"charts\">\n";
  const double height = 60 + 20.0 * static_cast<double>(paired.size());
  for (int m = 0; m < kPairedMetrics; ++m) {
    std::vector<double> all = {0};
    for (size_t r : paired) {
      const auto& d = t.rows[r].difference[m];
      for (double v : {d.estimate, d.low, d.high})
        if (!std::isnan(v)) all.push_back(100 * v);
    }
    auto [lo, hi] = svg::range_of(all);
    const double pad = (hi - lo) * 0.06;
    svg::Chart c("Δ " + std::string(compare_metrics()[m].title) + " (points)", 640, height);
    c.axes(lo - pad, hi + pad, static_cast<double>(paired.size()) - 0.5, -0.5,
           "row − baseline (percentage points)", "");
    c.y_categories(names);
    c.vline(0, "#555", "", false);
    for (size_t k = 0; k < paired.size(); ++k) {
      const auto& d = t.rows[paired[k]].difference[m];
      if (std::isnan(d.estimate)) continue;
      const bool sig = !std::isnan(d.p_holm) && d.p_holm < 0.05;
      c.error_bar(100 * d.low, 100 * d.high, static_cast<double>(k),
                  "[" + html::pct(d.low) + ", " + html::pct(d.high) + "]");
      c.point(
          100 * d.estimate, static_cast<double>(k), sig ? "#d62728" : "#1f77b4",
          names[k] + ": " + signed_pct(d.estimate) + " points, Holm p " + svg::label(d.p_holm, 3),
          4.5);
    }
    out << c.str() << "\n";
  }
  out << "</div>\n<p class=\"note\">Red: significant after Holm's correction (p &lt; 0.05).</p>\n";
  return out.str();
}

// Mean per-class test recall over the runs of a row.
struct RowClasses {
  std::vector<double> recall;
  PerClassTable first;
};

RowClasses row_classes(const CompareRow& row, const std::vector<RunRecord>& runs,
                       Selection selection) {
  RowClasses out;
  std::vector<double> sum;
  std::vector<int64_t> count;
  for (size_t i : row.members) {
    const auto& run = runs[i];
    const PerClassTable t = read_per_class(run.dir / "per_class.csv");
    const bool best = selection == Selection::kBestOnVal && run.summary.contains("best_on_val");
    const auto& r = best ? t.best_recall : t.last_recall;
    if (sum.empty()) {
      sum.assign(r.size(), 0);
      count.assign(r.size(), 0);
      out.first = t;
    }
    for (size_t c = 0; c < r.size() && c < sum.size(); ++c)
      if (!std::isnan(r[c])) {
        sum[c] += r[c];
        ++count[c];
      }
  }
  for (size_t c = 0; c < sum.size(); ++c) out.recall.push_back(count[c] ? sum[c] / count[c] : kNaN);
  return out;
}

std::string per_class_differences(const CompareTable& t, const std::vector<RunRecord>& runs) {
  std::map<std::string, size_t> by_label;
  for (size_t r = 0; r < t.rows.size(); ++r) by_label[t.rows[r].label] = r;
  std::ostringstream out;
  bool any = false;
  std::map<size_t, RowClasses> cache;
  auto classes_of = [&](size_t r) -> const RowClasses& {
    auto it = cache.find(r);
    if (it == cache.end()) it = cache.emplace(r, row_classes(t.rows[r], runs, t.selection)).first;
    return it->second;
  };
  for (size_t r = 0; r < t.rows.size(); ++r) {
    const CompareRow& row = t.rows[r];
    if (!row.paired || by_label.count(row.baseline) == 0) continue;
    const RowClasses& mine = classes_of(r);
    const RowClasses& base = classes_of(by_label[row.baseline]);
    if (mine.recall.size() != base.recall.size() || base.first.size() != base.recall.size())
      continue;
    if (!any) {
      out << "<h2>Per-class recall differences to " << svg::escape(t.baseline) << "</h2>\n"
          << "<div class=\"charts\">\n";
      any = true;
    }
    std::vector<double> counts, diffs;
    for (size_t c = 0; c < base.recall.size(); ++c) {
      counts.push_back(static_cast<double>(std::max<int64_t>(base.first.train_count[c], 1)));
      diffs.push_back(100 * (mine.recall[c] - base.recall[c]));
    }
    auto [lo, hi] = svg::range_of(counts, true);
    lo /= 1.5;
    hi *= 1.5;
    auto [dlo, dhi] = svg::range_of(diffs);
    const double span = std::max(std::abs(dlo), std::abs(dhi)) * 1.1;
    svg::Chart c(row.label + " − " + row.baseline, 560, 300);
    c.axes(lo, hi, -span, span, "train images of the class (log scale)", "Δ test recall (points)",
           true);
    c.segment(lo, 0, hi, 0, "#555", false);
    for (size_t k = 0; k < diffs.size(); ++k)
      c.point(counts[k], diffs[k], svg::group_colour(base.first.group[k]),
              base.first.name[k] + " (" + std::to_string(base.first.train_count[k]) +
                  " train): " + signed_pct(diffs[k] / 100) + " points");
    c.legend({{"many", svg::group_colour(0), false},
              {"medium", svg::group_colour(1), false},
              {"few", svg::group_colour(2), false}});
    out << c.str() << "\n";
  }
  if (any)
    out << "</div>\n<p class=\"note\">Each point: a class's test recall averaged over the row's "
           "runs minus the same over the baseline row's runs.</p>\n";
  return out.str();
}

}  // namespace

std::string render_compare_report(const CompareTable& table, const std::vector<RunRecord>& runs) {
  std::ostringstream body;
  size_t n = 0;
  for (const auto& row : table.rows) n += row.runs.size();
  body << "<h1>tailor compare</h1>\n<p class=\"sub\">" << n << " runs in " << table.rows.size()
       << " rows";
  if (!table.label_keys.empty()) {
    body << "; rows differ in";
    for (size_t i = 0; i < table.label_keys.size(); ++i)
      body << (i ? ", " : " ") << svg::escape(table.label_keys[i]);
  }
  body << "</p>\n"
       << table_section(table) << bar_charts(table) << difference_charts(table)
       << per_class_differences(table, runs);
  return html::page("tailor compare", body.str());
}

}  // namespace tailor::host
