// host/report/html.hpp - the page around the reports: one self-contained HTML file with its
// style inline and no script or external reference.
#pragma once

#include <string>

namespace tailor::host::html {

/// A complete HTML document with `body` inside.
std::string page(const std::string& title, const std::string& body);

/// 0.8437 -> "84.37" (two decimals, no unit); "–" for NaN.
std::string pct(double fraction);

}  // namespace tailor::host::html
