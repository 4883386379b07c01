// host/report/options.hpp - typed options of the [report] section: what a run writes
// besides its metrics.
#pragma once

#include <tailor/options.hpp>

#include <cstdint>

namespace tailor::host {

/// [report]
struct ReportOptions {
  bool html = true;
  bool tensorboard = false;
  int64_t tensorboard_step_every = 10;

  template <class V>
  void visit(V& v) {
    v("html", html,
      "Write report.html (curves, per-class plots, calibration, confusions) into the run "
      "directory when the run finishes; `tailor report RUN_DIR` writes it at any time.");
    v("tensorboard", tensorboard,
      "Write TensorBoard event files (events.out.tfevents.*) into the run directory: every "
      "epoch's metrics as scalars, the loss's per-class vectors as histograms.");
    v("tensorboard_step_every", tensorboard_step_every,
      "With tensorboard: also the training loss and learning rate every N steps (on a GPU each "
      "one waits for the step to finish); 0 = per epoch only.",
      at_least(0));
  }
};

}  // namespace tailor::host
