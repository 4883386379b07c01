// host/engine/trainer.cpp - stages, epochs, steps; evaluation; checkpoints and resume.
#include "engine/trainer.hpp"

#include "config/experiment.hpp"
#include "data/batch_loader.hpp"
#include "dist/grad_sync.hpp"
#include "engine/accel.hpp"
#include "engine/divergence.hpp"
#include "engine/epoch_meter.hpp"
#include "engine/eval_loop.hpp"
#include "engine/meta_lookahead.hpp"
#include "engine/optim.hpp"
#include "engine/train_step.hpp"
#include "eval/predictions.hpp"
#include "report/records.hpp"

#include <ATen/ATen.h>

#include <spdlog/spdlog.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <random>

namespace fs = std::filesystem;

namespace tailor::host {
namespace {

// 0..n-1 in an order drawn from `seed` (Fisher-Yates on a 64-bit Mersenne twister, with the
// same integer draws on every standard library).
std::vector<int64_t> shuffled_positions(int64_t n, uint64_t seed) {
  std::vector<int64_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = i;
  std::mt19937_64 engine(seed);
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(out[static_cast<size_t>(i)],
              out[static_cast<size_t>(engine() % static_cast<uint64_t>(i + 1))]);
  return out;
}

using SteadyClock = std::chrono::steady_clock;

double seconds_since(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

std::string frozen_list(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? ", frozen: " : ", ") + p;
  return s;
}

bool needs(const LossPlugin& loss, uint32_t flag) {
  return (loss.needs() & flag) != 0;
}

// A validation pass's per-class statistics, as losses and samplers receive them.
ClassStats val_stats(const EvalResult& val, const Clock& clock) {
  ClassStats stats;
  stats.split = Split::kVal;
  stats.accuracy = val.recall;
  stats.support = val.support;
  stats.clock = clock;
  return stats;
}

}  // namespace

struct Trainer::Impl {
  Experiment& exp;
  RunDir& dir;
  RunObserver default_observer;
  RunObserver& observer;
  Collective* dist;
  const int64_t rank, world;
  std::unique_ptr<GradSync> grad_sync;  // the stage's, in a data-parallel run
  Model model;
  DatasetPlugin& dataset;
  const c10::Device device;
  const uint64_t seed;
  EvalLoop evals;
  MetaLookahead lookahead;
  TrainStep steps;
  RunSummary summary;
  Position pos;         // the next step to run
  double loss_sum = 0;  // the running epoch's sample-weighted loss
  int64_t seen = 0;
  std::unique_ptr<Optimizer> optimizer;
  bool backbone_frozen = false;
  std::string epoch_line;
  DivergenceGuard divergence;
  std::string config_sha256;                 // stamped on every checkpoint
  std::vector<ConfigChange> config_changes;  // likewise

  Impl(Experiment& e, RunDir& r, RunObserver* o, Collective* d)
      : exp(e),
        dir(r),
        observer(o != nullptr ? *o : default_observer),
        dist(d),
        rank(d != nullptr ? d->rank() : 0),
        world(d != nullptr ? d->world_size() : 1),
        model(e.backbone(), e.head()),
        dataset(e.dataset()),
        device(e.device()),
        seed(static_cast<uint64_t>(e.experiment().seed)),
        evals(model, dataset, r, e.train(), e.eval(), e.class_counts(), device, d),
        lookahead(model, dataset, e.meta(), device, seed),
        steps(model, device, d) {}

  // -- stage setup --------------------------------------------------------------------------

  void setup_stage(const StagePlan& plan, bool fresh) {
    try {
      backbone_frozen = model.freeze(plan.stage.freeze);
    } catch (const tailor::Error& e) {
      throw ConfigError("stage '" + plan.stage.name + "' " + e.what());
    }
    if (fresh)
      for (const auto& part : plan.stage.reinit)
        if (part == "head") model.head().reset_parameters();
    optimizer = stage_optimizer(plan.optimizer, model.named_parameters(), plan.loss->parameters(),
                                optimizer.get(), plan.stage.reset_optimizer, plan.stage.name);
    if (needs(*plan.loss, TAILOR_LOSS_NEEDS_META_STEP)) lookahead.index(exp.train_labels());
    if (dist != nullptr) {
      grad_sync.reset();  // the previous stage's Reducer unhooks its parameters first
      NamedTensors trainable;
      for (const auto& [name, p] : model.named_parameters())
        if (p.requires_grad()) trainable.emplace_back(name, p);
      for (const auto& [name, p] : plan.loss->parameters())
        trainable.emplace_back("loss." + name, p);
      const DistributedOptions& d = exp.config().distributed;
      grad_sync = std::make_unique<GradSync>(
          *dist, trainable, model.named_buffers(),
          GradSyncOptions{d.bucket_cap_mb, d.find_unused_parameters, d.broadcast_buffers});
    }
  }

