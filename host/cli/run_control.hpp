// host/cli/run_control.hpp - what `tailor run` adds around training: SIGINT/SIGTERM
// handling, a progress bar on terminals, and TAILOR_FAULT_AT fault injection.
#pragma once

#include "engine/run_observer.hpp"

#include <chrono>
#include <memory>

namespace tailor::host {

/// Installs SIGINT/SIGTERM handlers for its lifetime (a second signal kills at once).
class RunControl final : public RunObserver {
 public:
  RunControl();
  ~RunControl() override;
  RunControl(const RunControl&) = delete;
  RunControl& operator=(const RunControl&) = delete;

  void epoch_begin(const std::string& label, int64_t steps) override;
  void step_begin(int64_t epoch, int64_t step) override;
  void step_end(int64_t done, int64_t images) override;
  void epoch_end() override;
  int stop_signal() const override;

 private:
  struct Bar;
  std::unique_ptr<Bar> bar_;
};

}  // namespace tailor::host
