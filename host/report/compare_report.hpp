// host/report/compare_report.hpp - the HTML comparison report of `tailor compare --html`:
// the table with intervals, bar charts with the intervals, the paired differences, and
// per-class differences of each row against its baseline.
#pragma once

#include "sweep/compare.hpp"

#include <string>
#include <vector>

namespace tailor::host {

/// The comparison of `table` (made by compare_runs() from `runs`, maybe with
/// add_paired_differences()) as one self-contained HTML document. Per-class plots read each
/// run's per_class.csv.
std::string render_compare_report(const CompareTable& table, const std::vector<RunRecord>& runs);

}  // namespace tailor::host
