// cdb: Class-wise Difficulty-Balanced loss (Sinha, Ohashi, Nakamura, ACCV 2020).
#include "cdb.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace tailor::plugins {

namespace {

double sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

const at::Tensor* find(const NamedTensors& state, const std::string& name) {
  for (const auto& [key, tensor] : state)
    if (key == name) return &tensor;
  return nullptr;
}

}  // namespace

double CdbLoss::tau_for(const std::vector<double>& accuracy, const Options& options) {
  if (options.tau_mode == Options::TauMode::kFixed) return options.tau;
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  for (double a : accuracy) {
    if (std::isnan(a)) continue;
    lo = std::min(lo, a);
    hi = std::max(hi, a);
  }
  if (!std::isfinite(lo)) lo = hi = 0.0;  // nothing measured: as if every accuracy were 0
  const double r = hi / (lo + options.tau_epsilon);
  return options.tau_mode == Options::TauMode::kDynamic ? 2.0 * sigmoid(r - 1.0) : sigmoid(r);
}

std::vector<double> CdbLoss::weights_for(const std::vector<double>& accuracy, double tau,
                                         double min_difficulty) {
  std::vector<double> weights(accuracy.size());
  double total = 0.0;
  for (size_t c = 0; c < accuracy.size(); ++c) {
    const double difficulty = std::isnan(accuracy[c]) ? 1.0 : 1.0 - accuracy[c];
    weights[c] = std::pow(std::max(difficulty, min_difficulty), tau);  // pow(0, 0) is 1
    total += weights[c];
  }
  // Every class at 100% (and no floor): no class is difficult, so no class is preferred.
  if (total <= 0.0) return std::vector<double>(accuracy.size(), 1.0);
  for (double& w : weights) w *= static_cast<double>(accuracy.size()) / total;
  return weights;
}

CdbLoss::CdbLoss(const Options& options, const LossContext& context)
    : options_(options), num_classes_(context.num_classes), device_(context.device) {
  TAILOR_CHECK(context.num_classes > 0, "cdb: the dataset reports no classes");
  // Before the first measurement the official code builds the loss from difficulty 1
  // everywhere: uniform weights, and tau as if every accuracy were 0.
  tau_ = tau_for(std::vector<double>(static_cast<size_t>(num_classes_), 0.0), options_);
  set_weights(std::vector<double>(static_cast<size_t>(num_classes_), 1.0));
}

void CdbLoss::set_weights(std::vector<double> weights) {
  weights_host_ = std::move(weights);
  weights_ = Constant(weights_host_, device_);
}

void CdbLoss::on_validation(const ClassStats& stats) {
  if (stats.split != Split::kVal) return;  // never tune on the test split
  TAILOR_CHECK(static_cast<int64_t>(stats.accuracy.size()) == num_classes_, "cdb: got ",
               stats.accuracy.size(), " per-class accuracies for ", num_classes_, " classes");
  bool any = false;
  for (size_t c = 0; c < stats.accuracy.size(); ++c) {
    const double a = stats.accuracy[c];
    if (std::isnan(a)) continue;
    TAILOR_CHECK(a >= 0.0 && a <= 1.0, "cdb: validation accuracy of class ", c, " is ", a,
                 ", outside [0, 1]");
    any = true;
  }
  if (!any) return;  // a validation pass without a single labelled sample changes nothing
  tau_ = tau_for(stats.accuracy, options_);
  set_weights(weights_for(stats.accuracy, tau_, options_.min_difficulty));
  measured_ = true;
}

at::Tensor CdbLoss::forward(const LossInput& in) {
  const at::Tensor& z = in.logits;
  TAILOR_CHECK(z.dim() == 2 && z.size(1) == num_classes_, "cdb: logits must be [N, ", num_classes_,
               "], got ", z.sizes());
  at::Tensor per_sample;
  if (options_.base == Options::Base::kCe) {
    per_sample = -at::log_softmax(z, 1).gather(1, in.targets.unsqueeze(1)).squeeze(1);
  } else {
    // Sigmoid focal summed over classes, -(1 - p_t)^gamma log p_t with p_t = sigmoid(+-z);
    // the factor written as exp(-gamma (y z + log(1 + e^-z))) stays finite for any logit.
    const at::Tensor y = at::one_hot(in.targets, num_classes_).to(z.scalar_type());
    at::Tensor terms = at::binary_cross_entropy_with_logits(z, y, {}, {}, at::Reduction::None);
    if (options_.gamma > 0.0) {
      at::Tensor modulator = at::exp(-options_.gamma * (y * z + at::softplus(-z)));
      if (options_.detach_modulator) modulator = modulator.detach();
      terms = modulator * terms;
    }
    per_sample = terms.sum(1);
  }
  const at::Tensor w_y = weights_.like(z).index_select(0, in.targets);
  per_sample = w_y * per_sample;
  if (options_.reduction == Options::Reduction::kSum) return per_sample.sum();
  if (options_.reduction == Options::Reduction::kBatchMean) return per_sample.mean();
  const at::Tensor total = w_y.sum();
  // A batch drawn only from classes at 100% accuracy weighs 0: it contributes 0, not 0/0.
  return per_sample.sum() / at::where(total > 0, total, at::ones_like(total));
}

NamedTensors CdbLoss::state() const {
  const auto opts = at::TensorOptions().dtype(at::kDouble);
  return {{"weights", at::tensor(weights_host_, opts)},
          {"tau", at::scalar_tensor(tau_, opts)},
          {"measured", at::scalar_tensor(measured_ ? 1 : 0, at::kLong)}};
}

void CdbLoss::load_state(const NamedTensors& state) {
  const at::Tensor* weights = find(state, "weights");
  const at::Tensor* tau = find(state, "tau");
  const at::Tensor* measured = find(state, "measured");
  TAILOR_CHECK(weights != nullptr && tau != nullptr && measured != nullptr,
               "cdb: checkpoint state lacks one of weights, tau, measured; was it written by "
               "another loss?");
  TAILOR_CHECK(weights->dim() == 1 && weights->size(0) == num_classes_, "cdb: checkpoint has ",
               weights->numel(), " class weights, the dataset has ", num_classes_, " classes");
  const at::Tensor w = weights->to(at::kCPU, at::kDouble).contiguous();
  set_weights(std::vector<double>(w.data_ptr<double>(), w.data_ptr<double>() + w.numel()));
  tau_ = tau->item<double>();
  measured_ = measured->item<int64_t>() != 0;
}

}  // namespace tailor::plugins
