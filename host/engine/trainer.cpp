// host/engine/trainer.cpp - the training loop.
#include "engine/trainer.hpp"

#include "data/batch_loader.hpp"

#include <torch/optim/sgd.h>
#include <torch/utils.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <random>

namespace tailor::host {
namespace {

using Clock_ = std::chrono::steady_clock;

double seconds_since(Clock_::time_point t0) {
  return std::chrono::duration<double>(Clock_::now() - t0).count();
}

// Fisher-Yates with a fixed generator: the order is the same on every platform for a seed.
std::vector<int64_t> shuffled(int64_t n, uint64_t seed) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  std::mt19937_64 rng(seed);
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(rng() % static_cast<uint64_t>(i + 1));
    std::swap(order[i], order[j]);
  }
  return order;
}

nlohmann::json to_json(const EvalResult& r) {
  auto clean = [](const std::vector<double>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (double x : v) a.push_back(std::isnan(x) ? nlohmann::json(nullptr) : nlohmann::json(x));
    return a;
  };
  return {{"samples", r.num_samples},
          {"top1", r.top1},
          {"top5", r.top5},
          {"mean_class_recall", r.mean_class_recall},
          {"mean_class_precision", r.mean_class_precision},
          {"loss", r.loss},
          {"per_class_recall", clean(r.recall)},
          {"per_class_precision", clean(r.precision)},
          {"support", r.support}};
}

}  // namespace

double learning_rate(const TrainOptions& o, int64_t epoch) {
  if (o.warmup_epochs > 0 && epoch < o.warmup_epochs)
    return o.lr * static_cast<double>(epoch + 1) / static_cast<double>(o.warmup_epochs);
  if (o.schedule == "cosine") {
    const double span = static_cast<double>(std::max<int64_t>(1, o.epochs - o.warmup_epochs));
    const double t = static_cast<double>(epoch - o.warmup_epochs) / span;
    return 0.5 * o.lr * (1.0 + std::cos(M_PI * t));
  }
  if (o.schedule == "multistep") {
    double lr = o.lr;
    for (int64_t m : o.milestones)
      if (epoch >= m) lr *= o.gamma;
    return lr;
  }
  return o.lr;
}

Trainer::Trainer(Experiment& experiment, RunDir& run)
    : experiment_(experiment),
      run_(run),
      model_(experiment.backbone(), experiment.dataset().info().num_classes, experiment.head()) {}

EvalResult Trainer::evaluate(Split split, int64_t epoch) {
  const auto& train = experiment_.train();
  DatasetPlugin& dataset = experiment_.dataset();
  std::vector<int64_t> order(static_cast<size_t>(dataset.size(split)));
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  BatchLoader::Options lo;
  lo.batch_size = train.eval_batch_size;
  lo.workers = train.workers;
  lo.prefetch = train.prefetch;
  BatchLoader loader(dataset, split, std::move(order), lo);

  Evaluator evaluator(dataset.info().num_classes);
  model_.train(false);
  torch::NoGradGuard no_grad;
  while (auto batch = loader.next()) {
    const auto x = batch->inputs.to(experiment_.device(), /*non_blocking=*/true);
    const auto logits = experiment_.loss().adjust_logits(model_.forward(x).logits);
    evaluator.add(logits, batch->targets);
  }
  EvalResult r = evaluator.result();
  nlohmann::json record = {{"epoch", epoch + 1}, {"split", split_name(split)}};
  record.update(to_json(r));
  run_.append_metrics(record);
  return r;
}

