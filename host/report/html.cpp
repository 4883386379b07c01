// host/report/html.cpp - page frame and style of the HTML reports.
#include "report/html.hpp"

#include "report/svg.hpp"

#include <cmath>
#include <cstdio>

namespace tailor::host::html {

std::string page(const std::string& title, const std::string& body) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
         svg::escape(title) +
         "</title>\n<style>\n"
         "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#222;"
         "margin:24px auto;max-width:1400px;padding:0 16px;background:#fff}\n"
         "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;"
         "border-bottom:1px solid #ddd;padding-bottom:4px}\n"
         ".sub{color:#666;margin:0 0 12px}.note{color:#666;font-size:13px}\n"
         ".charts{display:flex;flex-wrap:wrap;gap:10px}\n"
         "table{border-collapse:collapse;font-size:13px;margin:6px 0}"
         "th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}"
         "th{background:#f5f5f5}td.l,th.l{text-align:left}\n"
         "tr.base td{background:#f3f7ff}td.sig{font-weight:600}\n"
         "svg.chart{border:1px solid #eee;background:#fff}\n"
         "svg text{font-family:system-ui,sans-serif}"
         ".chart-title{font-size:13px;font-weight:600}.tick{font-size:10px;fill:#555}"
         ".axis-label{font-size:11px;fill:#333}.legend{font-size:11px}.small{font-size:10px}"
         ".band-label{font-size:10px}.grid{stroke:#eee}\n"
         "pre{background:#f7f7f7;padding:8px;overflow:auto;font-size:12px}\n"
         "</style>\n</head>\n<body>\n" +
         body + "\n</body>\n</html>\n";
}

std::string pct(double fraction) {
  if (std::isnan(fraction)) return "–";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", 100 * fraction);
  return buf;
}

}  // namespace tailor::host::html
