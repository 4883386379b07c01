// host/eval/metrics.cpp - confusion-matrix and calibration-bin based metrics.
#include "eval/metrics.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace tailor::host {

int shot_group(int64_t n, int64_t many_threshold, int64_t few_threshold) {
  if (n > many_threshold) return 0;
  if (n < few_threshold) return 2;
  return 1;
}

Evaluator::Evaluator(std::vector<int64_t> train_counts, int64_t many_threshold,
                     int64_t few_threshold, int64_t ece_bins, int64_t majority_threshold)
    : num_classes_(static_cast<int64_t>(train_counts.size())),
      train_counts_(std::move(train_counts)),
      many_(many_threshold),
      few_(few_threshold),
      majority_(majority_threshold),
      confusion_(at::zeros({num_classes_, num_classes_}, at::kLong)),
      bins_(at::zeros({4, ece_bins, 3}, at::kDouble)) {}

void Evaluator::add(const at::Tensor& logits, const at::Tensor& targets) {
  const at::Tensor l = logits.detach().to(at::kCPU, at::kFloat);
  const at::Tensor t = targets.detach().to(at::kCPU, at::kLong);
  const at::Tensor prob = at::softmax(l, 1);
  const auto [confidence, pred] = prob.max(1);
  confusion_.view(-1).index_add_(0, t * num_classes_ + pred, at::ones_like(t));
  const int64_t k = std::min<int64_t>(5, num_classes_);
  top5_correct_ += std::get<1>(l.topk(k, 1)).eq(t.unsqueeze(1)).any(1).sum().item<int64_t>();
  loss_sum_ += at::cross_entropy_loss(l, t, {}, at::Reduction::Sum).item<double>();
  count_ += t.size(0);

  if (keep_samples_) {
    const at::Tensor truth = prob.gather(1, t.unsqueeze(1)).squeeze(1).contiguous();
    const auto* c = confidence.data_ptr<float>();
    const auto* tp = truth.data_ptr<float>();
    const auto* pr = pred.data_ptr<int64_t>();
    const auto* lab = t.data_ptr<int64_t>();
    for (int64_t i = 0; i < t.size(0); ++i) {
      samples_.label.push_back(static_cast<int32_t>(lab[i]));
      samples_.predicted.push_back(static_cast<int32_t>(pr[i]));
      samples_.max_prob.push_back(c[i]);
      samples_.true_prob.push_back(tp[i]);
    }
  }
  bin(bins_, confidence, pred, t);
  if (nll_grid_.defined()) {
    const at::Tensor ld = l.to(at::kDouble);
    const at::Tensor true_logit = ld.gather(1, t.unsqueeze(1)).squeeze(1);
    auto* nll = nll_grid_.data_ptr<double>();
    const std::vector<double> grid = temperature_grid();
    for (size_t g = 0; g < grid.size(); ++g)
      nll[g] += (at::logsumexp(ld / grid[g], 1) - true_logit / grid[g]).sum().item<double>();
  }
  if (temperature_ > 0) {
    // Scaling keeps the argmax: the predictions (and which bin counts as correct) are the same.
    const at::Tensor scaled_confidence = std::get<0>(at::softmax(l / temperature_, 1).max(1));
    bin(bins_ts_, scaled_confidence.contiguous(), pred, t);
  }
}

void Evaluator::bin(at::Tensor& bins, const at::Tensor& confidence, const at::Tensor& pred,
                    const at::Tensor& targets) const {
  const int64_t nbins = bins.size(1);
  const auto* conf = confidence.data_ptr<float>();
  const auto* p = pred.data_ptr<int64_t>();
  const auto* y = targets.data_ptr<int64_t>();
  auto* b = bins.data_ptr<double>();
  for (int64_t i = 0; i < targets.size(0); ++i) {
    // Bin edges (j/B, (j+1)/B], as the usual ECE implementations use.
    const int64_t bin =
        std::clamp<int64_t>(static_cast<int64_t>(std::ceil(conf[i] * nbins)) - 1, 0, nbins - 1);
    const int group = 1 + shot_group(train_counts_[y[i]], many_, few_);
    for (int g : {0, group}) {
      double* cell = b + (g * nbins + bin) * 3;
      cell[0] += 1;
      cell[1] += conf[i];
      cell[2] += p[i] == y[i] ? 1.0 : 0.0;
    }
  }
}

std::vector<double> Evaluator::temperature_grid() {
  constexpr int kPoints = 161;
  const double lo = std::log(0.05), hi = std::log(20.0);
  std::vector<double> grid(kPoints);
  for (int i = 0; i < kPoints; ++i) grid[i] = std::exp(lo + (hi - lo) * i / (kPoints - 1));
  return grid;
}

void Evaluator::fit_temperature() {
  nll_grid_ = at::zeros({static_cast<int64_t>(temperature_grid().size())}, at::kDouble);
}

void Evaluator::set_temperature(double t) {
  if (!(t > 0)) throw std::invalid_argument("temperature must be > 0");
  temperature_ = t;
  bins_ts_ = at::zeros_like(bins_);
}