RunSummary Trainer::run() {
  const auto& train = experiment_.train();
  const auto& exp = experiment_.experiment();
  DatasetPlugin& dataset = experiment_.dataset();
  LossPlugin& loss = experiment_.loss();
  const c10::Device device = experiment_.device();
  const bool has_val = dataset.size(Split::kVal) > 0;
  const bool has_test = dataset.size(Split::kTest) > 0;

  torch::manual_seed(static_cast<uint64_t>(exp.seed));
  model_.to(device);
  std::vector<at::Tensor> params;
  for (auto& [name, p] : model_.named_parameters()) params.push_back(p);
  for (auto& [name, p] : loss.parameters()) params.push_back(p);
  torch::optim::SGD optimizer(params, torch::optim::SGDOptions(train.lr)
                                          .momentum(train.momentum)
                                          .nesterov(train.nesterov)
                                          .weight_decay(train.weight_decay));

  const int64_t n_train = dataset.size(Split::kTrain);
  const bool needs_features = (loss.needs() & TAILOR_LOSS_NEEDS_FEATURES) != 0;
  const bool needs_indices = (loss.needs() & TAILOR_LOSS_NEEDS_INDICES) != 0;
  RunSummary summary;
  const auto t_run = Clock_::now();

  for (int64_t epoch = 0; epoch < train.epochs; ++epoch) {
    const double lr = learning_rate(train, epoch);
    for (auto& group : optimizer.param_groups())
      static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);

    Clock clock;
    clock.epoch = epoch;
    clock.total_epochs = train.epochs;
    loss.on_epoch_start(clock);

    const uint64_t epoch_seed = mix_seed(static_cast<uint64_t>(exp.seed), static_cast<uint64_t>(epoch));
    BatchLoader::Options lo;
    lo.batch_size = train.batch_size;
    lo.augment = true;
    lo.workers = train.workers;
    lo.prefetch = train.prefetch;
    lo.seed = mix_seed(epoch_seed, 1);
    lo.pin_memory = device.is_cuda();
    BatchLoader loader(dataset, Split::kTrain, shuffled(n_train, epoch_seed), lo);
    clock.steps_per_epoch = loader.num_batches();

    model_.train(true);
    double loss_sum = 0;
    int64_t seen = 0;
    const auto t_epoch = Clock_::now();
    for (int64_t step = 0; auto batch = loader.next(); ++step) {
      clock.step = step;
      clock.global_step = epoch * clock.steps_per_epoch + step;
      const auto x = batch->inputs.to(device, /*non_blocking=*/true);
      const auto y = batch->targets.to(device, /*non_blocking=*/true);
      const auto out = model_.forward(x);
      LossInput input;
      input.logits = out.logits;
      input.targets = y;
      if (needs_features) input.features = out.features;
      if (needs_indices)
        input.indices = torch::tensor(loader.batch_indices(step), torch::kLong).to(device);
      input.clock = clock;
      const at::Tensor value = loss.forward(input);
      const double v = value.item<double>();
      if (!std::isfinite(v))
        throw std::runtime_error("loss '" + loss.name() + "' is " + std::to_string(v) +
                                 " at epoch " + std::to_string(epoch + 1) + ", step " +
                                 std::to_string(step + 1) +
                                 "; lower [train] lr or check the data and loss options");
      optimizer.zero_grad();
      value.backward();
      optimizer.step();
      loss_sum += v * static_cast<double>(y.size(0));
      seen += y.size(0);
      if (train.log_every > 0 && (step + 1) % train.log_every == 0)
        spdlog::info("epoch {}/{} step {}/{} loss {:.4f} lr {:.4g}", epoch + 1, train.epochs,
                     step + 1, clock.steps_per_epoch, v, lr);
    }
    const double train_seconds = seconds_since(t_epoch);
    const double train_loss = seen > 0 ? loss_sum / seen : 0.0;
    run_.append_metrics({{"epoch", epoch + 1},
                         {"split", "train"},
                         {"loss", train_loss},
                         {"lr", lr},
                         {"samples", seen},
                         {"seconds", train_seconds},
                         {"images_per_s", seen / std::max(train_seconds, 1e-9)}});

    std::string line = fmt::format("epoch {}/{}: train loss {:.4f} ({:.0f} img/s)", epoch + 1,
                                   train.epochs, train_loss, seen / std::max(train_seconds, 1e-9));
    if (has_val) {
      const EvalResult val = evaluate(Split::kVal, epoch);
      line += fmt::format(", val top-1 {:.2f}%", 100 * val.top1);
      if ((loss.needs() & TAILOR_LOSS_NEEDS_VAL_STATS) != 0) {
        ClassStats stats;
        stats.split = Split::kVal;
        stats.accuracy = val.recall;
        stats.support = val.support;
        stats.clock = clock;
        loss.on_validation(stats);
      }
      if (summary.best_epoch < 0 || val.top1 > summary.best_val_top1) {
        summary.best_val_top1 = val.top1;
        summary.best_epoch = epoch + 1;
        if (has_test) summary.best_val_test = evaluate(Split::kTest, epoch);
      }
    }
    if (has_test) {
      const bool already = summary.best_epoch == epoch + 1;
      summary.last_test = already ? summary.best_val_test : evaluate(Split::kTest, epoch);
      line += fmt::format(", test top-1 {:.2f}%", 100 * summary.last_test.top1);
    }
    spdlog::info("{}", line);
  }
  summary.seconds = seconds_since(t_run);
  return summary;
}

}  // namespace tailor::host
