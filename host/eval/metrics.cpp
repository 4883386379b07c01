// host/eval/metrics.cpp - confusion-matrix based metrics.
#include "eval/metrics.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace tailor::host {

Evaluator::Evaluator(int64_t num_classes)
    : num_classes_(num_classes), confusion_(at::zeros({num_classes, num_classes}, at::kLong)) {}

void Evaluator::add(const at::Tensor& logits, const at::Tensor& targets) {
  const at::Tensor l = logits.detach().to(at::kCPU, at::kFloat);
  const at::Tensor t = targets.detach().to(at::kCPU, at::kLong);
  const at::Tensor pred = l.argmax(1);
  confusion_.view(-1).index_add_(0, t * num_classes_ + pred, at::ones_like(t));
  const int64_t k = std::min<int64_t>(5, num_classes_);
  const at::Tensor topk = std::get<1>(l.topk(k, 1));
  top5_correct_ += topk.eq(t.unsqueeze(1)).any(1).sum().item<int64_t>();
  loss_sum_ += at::cross_entropy_loss(l, t, {}, at::Reduction::Sum).item<double>();
  count_ += t.size(0);
}

EvalResult Evaluator::result() const {
  EvalResult r;
  const int64_t c = num_classes_;
  const auto* m = confusion_.data_ptr<int64_t>();
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
  for (int64_t i = 0; i < c; ++i) {
    r.recall.push_back(r.support[i] > 0 ? double(r.correct[i]) / r.support[i] : nan);
    r.precision.push_back(r.predicted[i] > 0 ? double(r.correct[i]) / r.predicted[i] : 0.0);
    if (r.support[i] > 0) {
      recall_sum += r.recall.back();
      precision_sum += r.precision.back();
      ++classes;
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
  return r;
}

}  // namespace tailor::host
