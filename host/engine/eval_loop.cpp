// host/engine/eval_loop.cpp - evaluation passes, tau sweep, feature bank.
#include "engine/eval_loop.hpp"

#include "data/batch_loader.hpp"
#include "engine/accel.hpp"
#include "report/records.hpp"

#include <torch/utils.h>

#include <chrono>
#include <cmath>
#include <numeric>

namespace tailor::host {

EvalLoop::EvalLoop(Model& model, const DatasetPlugin& dataset, RunDir& dir,
                   const TrainOptions& train, const EvalOptions& eval,
                   std::vector<int64_t> class_counts, c10::Device device, Collective* dist)
    : model_(model),
      dataset_(dataset),
      dir_(dir),
      train_(train),
      eval_(eval),
      class_counts_(std::move(class_counts)),
      device_(device),
      dist_(dist) {}

std::vector<int64_t> EvalLoop::shard(Split split) const {
  const BatchShard s = dist_ != nullptr
                           ? shard_batch(dataset_.size(split), dist_->rank(), dist_->world_size())
                           : BatchShard{0, dataset_.size(split)};
  std::vector<int64_t> order(static_cast<size_t>(s.count));
  std::iota(order.begin(), order.end(), s.offset);
  return order;
}

// Every rank's per-sample outcomes, in split order (the shards are contiguous, in rank order).
SampleOutcomes EvalLoop::gather(const SampleOutcomes& local) const {
  const int64_t n = static_cast<int64_t>(local.size());
  at::Tensor packed = at::empty({n, 4}, at::kDouble);
  auto p = packed.accessor<double, 2>();
  for (int64_t i = 0; i < n; ++i) {
    p[i][0] = local.label[static_cast<size_t>(i)];
    p[i][1] = local.predicted[static_cast<size_t>(i)];
    p[i][2] = local.max_prob[static_cast<size_t>(i)];
    p[i][3] = local.true_prob[static_cast<size_t>(i)];
  }
  const at::Tensor all = dist_->all_gather_cat(packed).contiguous();
  auto a = all.accessor<double, 2>();
  SampleOutcomes out;
  for (int64_t i = 0; i < all.size(0); ++i) {
    out.label.push_back(static_cast<int32_t>(a[i][0]));
    out.predicted.push_back(static_cast<int32_t>(a[i][1]));
    out.max_prob.push_back(static_cast<float>(a[i][2]));
    out.true_prob.push_back(static_cast<float>(a[i][3]));
  }
  return out;
}

EvalResult EvalLoop::pass(Split split, const LossPlugin& loss, int64_t epoch) {
  const auto t0 = std::chrono::steady_clock::now();
  BatchLoader loader(dataset_, split, shard(split),
                     loader_options(train_, device_, train_.eval_batch_size));
  Evaluator evaluator(class_counts_, eval_.many_threshold, eval_.few_threshold, eval_.ece_bins,
                      eval_.majority_threshold);
  if (split == Split::kTest) evaluator.keep_samples();  // the predictions files
  if (eval_.temperature_scaling) {
    if (split == Split::kVal) evaluator.fit_temperature();
    if (split == Split::kTest && temperature_ > 0) evaluator.set_temperature(temperature_);
  }
  model_.train(false);
  torch::NoGradGuard no_grad;
  while (auto batch = loader.next()) {
    at::Tensor x = batch->inputs.to(device_, /*non_blocking=*/true);
    if (train_.channels_last) x = channels_last_input(x);
    evaluator.add(loss.adjust_logits(model_.forward(x).logits), batch->targets);
  }
  if (dist_ != nullptr)
    evaluator.reduce([this](std::vector<at::Tensor> t) { dist_->all_reduce_sum(std::move(t)); });
  EvalResult result = evaluator.result();
  if (dist_ != nullptr && split == Split::kTest) result.samples = gather(result.samples);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  dir_.append_timing(epoch, split_name(split), secs, dataset_.size(split));
  return result;
}

EvalResult EvalLoop::evaluate(Split split, const LossPlugin& loss, const std::string& stage_name,
                              int64_t epoch) {
  nlohmann::json record = {{"epoch", epoch}, {"stage", stage_name}, {"split", split_name(split)}};
  EvalResult r;
  HeadPlugin& head = model_.head();
  if (split == Split::kVal && !head.eval_knob().empty() && !eval_.tau_sweep.empty()) {
    double best = head.eval_knob_value(), best_top1 = -1;
    for (double value : eval_.tau_sweep) {
      head.set_eval_knob(value);
      const EvalResult candidate = pass(split, loss, epoch);
      if (candidate.top1 > best_top1) {
        best_top1 = candidate.top1;
        best = value;
        r = candidate;
      }
    }
    head.set_eval_knob(best);
    record[head.eval_knob()] = best;
  } else {
    r = pass(split, loss, epoch);
  }
  if (split == Split::kVal && !std::isnan(r.temperature)) temperature_ = r.temperature;
  record.update(to_json(r));
  dir_.append_metrics(record);
  return r;
}

std::pair<at::Tensor, at::Tensor> EvalLoop::train_features() {
  BatchLoader::Options lo = loader_options(train_, device_, train_.eval_batch_size);
  lo.pin_memory = false;
  BatchLoader loader(dataset_, Split::kTrain, shard(Split::kTrain), lo);
  std::vector<at::Tensor> features, labels;
  model_.train(false);
  torch::NoGradGuard no_grad;
  while (auto batch = loader.next()) {
    features.push_back(model_.forward(batch->inputs.to(device_)).features);
    labels.push_back(batch->targets.to(device_));
  }
  at::Tensor f = at::cat(features), l = at::cat(labels);
  if (dist_ != nullptr) return {dist_->all_gather_cat(f), dist_->all_gather_cat(l)};
  return {f, l};
}

}  // namespace tailor::host
