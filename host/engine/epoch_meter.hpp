// host/engine/epoch_meter.hpp - the running training loss of an epoch.
#pragma once

#include "dist/collective.hpp"

#include <ATen/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <functional>
#include <string>

namespace tailor::host {

/// Sums the sample-weighted training loss of an epoch: on the host after every step on a CPU,
/// on the device on a GPU, where it is read only at log points and at the end so that no step
/// waits for the device. `check(sum, first, last)` is called with the sum whenever it is read
/// (it stops the run on a non-finite value; `first`..`last` are the 0-based steps since the
/// previous read). In a data-parallel run each rank keeps its own share until reduce().
class EpochMeter {
 public:
  using Check = std::function<void(double sum, int64_t first, int64_t last)>;
  /// Starts from a resumed epoch's `loss_sum` and `seen` at step `first_step`.
  EpochMeter(c10::Device device, double loss_sum, int64_t seen, int64_t first_step, Check check);

  /// Adds step `step`'s mean loss `value` over `samples` samples.
  void add(const at::Tensor& value, int64_t samples, int64_t step);
  /// Reads (and checks) the device sum at a log point after step `step`.
  void checkpoint(int64_t step);
  /// Reads (and checks) the sum after the last step, `last_step`.
  void finish(int64_t last_step);
  /// Reads the device sum without checking it (before a checkpoint mid-epoch).
  void sync();
  /// Sums loss, samples and this process's images over the ranks (a collective).
  void reduce(Collective& dist);

  double loss_sum() const { return loss_sum_; }
  int64_t seen() const { return seen_; }
  /// Samples this process (after reduce(): every rank) trained on in this epoch so far.
  int64_t images() const { return images_; }
  double mean() const { return seen_ > 0 ? loss_sum_ / static_cast<double>(seen_) : 0.0; }

 private:
  bool on_device_;
  double loss_sum_;
  int64_t seen_;
  int64_t images_ = 0;
  int64_t checked_;
  at::Tensor device_sum_;
  Check check_;
};

/// Stops the run on a non-finite loss: throws std::runtime_error naming loss `loss`, stage
/// `stage`, 0-based `epoch` and the 0-based steps `first`..`last` the value covers, and the fix.
void check_finite_loss(double value, const std::string& loss, const std::string& stage,
                       int64_t epoch, int64_t first, int64_t last);

}  // namespace tailor::host
