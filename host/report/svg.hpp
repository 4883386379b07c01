// host/report/svg.hpp - small inline-SVG charts for the HTML reports: axes (linear or log),
// lines, points, bands, bars, heat-map cells, legends. No script, no external reference.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tailor::host::svg {

/// Escapes text for HTML and SVG content and attributes.
std::string escape(std::string_view text);

/// A compact number for labels: up to `digits` significant digits, no trailing zeros.
std::string label(double value, int digits = 3);

/// Colours: series palette (tab10) and the shot groups.
const char* palette(size_t i);
const char* group_colour(int group);  ///< 0 many, 1 medium, 2 few
const char* group_name(int group);

/// Maps data values to pixels along one axis.
struct Scale {
  double lo = 0, hi = 1;    ///< data range
  double from = 0, to = 1;  ///< pixel range (to < from for a y axis)
  bool log = false;         ///< log10 axis (lo, hi > 0)
  double operator()(double v) const;
  /// Tick positions: 1-2-5 steps on a linear axis, powers of ten (and 2, 5 between them
  /// over short ranges) on a log axis.
  std::vector<double> ticks(int target = 5) const;
};

/// Data range of `values` ignoring NaN, widened when empty or flat; `positive` keeps only
/// values > 0 (log axes).
std::pair<double, double> range_of(const std::vector<double>& values, bool positive = false);

/// One entry of a legend.
struct LegendEntry {
  std::string text;
  std::string colour;
  bool dashed = false;
};

/// A chart: title, axes with ticks and labels, and a plot area to draw into in data
/// coordinates. Elements carry a CSS class (curve, point, band, bar, cell, errorbar, marker)
/// so that tests can count them.
class Chart {
 public:
  Chart(std::string title, double width = 460, double height = 280);
  /// Sets the axes; must be called before drawing.
  void axes(double x_lo, double x_hi, double y_lo, double y_hi, std::string x_label,
            std::string y_label, bool x_log = false, bool y_log = false);
  /// Category names for the y axis (one per integer 0..n-1, top to bottom), instead of ticks.
  void y_categories(std::vector<std::string> names);
  const Scale& x() const { return x_; }
  const Scale& y() const { return y_; }

  /// A polyline through the points; NaN values break it.
  void line(const std::vector<double>& xs, const std::vector<double>& ys, const std::string& colour,
            bool dashed = false, double width = 1.8, const std::string& title = "",
            double opacity = 1.0);
  /// A circle of radius `r` with a hover title.
  void point(double x, double y, const std::string& colour, const std::string& title,
             double r = 3.5, bool hollow = false);
  /// A vertical band between x0 and x1 over the whole plot, with a label at its top.
  void band(double x0, double x1, const std::string& colour, const std::string& text);
  /// A rectangle in data coordinates.
  void bar(double x0, double y0, double x1, double y1, const std::string& colour,
           const std::string& title, const char* css = "bar", double opacity = 0.85);
  /// A horizontal error bar from x0 to x1 at y.
  void error_bar(double x0, double x1, double y, const std::string& title);
  /// A vertical line at x with an optional label at its top (or at its bottom).
  void vline(double x, const std::string& colour, const std::string& text, bool dashed = true,
             bool label_at_bottom = false);
  /// A straight segment in data coordinates (e.g. the diagonal of a reliability diagram).
  void segment(double x0, double y0, double x1, double y1, const std::string& colour,
               bool dashed = true);
  /// A text note inside the plot area, at data coordinates.
  void note(double x, double y, const std::string& text);
  void legend(std::vector<LegendEntry> entries);

  std::string str() const;

 private:
  std::string title_;
  double width_, height_;
  double left_ = 56, right_ = 14, top_ = 40, bottom_ = 44;  // the legend sits in the top margin
  Scale x_, y_;
  std::string x_label_, y_label_;
  std::vector<std::string> categories_;
  std::string body_;
  std::vector<LegendEntry> legend_;
};

/// A heat map: a rows x columns grid of cells coloured by value in [0, 1] (white to dark
/// blue), with optional row and column names and a hover title per cell.
struct HeatMap {
  std::string title;
  std::vector<std::string> rows, columns;  ///< names (may be empty: indices shown)
  std::string row_label, column_label;
  std::vector<double> value;            ///< rows x columns, row-major, in [0, 1] or NaN
  std::vector<std::string> cell_title;  ///< optional, same size as value
  double cell = 0;                      ///< cell size in pixels; 0: fit ~ 520 pixels
  std::string str() const;
};

}  // namespace tailor::host::svg