  // -- checkpoints --------------------------------------------------------------------------

  // Rank 0 writes; the state it saves is global (every rank holds the same model, optimizer
  // and loss state), so a run resumes with any number of ranks.
  void save(const StagePlan& plan, bool is_best) {
    if (!dir.writer()) return;
    TrainingState state =
        TrainingState::capture(pos, loss_sum, seen, summary, model, *plan.loss, *optimizer);
    state.config_sha256 = config_sha256;
    state.config_changes = config_changes;
    state.divergence = divergence.state();
    state.save(dir.file("checkpoints"), exp.experiment().name, is_best,
               plan.train.checkpoint_every);
  }

  // The test predictions of the best-on-val and of the last epoch (predictions_test_*.bin).
  void write_predictions(bool is_best, bool last, const EvalResult& test) const {
    if (!dir.writer()) return;
    const int64_t classes = dataset.info().num_classes;
    for (const auto& [wanted, name] : {std::pair{is_best, "best"}, std::pair{last, "last"}})
      if (wanted)
        host::write_predictions(dir.file(std::string("predictions_test_") + name + ".bin"),
                                test.samples, classes, pos.completed + 1);
  }

  // -- training -----------------------------------------------------------------------------

  void train_epoch(const StagePlan& plan) {
    LossPlugin& loss = *plan.loss;
    const auto& train = plan.train;
    StepContext context;
    const double base_lr = plan.optimizer.lr_scaling == OptimizerOptions::LrScaling::kNone
                               ? plan.optimizer.lr
                               : plan.optimizer.lr * lr_factor(plan.optimizer, train.batch_size);
    context.lr = scheduled_lr(plan.schedule, base_lr, pos.epoch, plan.stage.epochs);
    context.completed = pos.completed;
    context.backbone_frozen = backbone_frozen;
    optimizer->set_lr(context.lr);
    Clock& clock = context.clock;
    clock.epoch = pos.epoch;
    clock.total_epochs = plan.stage.epochs;
    clock.stage = static_cast<int32_t>(pos.stage);
    const uint64_t epoch_seed = mix_seed(seed, static_cast<uint64_t>(pos.completed));
    // The sampler's global stream (every rank draws the same one).
    SamplerEpoch epoch{clock, epoch_seed, {}};
    if (summary.last_val.num_samples > 0) epoch.val_stats = val_stats(summary.last_val, {});
    // A stage on the unlabeled test inputs (test-time adaptation) shuffles the test split
    // itself; its loss never sees a label.
    const bool unlabeled = plan.stage.inputs == StageOptions::Inputs::kTest;
    const Split split = unlabeled ? Split::kTest : Split::kTrain;
    auto order = unlabeled ? shuffled_positions(dataset.size(Split::kTest), epoch_seed)
                           : plan.sampler->indices(epoch);
    if (train.max_steps_per_epoch > 0)
      order.resize(std::min<size_t>(
          order.size(), static_cast<size_t>(train.max_steps_per_epoch * train.batch_size)));
    const bool augment_on_device = train.augment_on == TrainOptions::AugmentOn::kDevice;
    BatchLoader::Options lo = loader_options(train, device, train.batch_size);
    lo.augment = !augment_on_device;
    lo.seed = mix_seed(epoch_seed, 1);
    lo.start_batch = pos.step;
    lo.rank = rank;
    lo.world = world;
    // A batch mix's second stream (CMO's minority-oversampled batch), in step with the first:
    // the second sampler's streams, drawn again until they cover the epoch, cut to its length.
    std::unique_ptr<BatchLoader> second;
    if (plan.mix_sampler != nullptr) {
      std::vector<int64_t> stream;
      for (uint64_t draw = 0; stream.size() < order.size(); ++draw) {
        SamplerEpoch again = epoch;
        again.seed = mix_seed(mix_seed(epoch_seed, 2), draw);
        const auto more = plan.mix_sampler->indices(again);
        stream.insert(stream.end(), more.begin(), more.end());
      }
      stream.resize(order.size());
      BatchLoader::Options so = lo;
      so.seed = mix_seed(epoch_seed, 3);
      second = std::make_unique<BatchLoader>(dataset, Split::kTrain, std::move(stream), so);
    }
    // Further augmented views of the same images: the same order under other seeds.
    std::vector<std::unique_ptr<BatchLoader>> views;
    for (int64_t v = 1; v < plan.stage.views; ++v) {
      BatchLoader::Options vo = lo;
      vo.seed = mix_seed(epoch_seed, 16 + static_cast<uint64_t>(v));
      views.push_back(std::make_unique<BatchLoader>(dataset, split, order, vo));
    }
    BatchLoader loader(dataset, split, std::move(order), lo);
    clock.steps_per_epoch = loader.num_batches();
    if (pos.step == 0) {
      loss.on_epoch_start(clock);
      if (needs(loss, TAILOR_LOSS_NEEDS_FEATURE_BANK)) {
        const auto [features, labels] = evals.train_features();
        loss.on_feature_bank(features, labels, clock);
      }
    }
    // MiSLAS's shifted BatchNorm: a frozen backbone whose BatchNorm statistics still move.
    model.train(true, backbone_frozen && !plan.stage.shift_bn);
    observer.epoch_begin(
        fmt::format("{} epoch {}/{}", plan.stage.name, pos.epoch + 1, plan.stage.epochs),
        clock.steps_per_epoch);
    steps.begin_epoch(plan, *optimizer,
                      needs(loss, TAILOR_LOSS_NEEDS_META_STEP) ? &lookahead : nullptr,
                      grad_sync.get());
    // On CPU every step is checked before its backward; on a GPU the meter checks the
    // running sum at log points and at the end of the epoch.
    int64_t& step = pos.step;
    EpochMeter meter(device, loss_sum, seen, step, [&](double sum, int64_t first, int64_t last) {
      check_finite_loss(sum, loss.name(), plan.stage.name, pos.epoch, first, last);
    });
    const auto t0 = SteadyClock::now();
    for (; auto batch = loader.next(); ++step) {
      observer.step_begin(pos.completed + 1, step);
      // Every rank stops at the same step: a signal to any of them stops them all.
      const int sig = dist != nullptr ? static_cast<int>(dist->max(observer.stop_signal()))
                                      : observer.stop_signal();
      if (sig != 0) {
        dist != nullptr ? meter.reduce(*dist) : meter.sync();
        loss_sum = meter.loss_sum();
        seen = meter.seen();
        save(plan, /*is_best=*/false);
        throw Interrupted(
            "interrupted by signal " + std::to_string(sig) + " at " + plan.stage.name + " epoch " +
                std::to_string(pos.epoch + 1) + ", step " + std::to_string(step + 1) +
                "; checkpoint written. Resume with: tailor run --resume " + dir.path().string(),
            sig);
      }
      clock.step = step;
      clock.global_step = pos.epoch * clock.steps_per_epoch + step;
      const auto on_device = [&](const BatchLoader& from, const Batch& b) {
        at::Tensor inputs = b.inputs.to(device, /*non_blocking=*/true);
        if (!augment_on_device) return inputs;
        const auto served = from.batch_indices(step);
        return dataset.augment_batch(
            {split, true, served.data(), served.size(), from.batch_seed(step),
             static_cast<uint64_t>(from.batch_position(step))},
            inputs);
      };
      at::Tensor x = on_device(loader, *batch);
      const auto indices = loader.batch_indices(step);
      at::Tensor y = batch->targets.to(device, /*non_blocking=*/true);
      // The share of the global batch, before views multiply the samples.
      context.share = static_cast<double>(y.size(0) * world) /
                      static_cast<double>(loader.global_batch_size(step));
      if (!views.empty()) {
        std::vector<at::Tensor> xs = {x}, ys = {y};
        for (auto& view : views) {
          auto other = view->next();
          TAILOR_CHECK(other, "view ", xs.size() + 1, " ended at step ", step + 1);
          xs.push_back(on_device(*view, *other));
          ys.push_back(y);
        }
        x = at::cat(xs);
        y = at::cat(ys);
      }
      if (unlabeled) y = at::full_like(y, -1);
      context.targets_b = context.mix_weight = at::Tensor();
      if (plan.batch_mix != nullptr) {
        MixInput mix;
        mix.inputs = x;
        mix.targets = y;
        if (second) {
          auto other = second->next();
          TAILOR_CHECK(other, "the second stream of batch mix '", plan.batch_mix->name(),
                       "' ended at step ", step + 1, " of ", clock.steps_per_epoch);
          mix.inputs_b = on_device(*second, *other);
          mix.targets_b = other->targets.to(device, /*non_blocking=*/true);
        }
        mix.seed = mix_seed(loader.batch_seed(step), 4);
        mix.clock = clock;
        MixOutput mixed = plan.batch_mix->mix(mix);
        if (mixed.inputs.defined()) {
          x = mixed.inputs;
          context.targets_b = mixed.targets_b.to(device);
          context.mix_weight = mixed.mix_weight.to(device);
        }
      }
      if (train.channels_last) x = channels_last_input(x);
      const at::Tensor index_tensor =
          steps.needs_indices() ? at::tensor(indices, at::kLong).to(device) : at::Tensor();
      const at::Tensor value = steps.run(x, y, index_tensor, context, [&](const at::Tensor& v) {
        if (!device.is_cuda())
          check_finite_loss(v.item<double>(), loss.name(), plan.stage.name, pos.epoch, step, step);
      });
      meter.add(value, y.size(0), step);
      const int64_t run_step = pos.completed * clock.steps_per_epoch + step;
      if (dir.wants_step(run_step)) dir.append_step(run_step, value.item<double>(), context.lr);
      observer.step_end(step + 1, meter.images());
      if (train.log_every > 0 && (step + 1) % train.log_every == 0) {
        meter.checkpoint(step);
        if (::isatty(STDERR_FILENO) == 0)
          spdlog::info("{} epoch {}/{} step {}/{} loss {:.4f} lr {:.4g}", plan.stage.name,
                       pos.epoch + 1, plan.stage.epochs, step + 1, clock.steps_per_epoch,
                       value.item<double>(), context.lr);
      }
    }
    observer.epoch_end();
    meter.finish(step - 1);
    if (steps.replays() > 0)
      spdlog::debug("{} epoch {}: {} CUDA graph replays", plan.stage.name, pos.epoch + 1,
                    steps.replays());
    if (dist != nullptr) meter.reduce(*dist);
    loss_sum = meter.loss_sum();
    seen = meter.seen();
    const double secs = seconds_since(t0);
    divergence.check(plan.train.divergence_factor, pos.stage, plan.stage.name, pos.epoch,
                     meter.mean(), loss.name());
    // Losses that reweight classes report their current weights (CB, CDB, Difficulty-Net).
    const nlohmann::json record = train_record(pos.completed + 1, plan.stage.name, meter.mean(),
                                               context.lr, seen, loss.class_weights());
    dir.append_metrics(record);
    dir.append_class_vectors(pos.completed + 1, plan.stage.name, loss.class_vectors());
    dir.append_timing(pos.completed + 1, "train", secs, meter.images());
    epoch_line = fmt::format("{} epoch {}/{}: loss {:.4f}, lr {:.4g}, {:.0f} img/s",
                             plan.stage.name, pos.epoch + 1, plan.stage.epochs, meter.mean(),
                             context.lr, meter.images() / std::max(secs, 1e-9));
  }