double Evaluator::fitted_temperature() const {
  const std::vector<double> grid = temperature_grid();
  const auto* f = nll_grid_.data_ptr<double>();
  const size_t n = grid.size();
  const size_t k = static_cast<size_t>(std::min_element(f, f + n) - f);
  if (k == 0 || k + 1 == n) return grid[k];  // at the edge of the range: no bracket to refine
  // Vertex of the parabola through (log T, NLL) at k-1, k, k+1 (the grid is even in log T).
  const double h = std::log(grid[1] / grid[0]);
  const double curvature = f[k + 1] - 2 * f[k] + f[k - 1];
  if (!(curvature > 0)) return grid[k];
  const double offset = 0.5 * h * (f[k - 1] - f[k + 1]) / curvature;
  return grid[k] * std::exp(offset);
}

void Evaluator::reduce(const std::function<void(std::vector<at::Tensor>)>& all_reduce_sum) {
  at::Tensor scalars = at::tensor(
      {static_cast<double>(top5_correct_), loss_sum_, static_cast<double>(count_)}, at::kDouble);
  std::vector<at::Tensor> sums = {confusion_, bins_, scalars};
  if (nll_grid_.defined()) sums.push_back(nll_grid_);
  if (bins_ts_.defined()) sums.push_back(bins_ts_);
  all_reduce_sum(std::move(sums));
  const auto* v = scalars.data_ptr<double>();
  top5_correct_ = static_cast<int64_t>(v[0]);
  loss_sum_ = v[1];
  count_ = static_cast<int64_t>(v[2]);
}

EvalResult Evaluator::result() const {
  EvalResult r;
  const int64_t c = num_classes_;
  const auto* m = confusion_.data_ptr<int64_t>();
  r.confusion = confusion_.clone();
  r.samples = samples_;
  r.support.assign(c, 0);
  r.correct.assign(c, 0);
  r.predicted.assign(c, 0);
  int64_t total_correct = 0;
  for (int64_t i = 0; i < c; ++i) {
    for (int64_t j = 0; j < c; ++j) {
      r.support[i] += m[i * c + j];
      r.predicted[j] += m[i * c + j];
    }
    r.correct[i] = m[i * c + i];
    total_correct += r.correct[i];
  }
  r.num_samples = count_;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  double recall_sum = 0, precision_sum = 0;
  int64_t classes = 0;
  double group_sum[3] = {0, 0, 0};
  int64_t group_measured[3] = {0, 0, 0};
  GroupResult* groups[3] = {&r.many, &r.medium, &r.few};
  for (int64_t i = 0; i < c; ++i) {
    r.recall.push_back(r.support[i] > 0 ? double(r.correct[i]) / r.support[i] : nan);
    r.precision.push_back(r.predicted[i] > 0 ? double(r.correct[i]) / r.predicted[i] : 0.0);
    const int g = shot_group(train_counts_[i], many_, few_);
    groups[g]->classes += 1;
    groups[g]->samples += r.support[i];
    if (r.support[i] > 0) {
      recall_sum += r.recall.back();
      precision_sum += r.precision.back();
      ++classes;
      group_sum[g] += r.recall.back();
      ++group_measured[g];
    }
  }
  for (int g = 0; g < 3; ++g)
    groups[g]->accuracy = group_measured[g] > 0 ? group_sum[g] / group_measured[g] : nan;
  r.majority_threshold = majority_;
  if (majority_ > 0) {
    int64_t measured[2] = {0, 0};
    ThresholdGroupResult* split[2] = {&r.majority, &r.minority};
    for (int64_t i = 0; i < c; ++i) {
      if (train_counts_[i] == majority_) continue;
      ThresholdGroupResult& g = *split[train_counts_[i] > majority_ ? 0 : 1];
      g.classes += 1;
      g.samples += r.support[i];
      if (r.support[i] > 0) {
        g.recall += r.recall[i];
        g.precision += r.precision[i];
        ++measured[train_counts_[i] > majority_ ? 0 : 1];
      }
    }
    for (int g = 0; g < 2; ++g)
      if (measured[g] > 0) {
        split[g]->recall /= measured[g];
        split[g]->precision /= measured[g];
      }
  }
  if (count_ > 0) {
    r.top1 = double(total_correct) / count_;
    r.top5 = double(top5_correct_) / count_;
    r.loss = loss_sum_ / count_;
  }
  if (classes > 0) {
    r.mean_class_recall = recall_sum / classes;
    r.mean_class_precision = precision_sum / classes;
  }
  auto ece = [&](const at::Tensor& bins, int g) {
    const int64_t nbins = bins.size(1);
    const auto* b = bins.data_ptr<double>();
    double total = 0, gap = 0;
    for (int64_t j = 0; j < nbins; ++j) {
      const double* cell = b + (g * nbins + j) * 3;
      total += cell[0];
      if (cell[0] > 0) gap += std::abs(cell[1] - cell[2]);  // |sum conf - sum correct|
    }
    return total > 0 ? gap / total : 0.0;
  };
  r.ece = ece(bins_, 0);
  for (int g = 0; g < 3; ++g) groups[g]->ece = groups[g]->samples > 0 ? ece(bins_, g + 1) : nan;
  if (nll_grid_.defined() && count_ > 0) r.temperature = fitted_temperature();
  if (bins_ts_.defined()) {
    r.temperature = temperature_;
    r.ece_ts = ece(bins_ts_, 0);
    for (int g = 0; g < 3; ++g)
      groups[g]->ece_ts = groups[g]->samples > 0 ? ece(bins_ts_, g + 1) : nan;
  }
  return r;
}

std::string group_percent(const GroupResult& g) {
  return std::isnan(g.accuracy) ? "–" : fmt::format("{:.1f}", 100 * g.accuracy);
}

}  // namespace tailor::host
