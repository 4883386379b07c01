// host/report/hooks.cpp - [report] around a run.
#include "report/hooks.hpp"

#include "report/run_report.hpp"
#include "report/tensorboard/event_file.hpp"

#include <spdlog/spdlog.h>

namespace tailor::host {

void attach_report_listeners(RunDir& run, const ReportOptions& options) {
  if (!options.tensorboard) return;
  auto listener = std::make_shared<tensorboard::Listener>(run.path(), options);
  spdlog::info("TensorBoard events in {}", listener->path().string());
  run.listen(std::move(listener));
}

void finish_report(const RunDir& run, const ReportOptions& options) {
  if (!options.html) return;
  try {
    spdlog::info("report {}", write_run_report(run.path()).string());
  } catch (const std::exception& e) {
    spdlog::error(
        "report.html not written: {}; the results are complete, retry with "
        "`tailor report {}`",
        e.what(), run.path().string());
  }
}

}  // namespace tailor::host