  void end_epoch(const StagePlan& plan) {
    LossPlugin& loss = *plan.loss;
    const auto& eval = exp.eval();
    const bool last_of_stage = pos.epoch + 1 == plan.stage.epochs;
    const bool last = last_of_stage && pos.stage + 1 == static_cast<int64_t>(exp.stages().size());
    const int64_t epoch = pos.completed + 1;
    bool is_best = false;
    std::string line = epoch_line;
    if (summary.has_val && eval.val_every > 0 &&
        ((pos.epoch + 1) % eval.val_every == 0 || last_of_stage)) {
      summary.last_val = evals.evaluate(Split::kVal, loss, plan.stage.name, epoch);
      line += fmt::format(", val top-1 {:.2f}%", 100 * summary.last_val.top1);
      if (needs(loss, TAILOR_LOSS_NEEDS_VAL_STATS)) {
        Clock clock;
        clock.epoch = pos.epoch;
        clock.total_epochs = plan.stage.epochs;
        clock.stage = static_cast<int32_t>(pos.stage);
        loss.on_validation(val_stats(summary.last_val, clock));
      }
      if (summary.best_epoch < 0 || summary.last_val.top1 > summary.best_val_top1) {
        summary.best_val_top1 = summary.last_val.top1;
        summary.best_epoch = epoch;
        is_best = true;
      }
    }
    if (summary.has_test &&
        (is_best || last || (eval.test_every > 0 && (pos.epoch + 1) % eval.test_every == 0))) {
      const EvalResult test = evals.evaluate(Split::kTest, loss, plan.stage.name, epoch);
      summary.last_test = test;
      if (is_best) summary.best_test = test;
      write_predictions(is_best, last, test);
      line += fmt::format(", test top-1 {:.2f}% (many {} / medium {} / few {})", 100 * test.top1,
                          group_percent(test.many), group_percent(test.medium),
                          group_percent(test.few));
    }
    spdlog::info("{}", line);
    ++pos.completed;
    ++pos.epoch;
    pos.step = 0;
    loss_sum = 0;
    seen = 0;
    save(plan, is_best);
  }

