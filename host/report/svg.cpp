// host/report/svg.cpp - the inline-SVG chart primitives.
#include "report/svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <sstream>

namespace tailor::host::svg {
namespace {

// Pixel coordinates with one decimal keep the files small.
std::string px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string title_element(const std::string& title) {
  return title.empty() ? std::string() : "<title>" + escape(title) + "</title>";
}

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string label(double value, int digits) {
  if (std::isnan(value)) return "–";
  if (value == 0) return "0";
  char buf[48];
  if (std::abs(value) >= 1 && std::abs(value) < 1e9 && value == std::floor(value)) {
    std::snprintf(buf, sizeof buf, "%.0f", value);  // 1000, not 1e+03
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.*g", digits, value);
  return buf;
}

const char* palette(size_t i) {
  static const char* colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return colours[i % 10];
}

const char* group_colour(int group) {
  switch (group) {
    case 0:
      return "#1f77b4";
    case 1:
      return "#ff7f0e";
    case 2:
      return "#2ca02c";
    default:
      return "#7f7f7f";
  }
}

const char* group_name(int group) {
  switch (group) {
    case 0:
      return "many";
    case 1:
      return "medium";
    case 2:
      return "few";
    default:
      return "all";
  }
}

double Scale::operator()(double v) const {
  double t;
  if (log) {
    t = (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
  } else {
    t = (v - lo) / (hi - lo);
  }
  return from + t * (to - from);
}

std::vector<double> Scale::ticks(int target) const {
  std::vector<double> out;
  if (log) {
    const int a = static_cast<int>(std::floor(std::log10(lo) + 1e-9));
    const int b = static_cast<int>(std::ceil(std::log10(hi) - 1e-9));
    const bool dense = b - a <= 2;
    for (int e = a; e <= b; ++e)
      for (double m : dense ? std::vector<double>{1, 2, 5} : std::vector<double>{1}) {
        const double v = m * std::pow(10.0, e);
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push_back(v);
      }
    return out;
  }
  const double span = hi - lo;
  if (!(span > 0)) return {lo};
  const double raw = span / std::max(target, 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  for (auto k = static_cast<int64_t>(std::ceil(lo / step - 1e-9));
       static_cast<double>(k) * step <= hi + step * 1e-9; ++k)
    out.push_back(static_cast<double>(k) * step);
  return out;
}

std::pair<double, double> range_of(const std::vector<double>& values, bool positive) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : values) {
    if (std::isnan(v) || std::isinf(v) || (positive && v <= 0)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (lo > hi) return positive ? std::make_pair(1.0, 10.0) : std::make_pair(0.0, 1.0);
  if (lo == hi) {
    if (positive) return {lo / 2, hi * 2};
    const double pad = lo == 0 ? 1.0 : std::abs(lo) * 0.1;
    return {lo - pad, hi + pad};
  }
  return {lo, hi};
}

Chart::Chart(std::string title, double width, double height)
    : title_(std::move(title)), width_(width), height_(height) {}

void Chart::axes(double x_lo, double x_hi, double y_lo, double y_hi, std::string x_label,
                 std::string y_label, bool x_log, bool y_log) {
  x_ = {x_lo, x_hi, left_, width_ - right_, x_log};
  y_ = {y_lo, y_hi, height_ - bottom_, top_, y_log};
  x_label_ = std::move(x_label);
  y_label_ = std::move(y_label);
}

void Chart::y_categories(std::vector<std::string> names) {
  categories_ = std::move(names);
  size_t longest = 0;
  for (const auto& n : categories_) longest = std::max(longest, std::min<size_t>(n.size(), 34));
  left_ = std::max(left_, 12 + 6.2 * static_cast<double>(longest));
  x_.from = left_;
}

void Chart::line(const std::vector<double>& xs, const std::vector<double>& ys,
                 const std::string& colour, bool dashed, double width, const std::string& title,
                 double opacity) {
  std::string points;
  auto flush = [&] {
    if (points.empty()) return;
    body_ += "<polyline class=\"curve\" fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"" +
             px(width) + "\"" + (dashed ? " stroke-dasharray=\"5 3\"" : "") +
             (opacity < 1 ? " stroke-opacity=\"" + label(opacity, 2) + "\"" : "") + " points=\"" +
             points + "\">" + title_element(title) + "</polyline>";
    points.clear();
  };
  for (size_t i = 0; i < xs.size() && i < ys.size(); ++i) {
    if (std::isnan(xs[i]) || std::isnan(ys[i]) || std::isinf(ys[i])) {
      flush();
      continue;
    }
    points += (points.empty() ? "" : " ") + px(x_(xs[i])) + "," + px(y_(ys[i]));
  }
  flush();
}

void Chart::point(double x, double y, const std::string& colour, const std::string& title, double r,
                  bool hollow) {
  if (std::isnan(x) || std::isnan(y)) return;
  body_ += "<circle class=\"point\" cx=\"" + px(x_(x)) + "\" cy=\"" + px(y_(y)) + "\" r=\"" +
           px(r) + "\" " +
           (hollow ? "fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"1.4\""
                   : "fill=\"" + colour + "\" fill-opacity=\"0.8\"") +
           ">" + title_element(title) + "</circle>";
}

void Chart::band(double x0, double x1, const std::string& colour, const std::string& text) {
  const double a = std::max(x_(x0), x_.from), b = std::min(x_(x1), x_.to);
  if (b <= a) return;
  body_ += "<rect class=\"band\" x=\"" + px(a) + "\" y=\"" + px(y_.to) + "\" width=\"" + px(b - a) +
           "\" height=\"" + px(y_.from - y_.to) + "\" fill=\"" + colour +
           "\" fill-opacity=\"0.10\">" + title_element(text) + "</rect>";
  body_ += "<text class=\"band-label\" x=\"" + px((a + b) / 2) + "\" y=\"" + px(y_.to + 12) +
           "\" text-anchor=\"middle\" fill=\"" + colour + "\">" + escape(text) + "</text>";
}

void Chart::bar(double x0, double y0, double x1, double y1, const std::string& colour,
                const std::string& title, const char* css, double opacity) {
  const double a = x_(x0), b = x_(x1), c = y_(y0), d = y_(y1);
  body_ += std::string("<rect class=\"") + css + "\" x=\"" + px(std::min(a, b)) + "\" y=\"" +
           px(std::min(c, d)) + "\" width=\"" + px(std::abs(b - a)) + "\" height=\"" +
           px(std::abs(d - c)) + "\" fill=\"" + colour + "\" fill-opacity=\"" + label(opacity, 2) +
           "\">" + title_element(title) + "</rect>";
}

void Chart::error_bar(double x0, double x1, double y, const std::string& title) {
  if (std::isnan(x0) || std::isnan(x1)) return;
  const double a = x_(x0), b = x_(x1), c = y_(y);
  body_ += "<g class=\"errorbar\" stroke=\"#222\" stroke-width=\"1.3\">" + title_element(title) +
           "<line x1=\"" + px(a) + "\" y1=\"" + px(c) + "\" x2=\"" + px(b) + "\" y2=\"" + px(c) +
           "\"/><line x1=\"" + px(a) + "\" y1=\"" + px(c - 4) + "\" x2=\"" + px(a) + "\" y2=\"" +
           px(c + 4) + "\"/><line x1=\"" + px(b) + "\" y1=\"" + px(c - 4) + "\" x2=\"" + px(b) +
           "\" y2=\"" + px(c + 4) + "\"/></g>";
}

void Chart::vline(double x, const std::string& colour, const std::string& text, bool dashed,
                  bool label_at_bottom) {
  const double a = x_(x);
  body_ += "<line class=\"marker\" x1=\"" + px(a) + "\" y1=\"" + px(y_.from) + "\" x2=\"" + px(a) +
           "\" y2=\"" + px(y_.to) + "\" stroke=\"" + colour + "\"" +
           (dashed ? " stroke-dasharray=\"3 3\"" : "") + ">" + title_element(text) + "</line>";
  if (!text.empty()) {
    // Right of the line, or left of it where the label would leave the plot.
    const bool left = a + 8 + 5.5 * static_cast<double>(text.size()) > x_.to;
    body_ += "<text x=\"" + px(left ? a - 3 : a + 3) + "\" y=\"" +
             px(label_at_bottom ? y_.from - 4 : y_.to + 10) + "\"" +
             (left ? " text-anchor=\"end\"" : "") + " fill=\"" + colour + "\" class=\"small\">" +
             escape(text) + "</text>";
  }
}

void Chart::segment(double x0, double y0, double x1, double y1, const std::string& colour,
                    bool dashed) {
  body_ += "<line x1=\"" + px(x_(x0)) + "\" y1=\"" + px(y_(y0)) + "\" x2=\"" + px(x_(x1)) +
           "\" y2=\"" + px(y_(y1)) + "\" stroke=\"" + colour + "\"" +
           (dashed ? " stroke-dasharray=\"4 3\"" : "") + "/>";
}

void Chart::note(double x, double y, const std::string& text) {
  body_ += "<text x=\"" + px(x_(x)) + "\" y=\"" + px(y_(y)) + "\" class=\"small\">" + escape(text) +
           "</text>";
}

void Chart::legend(std::vector<LegendEntry> entries) {
  legend_ = std::move(entries);
}

std::string Chart::str() const {
  std::ostringstream out;
  out << "<svg class=\"chart\" width=\"" << px(width_) << "\" height=\"" << px(height_)
      << "\" viewBox=\"0 0 " << px(width_) << " " << px(height_) << "\" role=\"img\">"
      << "<title>" << escape(title_) << "</title>"
      << "<text class=\"chart-title\" x=\"" << px(left_) << "\" y=\"16\">" << escape(title_)
      << "</text>";
  // Frame, grid and ticks.
  out << "<rect x=\"" << px(x_.from) << "\" y=\"" << px(y_.to) << "\" width=\""
      << px(x_.to - x_.from) << "\" height=\"" << px(y_.from - y_.to)
      << "\" fill=\"none\" stroke=\"#bbb\"/>";
  for (double t : x_.ticks(x_.log ? 5 : 6)) {
    const double a = x_(t);
    out << "<line x1=\"" << px(a) << "\" y1=\"" << px(y_.from) << "\" x2=\"" << px(a) << "\" y2=\""
        << px(y_.to) << "\" class=\"grid\"/><text x=\"" << px(a) << "\" y=\"" << px(y_.from + 14)
        << "\" text-anchor=\"middle\" class=\"tick\">" << label(t) << "</text>";
  }
  if (categories_.empty()) {
    for (double t : y_.ticks(5)) {
      const double b = y_(t);
      out << "<line x1=\"" << px(x_.from) << "\" y1=\"" << px(b) << "\" x2=\"" << px(x_.to)
          << "\" y2=\"" << px(b) << "\" class=\"grid\"/><text x=\"" << px(x_.from - 4) << "\" y=\""
          << px(b + 4) << "\" text-anchor=\"end\" class=\"tick\">" << label(t) << "</text>";
    }
  } else {
    for (size_t i = 0; i < categories_.size(); ++i) {
      std::string name = categories_[i];
      if (name.size() > 34) name = name.substr(0, 33) + "…";
      out << "<text x=\"" << px(x_.from - 4) << "\" y=\"" << px(y_(static_cast<double>(i)) + 4)
          << "\" text-anchor=\"end\" class=\"tick\">" << escape(name) << "<title>"
          << escape(categories_[i]) << "</title></text>";
    }
  }
  out << "<text x=\"" << px((x_.from + x_.to) / 2) << "\" y=\"" << px(height_ - 8)
      << "\" text-anchor=\"middle\" class=\"axis-label\">" << escape(x_label_) << "</text>";
  if (!y_label_.empty())
    out << "<text transform=\"translate(13," << px((y_.from + y_.to) / 2)
        << ") rotate(-90)\" text-anchor=\"middle\" class=\"axis-label\">" << escape(y_label_)
        << "</text>";
  out << body_;
  // Legend: one row in the top margin, under the title.
  double lx = x_.from;
  const double ly = top_ - 8;
  for (const auto& e : legend_) {
    out << "<line x1=\"" << px(lx) << "\" y1=\"" << px(ly - 4) << "\" x2=\"" << px(lx + 16)
        << "\" y2=\"" << px(ly - 4) << "\" stroke=\"" << e.colour << "\" stroke-width=\"2.5\""
        << (e.dashed ? " stroke-dasharray=\"4 2\"" : "") << "/><text x=\"" << px(lx + 20)
        << "\" y=\"" << px(ly) << "\" class=\"legend\">" << escape(e.text) << "</text>";
    lx += 32 + 6.0 * static_cast<double>(e.text.size());
  }
  out << "</svg>";
  return out.str();
}

std::string HeatMap::str() const {
  const size_t nr =
      rows.empty() ? (columns.empty() ? 0 : value.size() / columns.size()) : rows.size();
  const size_t nc = nr == 0 ? 0 : value.size() / nr;
  const double c =
      cell > 0 ? cell : std::clamp(520.0 / static_cast<double>(std::max(nr, nc)), 3.0, 40.0);
  const bool names = c >= 9;
  size_t longest = 0;
  for (const auto& n : rows) longest = std::max(longest, std::min<size_t>(n.size(), 18));
  const double left = names && !rows.empty() ? 30 + 6.0 * static_cast<double>(longest) : 36;
  const double top = 34, bottom = names && !columns.empty() ? 70 : 34;
  const double width = std::max(left + c * static_cast<double>(nc) + 70,
                                left + 10 + 7.0 * static_cast<double>(title.size()));
  const double height = top + c * static_cast<double>(nr) + bottom;
  std::ostringstream out;
  out << "<svg class=\"chart heatmap\" width=\"" << px(width) << "\" height=\"" << px(height)
      << "\" viewBox=\"0 0 " << px(width) << " " << px(height) << "\" role=\"img\"><title>"
      << escape(title) << "</title><text class=\"chart-title\" x=\"" << px(left) << "\" y=\"18\">"
      << escape(title) << "</text>";
  for (size_t i = 0; i < nr; ++i)
    for (size_t j = 0; j < nc; ++j) {
      const double v = value[i * nc + j];
      std::string fill = "#eee";
      if (!std::isnan(v)) {
        // White to dark blue.
        const double t = std::clamp(v, 0.0, 1.0);
        const int r = static_cast<int>(255 - t * (255 - 8));
        const int g = static_cast<int>(255 - t * (255 - 48));
        const int b = static_cast<int>(255 - t * (255 - 107));
        char buf[16];
        std::snprintf(buf, sizeof buf, "#%02x%02x%02x", r, g, b);
        fill = buf;
      }
      out << "<rect class=\"cell\" x=\"" << px(left + c * static_cast<double>(j)) << "\" y=\""
          << px(top + c * static_cast<double>(i)) << "\" width=\"" << px(c) << "\" height=\""
          << px(c) << "\" fill=\"" << fill << "\">";
      if (i * nc + j < cell_title.size() && !cell_title[i * nc + j].empty())
        out << "<title>" << escape(cell_title[i * nc + j]) << "</title>";
      out << "</rect>";
    }
  if (names) {
    for (size_t i = 0; i < rows.size(); ++i) {
      std::string n = rows[i].size() > 18 ? rows[i].substr(0, 17) + "…" : rows[i];
      out << "<text x=\"" << px(left - 4) << "\" y=\""
          << px(top + c * (static_cast<double>(i) + 0.5) + 4)
          << "\" text-anchor=\"end\" class=\"tick\">" << escape(n) << "</text>";
    }
    for (size_t j = 0; j < columns.size(); ++j) {
      std::string n = columns[j].size() > 10 ? columns[j].substr(0, 9) + "…" : columns[j];
      const double x = left + c * (static_cast<double>(j) + 0.5);
      const double y = top + c * static_cast<double>(nr) + 6;
      out << "<text transform=\"translate(" << px(x + 3) << "," << px(y)
          << ") rotate(60)\" class=\"tick\">" << escape(n) << "</text>";
    }
  }
  out << "<text x=\"" << px(left + c * static_cast<double>(nc) / 2) << "\" y=\"" << px(height - 6)
      << "\" text-anchor=\"middle\" class=\"axis-label\">" << escape(column_label) << "</text>";
  out << "<text transform=\"translate(11," << px(top + c * static_cast<double>(nr) / 2)
      << ") rotate(-90)\" text-anchor=\"middle\" class=\"axis-label\">" << escape(row_label)
      << "</text>";
  // Colour scale.
  const double sx = left + c * static_cast<double>(nc) + 20;
  for (int k = 0; k < 10; ++k) {
    const double t = (9 - k) / 9.0;
    char buf[16];
    std::snprintf(buf, sizeof buf, "#%02x%02x%02x", static_cast<int>(255 - t * 247),
                  static_cast<int>(255 - t * 207), static_cast<int>(255 - t * 148));
    out << "<rect x=\"" << px(sx) << "\" y=\"" << px(top + 12.0 * k) << "\" width=\"12\" "
        << "height=\"12\" fill=\"" << buf << "\"/>";
  }
  out << "<text x=\"" << px(sx + 15) << "\" y=\"" << px(top + 9) << "\" class=\"tick\">1</text>"
      << "<text x=\"" << px(sx + 15) << "\" y=\"" << px(top + 117) << "\" class=\"tick\">0</text>";
  out << "</svg>";
  return out.str();
}

}  // namespace tailor::host::svg
