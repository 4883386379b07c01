// host/report/hooks.hpp - what `tailor run` does for the [report] section: attach the
// TensorBoard writer before training, write report.html after it.
#pragma once

#include "report/options.hpp"
#include "report/run_dir.hpp"

namespace tailor::host {

/// With `tensorboard`, adds a TensorBoard event-file listener to `run` (a new event file per
/// process, so a resumed run adds one). Throws when the file cannot be created.
void attach_report_listeners(RunDir& run, const ReportOptions& options);

/// With `html`, writes report.html into the finished run. The results are already written,
/// so a failure is logged with the command that retries it, not thrown.
void finish_report(const RunDir& run, const ReportOptions& options);

}  // namespace tailor::host
