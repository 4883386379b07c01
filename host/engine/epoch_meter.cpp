// host/engine/epoch_meter.cpp - host or device sums of the training loss.
#include "engine/epoch_meter.hpp"

#include <ATen/ATen.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace tailor::host {

EpochMeter::EpochMeter(c10::Device device, double loss_sum, int64_t seen, int64_t first_step,
                       Check check)
    : on_device_(device.is_cuda()),
      loss_sum_(loss_sum),
      seen_(seen),
      checked_(first_step),
      check_(std::move(check)) {
  if (on_device_)
    device_sum_ = at::full({}, loss_sum, at::TensorOptions().dtype(at::kDouble).device(device));
}

void EpochMeter::add(const at::Tensor& value, int64_t samples, int64_t step) {
  if (on_device_) {
    device_sum_ = device_sum_ + value.detach().to(at::kDouble) * static_cast<double>(samples);
  } else {
    loss_sum_ += value.item<double>() * static_cast<double>(samples);
    checked_ = step + 1;
  }
  seen_ += samples;
  images_ += samples;
}

void EpochMeter::checkpoint(int64_t step) {
  if (!on_device_) return;
  loss_sum_ = device_sum_.item<double>();
  check_(loss_sum_, checked_, step);
  checked_ = step + 1;
}

void EpochMeter::finish(int64_t last_step) {
  if (on_device_) checkpoint(last_step);
}

void EpochMeter::sync() {
  if (on_device_) loss_sum_ = device_sum_.item<double>();
}

void EpochMeter::reduce(Collective& dist) {
  sync();
  at::Tensor sums = at::tensor(
      {loss_sum_, static_cast<double>(seen_), static_cast<double>(images_)}, at::kDouble);
  dist.all_reduce_sum({sums});
  loss_sum_ = sums[0].item<double>();
  seen_ = static_cast<int64_t>(sums[1].item<double>());
  images_ = static_cast<int64_t>(sums[2].item<double>());
}

void check_finite_loss(double value, const std::string& loss, const std::string& stage,
                       int64_t epoch, int64_t first, int64_t last) {
  if (std::isfinite(value)) return;
  const std::string steps_text =
      first >= last ? "step " + std::to_string(last + 1)
                    : "steps " + std::to_string(first + 1) + "-" + std::to_string(last + 1);
  throw std::runtime_error("loss '" + loss + "' is " + std::to_string(value) + " at stage '" +
                           stage + "' epoch " + std::to_string(epoch + 1) + ", " + steps_text +
                           "; stopped, the last good checkpoint is kept. Lower the learning "
                           "rate or check the data and loss options");
}

}  // namespace tailor::host