  // Continues from `start`'s checkpoint: the position, the running loss and the results so far
  // now; the tensors when the stage is set up.
  TrainingState adopt(const ResumePlan& start) {
    TrainingState s =
        TrainingState::from_checkpoint(*start.checkpoint, exp.experiment().name, start.file);
    pos = s.position;
    divergence.restore(s.divergence);
    // The saved running loss is global: one rank carries it, the others start from zero.
    loss_sum = rank == 0 ? s.loss_sum : 0.0;
    seen = rank == 0 ? s.seen : 0;
    static_cast<Results&>(summary) = s.results;
    spdlog::info("resuming at stage {} epoch {} step {} ({} epochs done)", pos.stage, pos.epoch + 1,
                 pos.step + 1, pos.completed);
    return s;
  }

  RunSummary run(const ResumePlan& start) {
    config_sha256 = start.config_sha256;
    config_changes = start.config_changes;
    const auto t0 = SteadyClock::now();
    summary.has_val = dataset.size(Split::kVal) > 0;
    summary.has_test = dataset.size(Split::kTest) > 0;
    model.to(device);
    // Shapes are static within a run: let cuDNN pick its fastest kernels once.
    if (device.is_cuda()) at::globalContext().setBenchmarkCuDNN(true);
    if (exp.train().augment_on == TrainOptions::AugmentOn::kDevice) {
      dataset.check_augment_batch(device);
      spdlog::info("training augmentation runs batched on {} ({})", device.str(), dataset.name());
    }
    if (exp.train().channels_last) to_channels_last(model.backbone().module());
    std::optional<TrainingState> resumed;
    if (start.checkpoint) resumed = adopt(start);
    if (start.resume) {
      dir.truncate_metrics(pos.completed);
      if (dir.writer()) truncate_epochs(dir.file("class_vectors.jsonl"), pos.completed);
    }
    const auto& stages = exp.stages();
    for (; pos.stage < static_cast<int64_t>(stages.size()); ++pos.stage) {
      const StagePlan& plan = stages[static_cast<size_t>(pos.stage)];
      setup_stage(plan, /*fresh=*/!resumed);
      if (resumed) {
        resumed->restore(model, *plan.loss, *optimizer);
        resumed.reset();
      } else {
        pos.epoch = 0;
        pos.step = 0;
      }
      spdlog::info("stage '{}': {} epochs, sampler {}, loss '{}', optimizer {} lr {}{}",
                   plan.stage.name, plan.stage.epochs, plan.sampler->name(), plan.loss->name(),
                   OptimizerOptions::kTypes.name(plan.optimizer.type), plan.optimizer.lr,
                   frozen_list(plan.stage.freeze));
      while (pos.epoch < plan.stage.epochs) {
        train_epoch(plan);
        end_epoch(plan);
      }
    }
    summary.epochs = pos.completed;
    summary.seconds = seconds_since(t0);
    return summary;
  }
};

Trainer::Trainer(Experiment& experiment, RunDir& run, RunObserver* observer, Collective* dist)
    : impl_(std::make_unique<Impl>(experiment, run, observer, dist)) {}
Trainer::~Trainer() = default;
RunSummary Trainer::run(const ResumePlan& start) {
  return impl_->run(start);
}

}  // namespace tailor::host
