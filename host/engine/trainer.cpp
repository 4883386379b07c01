// host/engine/trainer.cpp - stages, epochs, steps; evaluation; checkpoints and resume.
#include "engine/trainer.hpp"

#include "config/experiment.hpp"
#include "data/batch_loader.hpp"
#include "data/sampler.hpp"
#include "engine/accel.hpp"
#include "engine/checkpoint.hpp"
#include "engine/divergence.hpp"
#include "engine/optim.hpp"
#include "report/records.hpp"

#include <ATen/ATen.h>
#include <torch/autograd.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/utils.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <cmath>
#include <csignal>
#include <fstream>
#include <random>

namespace fs = std::filesystem;

namespace tailor::host {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::atomic<int> g_signal{0};
extern "C" void on_signal(int sig) {
  g_signal.store(sig);
  std::signal(sig, SIG_DFL);  // a second Ctrl-C kills at once
}

// Installs the handlers for the duration of training.
struct SignalGuard {
  SignalGuard() {
    g_signal.store(0);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
  }
  ~SignalGuard() {
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
  }
};

double seconds_since(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

// A one-line progress bar on a terminal; nothing otherwise (the log lines suffice).
class Progress {
 public:
  Progress(std::string label, int64_t total) : label_(std::move(label)), total_(total) {}
  ~Progress() {
    if (drawn_) std::fprintf(stderr, "\r\033[K");
  }
  void update(int64_t done, int64_t images) {
    if (!enabled_) return;
    const double t = seconds_since(start_);
    if (t - last_ < 0.25 && done < total_) return;
    last_ = t;
    const double rate = images / std::max(t, 1e-9);
    const double eta = done > 0 ? t * static_cast<double>(total_ - done) / done : 0;
    const int width = 24, filled = static_cast<int>(width * done / std::max<int64_t>(total_, 1));
    std::fprintf(stderr, "\r\033[K%s [%s%s] %lld/%lld  %.0f img/s  ETA %dm%02ds", label_.c_str(),
                 std::string(filled, '=').c_str(), std::string(width - filled, ' ').c_str(),
                 static_cast<long long>(done), static_cast<long long>(total_), rate,
                 static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
    drawn_ = true;
  }

 private:
  std::string label_;
  int64_t total_;
  bool enabled_ = ::isatty(STDERR_FILENO) != 0;
  bool drawn_ = false;
  double last_ = -1;
  SteadyClock::time_point start_ = SteadyClock::now();
};

std::string frozen_list(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? ", frozen: " : ", ") + p;
  return s;
}

// A part names whole dotted components: "backbone", "head.weight", "backbone.layer1".
bool matches(const std::string& name, const std::string& part) {
  if (!part.empty() && part.back() == '.') return name.rfind(part, 0) == 0;
  return name == part || name.rfind(part + ".", 0) == 0;
}

// TAILOR_FAULT_AT="<INT|TERM|KILL>@<epoch>:<step>" raises that signal before the given step
// (1-based epoch over all stages, 0-based step): a test aid for interruption and resume.
void maybe_inject_fault(int64_t epoch_1based, int64_t step) {
  static const char* spec = std::getenv("TAILOR_FAULT_AT");
  if (spec == nullptr || *spec == '\0') return;
  char name[8] = {0};
  long long e = 0, s = 0;
  if (std::sscanf(spec, "%7[A-Z]@%lld:%lld", name, &e, &s) != 3) return;
  if (e != epoch_1based || s != step) return;
  const std::string n = name;
  std::raise(n == "KILL" ? SIGKILL : n == "TERM" ? SIGTERM : SIGINT);
}

// Drops metrics of epochs after `completed` (they are recomputed after a resume).
void truncate_metrics(const fs::path& file, int64_t completed) {
  std::ifstream in(file);
  if (!in) return;
  std::string kept, line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded() && j.value("epoch", int64_t{0}) <= completed) kept += line + "\n";
  }
  in.close();
  write_file_atomic(file, kept);
}

// Class-balanced draw of `n` positions from `by_class` (classes uniform, members uniform).
std::vector<int64_t> balanced_batch(const std::vector<std::vector<int64_t>>& by_class, int64_t n,
                                    std::mt19937_64& rng) {
  std::vector<size_t> present;
  for (size_t c = 0; c < by_class.size(); ++c)
    if (!by_class[c].empty()) present.push_back(c);
  std::vector<int64_t> out;
  for (int64_t i = 0; i < n; ++i) {
    const auto& members = by_class[present[rng() % present.size()]];
    out.push_back(members[rng() % members.size()]);
  }
  return out;
}

// Every training step allocates and frees the same activation and gradient tensors (MBs
// each). glibc by default returns such blocks to the kernel (mmap/munmap, heap trimming), so
// each step page-faults them in again: a fifth of the CPU time of a small CPU model. Keep
// blocks up to 32 MiB (glibc's largest mmap threshold) in the heap and trim it only past
// 1 GiB of free memory at its top; the peak resident size does not change.
void keep_freed_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

}  // namespace

struct Trainer::Impl {
  Experiment& exp;
  RunDir& dir;
  Model model;
  DatasetPlugin& dataset;
  const c10::Device device;
  const uint64_t seed;
  RunSummary summary;

  // Position in training.
  int64_t stage = 0, epoch = 0, step = 0, completed = 0;
  double loss_sum = 0;
  std::unique_ptr<GraphedStep> graph_;  // [train] cuda_graph
  int graph_stage_ = -1, graph_warned_ = -1;
  Clock graph_clock_;
  int64_t seen = 0;

  std::unique_ptr<Optimizer> optimizer;
  bool backbone_frozen = false;
  std::vector<std::vector<int64_t>> meta_by_class;

  Impl(Experiment& e, RunDir& r)
      : exp(e),
        dir(r),
        model(e.backbone(), e.dataset().info().num_classes, e.head()),
        dataset(e.dataset()),
        device(e.device()),
        seed(static_cast<uint64_t>(e.experiment().seed)) {}

  // -- evaluation ---------------------------------------------------------------------------

  // Appends one wall-clock throughput record to timing.jsonl.
  void append_timing(const char* split, double secs, int64_t images) {
    std::ofstream(dir.file("timing.jsonl"), std::ios::app)
        << nlohmann::json({{"epoch", completed + 1}, {"split", split}, {"seconds", secs},
                           {"images", images}, {"images_per_s", images / std::max(secs, 1e-9)}})
               .dump()
        << "\n";
  }

  EvalResult evaluate_once(Split split, LossPlugin& loss) {
    const auto t0 = SteadyClock::now();
    const auto& eval = exp.eval();
    std::vector<int64_t> order(static_cast<size_t>(dataset.size(split)));
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
    BatchLoader::Options lo;
    lo.batch_size = exp.train().eval_batch_size;
    lo.workers = exp.train().workers;
    lo.prefetch = exp.train().prefetch;
    lo.pin_memory = device.is_cuda();
    BatchLoader loader(dataset, split, std::move(order), lo);
    Evaluator evaluator(exp.class_counts(), eval.many_threshold, eval.few_threshold, eval.ece_bins,
                        eval.majority_threshold);
    model.train(false);
    torch::NoGradGuard no_grad;
    while (auto batch = loader.next()) {
      at::Tensor x = batch->inputs.to(device, /*non_blocking=*/true);
      if (exp.train().channels_last) x = channels_last_input(x);
      evaluator.add(loss.adjust_logits(model.forward(x).logits), batch->targets);
    }
    EvalResult result = evaluator.result();
    append_timing(split_name(split), seconds_since(t0), dataset.size(split));
    return result;
  }

  EvalResult evaluate(Split split, LossPlugin& loss, const std::string& stage_name) {
    nlohmann::json record = {{"epoch", completed + 1}, {"stage", stage_name}, {"split", split_name(split)}};
    EvalResult r;
    auto& head = model.head();
    if (split == Split::kVal && head->options().type == "tau_norm" && !exp.eval().tau_sweep.empty()) {
      // Kang et al.: choose tau on val; test then uses the chosen tau.
      double best_tau = head->options().tau, best_top1 = -1;
      for (double tau : exp.eval().tau_sweep) {
        head->set_tau(tau);
        const EvalResult candidate = evaluate_once(split, loss);
        if (candidate.top1 > best_top1) {
          best_top1 = candidate.top1;
          best_tau = tau;
          r = candidate;
        }
      }
      head->set_tau(best_tau);
      record["tau"] = best_tau;
    } else {
      r = evaluate_once(split, loss);
    }
    record.update(to_json(r));
    dir.append_metrics(record);
    return r;
  }

  // [train] augment_on = "device": refuse a dataset without batched augmentation, and let the
  // plugin refuse a configuration it cannot batch, before any training.
  void check_device_augment() {
    if (!dataset.has_batch_augment())
      throw ConfigError("[train] augment_on = \"device\": dataset plugin '" + dataset.name() +
                        "' has no batched augmentation; set augment_on = \"loader\"");
    if (dataset.size(Split::kTrain) == 0) return;
    const int64_t first = 0;
    const Batch probe = dataset.batch({Split::kTrain, false, &first, 1, 0});
    try {
      dataset.augment_batch({Split::kTrain, true, &first, 1, 0}, probe.inputs.to(device));
    } catch (const std::exception& e) {
      throw ConfigError(std::string("[train] augment_on = \"device\": ") + e.what());
    }
    spdlog::info("training augmentation runs batched on {} ({})", device.str(), dataset.name());
  }

  // -- stage setup --------------------------------------------------------------------------

  void apply_freeze(const StagePlan& plan) {
    const auto params = model.named_parameters();
    for (const auto& part : plan.stage.freeze) {
      bool any = false;
      for (const auto& [name, p] : params) any = any || matches(name, part);
      if (!any) {
        std::string names;
        for (size_t i = 0; i < params.size() && i < 8; ++i) names += " " + params[i].first;
        throw ConfigError("stage '" + plan.stage.name + "' freezes '" + part +
                          "', which matches no parameter; use backbone, head, or a prefix of a "
                          "parameter name, e.g.:" + names + " ...");
      }
    }
    backbone_frozen = false;
    for (const auto& part : plan.stage.freeze) backbone_frozen = backbone_frozen || part == "backbone";
    for (auto& [name, p] : params) {
      bool frozen = false;
      for (const auto& part : plan.stage.freeze) frozen = frozen || matches(name, part);
      p.set_requires_grad(!frozen);
    }
  }

  void setup_stage(const StagePlan& plan, bool fresh) {
    apply_freeze(plan);
    if (fresh)
      for (const auto& part : plan.stage.reinit)
        if (part == "head") model.head()->reset_parameters();
    const NamedTensors loss_params = plan.loss->parameters();
    std::vector<std::string> names;
    auto candidate = std::make_unique<Optimizer>(plan.optimizer, model.named_parameters(), loss_params);
    const bool carry = optimizer && !plan.stage.reset_optimizer &&
                       optimizer->names() == candidate->names() &&
                       optimizer->options().type == plan.optimizer.type;
    if (carry) {
      load_optimizer_state(*candidate, optimizer_state(*optimizer));
      spdlog::info("stage '{}': optimizer state carried over", plan.stage.name);
    }
    optimizer = std::move(candidate);
    if (exp.meta().split == "val" && (plan.loss->needs() & TAILOR_LOSS_NEEDS_META_STEP) != 0) {
      const at::Tensor labels = dataset.labels(Split::kVal).to(at::kLong).contiguous();
      meta_by_class.assign(static_cast<size_t>(dataset.info().num_classes), {});
      for (int64_t i = 0; i < labels.numel(); ++i) meta_by_class[labels.data_ptr<int64_t>()[i]].push_back(i);
    } else if ((plan.loss->needs() & TAILOR_LOSS_NEEDS_META_STEP) != 0) {
      meta_by_class.assign(static_cast<size_t>(dataset.info().num_classes), {});
      const auto& labels = exp.train_labels();
      for (size_t i = 0; i < labels.size(); ++i) meta_by_class[labels[i]].push_back(static_cast<int64_t>(i));
    }
  }

  // -- checkpoints --------------------------------------------------------------------------

  Checkpoint snapshot(const StagePlan& plan) {
    Checkpoint c;
    c.model = model.state();
    c.loss = plan.loss->state();
    c.rng.emplace_back("cpu", at::detail::getDefaultCPUGenerator().get_state());
    c.optimizer = optimizer_state(*optimizer);
    c.config_sha256 = config_sha256_;
    c.config_changes = config_changes_;
    c.meta = {{"experiment", exp.experiment().name},
              {"stage", stage},
              {"epoch", epoch},
              {"step", step},
              {"completed", completed},
              {"loss_sum", loss_sum},
              {"seen", seen},
              {"best_epoch", summary.best_epoch},
              {"best_val_top1", summary.best_val_top1},
              {"tau", model.head()->options().tau},
              {"divergence", divergence_.state()}};
    if (summary.has_test && summary.last_test.num_samples > 0) c.meta["last_test"] = to_json(summary.last_test);
    if (summary.has_val && summary.last_val.num_samples > 0) c.meta["last_val"] = to_json(summary.last_val);
    if (summary.best_epoch > 0 && summary.best_test.num_samples > 0)
      c.meta["best_test"] = to_json(summary.best_test);
    return c;
  }

  void restore(const Checkpoint& c, const StagePlan& plan) {
    model.load_state(c.model);
    plan.loss->load_state(c.loss);
    load_optimizer_state(*optimizer, c.optimizer);
    for (const auto& [name, t] : c.rng)
      if (name == "cpu") {
        at::Generator generator = at::detail::getDefaultCPUGenerator();
        generator.set_state(t);
      }
    model.head()->set_tau(c.meta.value("tau", model.head()->options().tau));
    divergence_.restore(c.meta.value("divergence", nlohmann::json()));
  }

  void save(const StagePlan& plan, bool is_best) {
    const Checkpoint c = snapshot(plan);
    const fs::path checkpoints = dir.file("checkpoints");
    save_checkpoint(checkpoints / "latest.pt", c);
    if (is_best) save_checkpoint(checkpoints / "best.pt", c);
    const int64_t every = plan.train.checkpoint_every;
    if (every > 0 && completed % every == 0 && step == 0)
      save_checkpoint(checkpoints / ("epoch_" + std::to_string(completed) + ".pt"), c);
  }

  // -- meta step ----------------------------------------------------------------------------

  // One-step look-ahead (Meta-Weight-Net style): theta' = theta - lr * grad L_w(theta), with
  // the graph kept so the meta loss on a balanced batch reaches the loss's meta parameters.
  // Scope "full" runs before the real forward (its train-mode look-ahead moves BatchNorm
  // statistics, which are restored before the real forward saves them for backward);
  // scope "head" runs after it, on its detached features, and touches no buffer.
  void meta_step(const StagePlan& plan, const at::Tensor& features, const at::Tensor& x,
                 const at::Tensor& y, double lr, const Clock& clock) {
    LossPlugin& loss = *plan.loss;
    const auto& meta = exp.meta();
    std::mt19937_64 rng(mix_seed(mix_seed(seed, 0x6d657461), static_cast<uint64_t>(clock.global_step + completed * 1000003)));
    const auto indices = balanced_batch(meta_by_class, meta.batch_size, rng);
    BatchRequest request;
    request.split = meta.split == "val" ? Split::kVal : Split::kTrain;
    request.augment = false;
    request.indices = indices.data();
    request.count = indices.size();
    request.seed = rng();
    const Batch mb = dataset.batch(request);
    const at::Tensor xm = mb.inputs.to(device), ym = mb.targets.to(device);

    NamedTensors fast;  // detached copies: the look-ahead must not touch the real gradients
    for (const auto& [name, p] : model.named_parameters()) {
      if (!p.requires_grad()) continue;
      if (meta.scope == "head" && name.rfind("head.", 0) != 0) continue;
      fast.emplace_back(name, p.detach().clone().set_requires_grad(true));
    }
    // The look-ahead's BatchNorm updates are thrown away.
    NamedTensors buffers;
    if (meta.scope == "full")
      for (const auto& [name, b] : model.named_buffers()) buffers.emplace_back(name, b.clone());

    LossInput in;
    in.targets = y;
    in.clock = clock;
    at::Tensor meta_features;
    if (meta.scope == "head") {
      in.features = features.detach();
      NamedTensors head_params;
      for (const auto& [name, t] : fast) head_params.emplace_back(name.substr(5), t);
      in.logits = model.head()->forward_with(in.features, head_params);
      {
        torch::NoGradGuard no_grad;
        model.train(false);
        meta_features = model.forward(xm).features;
        model.train(true, backbone_frozen);
      }
    } else {
      const auto o = model.forward_functional(x, fast);
      in.logits = o.logits;
      in.features = o.features;
    }
    const at::Tensor inner = loss.forward(in);
    std::vector<at::Tensor> params;
    for (const auto& [name, t] : fast) params.push_back(t);
    const auto grads = torch::autograd::grad({inner}, params, /*grad_outputs=*/{},
                                             /*retain_graph=*/true, /*create_graph=*/true,
                                             /*allow_unused=*/true);
    NamedTensors stepped;
    for (size_t i = 0; i < params.size(); ++i)
      stepped.emplace_back(fast[i].first, grads[i].defined() ? params[i] - lr * grads[i] : params[i]);
    at::Tensor meta_logits;
    if (meta.scope == "head") {
      NamedTensors head_params;
      for (const auto& [name, t] : stepped) head_params.emplace_back(name.substr(5), t);
      meta_logits = model.head()->forward_with(meta_features, head_params);
    } else {
      meta_logits = model.forward_functional(xm, stepped).logits;
    }
    const at::Tensor meta_loss = at::cross_entropy_loss(meta_logits, ym);
    loss.meta_update(meta_loss, clock);
    if (buffers.empty()) return;
    torch::NoGradGuard no_grad;
    auto live = model.named_buffers();
    for (size_t i = 0; i < live.size(); ++i) live[i].second.copy_(buffers[i].second);
  }

  // -- training -----------------------------------------------------------------------------

  void feature_bank(LossPlugin& loss, const Clock& clock) {
    std::vector<int64_t> order(static_cast<size_t>(dataset.size(Split::kTrain)));
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
    BatchLoader::Options lo;
    lo.batch_size = exp.train().eval_batch_size;
    lo.workers = exp.train().workers;
    lo.prefetch = exp.train().prefetch;
    BatchLoader loader(dataset, Split::kTrain, std::move(order), lo);
    std::vector<at::Tensor> features, labels;
    model.train(false);
    {
      torch::NoGradGuard no_grad;
      while (auto batch = loader.next()) {
        features.push_back(model.forward(batch->inputs.to(device)).features);
        labels.push_back(batch->targets.to(device));
      }
    }
    loss.on_feature_bank(at::cat(features), at::cat(labels), clock);
  }

  void train_epoch(const StagePlan& plan, const Sampler& sampler) {
    LossPlugin& loss = *plan.loss;
    const auto& train = plan.train;
    const double lr = scheduled_lr(plan.schedule, plan.optimizer.lr, epoch, plan.stage.epochs);
    optimizer->set_lr(lr);
    Clock clock;
    clock.epoch = epoch;
    clock.total_epochs = plan.stage.epochs;
    clock.stage = static_cast<int32_t>(stage);
    const uint64_t epoch_seed = mix_seed(seed, static_cast<uint64_t>(completed));
    const auto order = sampler.order(epoch_seed, epoch);
    BatchLoader::Options lo;
    lo.batch_size = train.batch_size;
    const bool augment_on_device = train.augment_on == "device";
    lo.augment = !augment_on_device;
    lo.workers = train.workers;
    lo.prefetch = train.prefetch;
    lo.seed = mix_seed(epoch_seed, 1);
    lo.pin_memory = device.is_cuda();
    lo.start_batch = step;
    auto limited = order;
    if (train.max_steps_per_epoch > 0)
      limited.resize(std::min<size_t>(limited.size(), static_cast<size_t>(train.max_steps_per_epoch * train.batch_size)));
    BatchLoader loader(dataset, Split::kTrain, limited, lo);
    clock.steps_per_epoch = loader.num_batches();
    if (step == 0) {
      loss.on_epoch_start(clock);
      if ((loss.needs() & TAILOR_LOSS_NEEDS_FEATURE_BANK) != 0) feature_bank(loss, clock);
    }
    const bool needs_features = (loss.needs() & TAILOR_LOSS_NEEDS_FEATURES) != 0;
    const bool needs_indices = (loss.needs() & TAILOR_LOSS_NEEDS_INDICES) != 0;
    const bool needs_meta = (loss.needs() & TAILOR_LOSS_NEEDS_META_STEP) != 0;
    model.train(true, backbone_frozen);
    Progress progress(fmt::format("{} epoch {}/{}", plan.stage.name, epoch + 1, plan.stage.epochs),
                      clock.steps_per_epoch);
    const bool bf16 = train.precision == "bf16";
    GraphedStep* graph = graph_for(plan, needs_meta, needs_indices, needs_features, bf16);
    at::Tensor loss_sum_device = device.is_cuda() ? at::zeros({}, at::TensorOptions().dtype(at::kDouble).device(device)) : at::Tensor();
    if (device.is_cuda()) loss_sum_device.fill_(loss_sum);
    int64_t checked_step = step;
    const auto t0 = SteadyClock::now();
    int64_t images = 0;
    for (; auto batch = loader.next(); ++step) {
      maybe_inject_fault(completed + 1, step);
      if (g_signal.load() != 0) {
        if (device.is_cuda()) loss_sum = loss_sum_device.item<double>();
        save(plan, /*is_best=*/false);
        throw Interrupted(
            "interrupted by signal " + std::to_string(g_signal.load()) + " at " + plan.stage.name +
                " epoch " + std::to_string(epoch + 1) + ", step " + std::to_string(step + 1) +
                "; checkpoint written. Resume with: tailor run --resume " + dir.path().string(),
            g_signal.load());
      }
      clock.step = step;
      clock.global_step = epoch * clock.steps_per_epoch + step;
      at::Tensor x = batch->inputs.to(device, /*non_blocking=*/true);
      if (augment_on_device) {
        const auto indices = loader.batch_indices(step);
        x = dataset.augment_batch(
            {Split::kTrain, true, indices.data(), indices.size(), loader.batch_seed(step)}, x);
      }
      if (train.channels_last) x = channels_last_input(x);
      const at::Tensor y = batch->targets.to(device, /*non_blocking=*/true);
      graph_clock_ = clock;
      at::Tensor value;
      if (graph) {
        value = graph->step(x, y);
      } else {
        const bool full_meta = needs_meta && exp.meta().scope == "full";
        if (full_meta) meta_step(plan, {}, x, y, lr, clock);
        {
          AutocastGuard autocast(device, bf16);
          const auto out = model.forward(x);
          if (needs_meta && !full_meta) meta_step(plan, out.features, x, y, lr, clock);
          LossInput input;
          input.logits = out.logits;
          input.targets = y;
          if (needs_features) input.features = out.features;
          if (needs_indices) input.indices = at::tensor(loader.batch_indices(step), at::kLong).to(device);
          input.clock = clock;
          value = loss.forward(input);
        }
        // On CPU every step is checked; on a GPU the check reads the running sum at log
        // points and at the end of the epoch, so that no step waits for the device.
        if (!device.is_cuda()) check_loss(value.item<double>(), loss, plan, step, step);
        optimizer->zero_grad();
        value.backward();
        if (train.grad_clip > 0) {
          std::vector<at::Tensor> params;
          for (const auto& [name, p] : model.named_parameters())
            if (p.requires_grad()) params.push_back(p);
          torch::nn::utils::clip_grad_norm_(params, train.grad_clip);
        }
        optimizer->step();
      }
      const double v = device.is_cuda() ? 0.0 : value.item<double>();
      if (device.is_cuda())
        loss_sum_device = loss_sum_device + value.detach().to(at::kDouble) * static_cast<double>(y.size(0));
      else
        loss_sum += v * static_cast<double>(y.size(0));
      seen += y.size(0);
      images += y.size(0);
      progress.update(step + 1, images);
      const bool log_now = train.log_every > 0 && (step + 1) % train.log_every == 0;
      if (log_now && device.is_cuda()) {
        check_loss(loss_sum_device.item<double>(), loss, plan, checked_step, step);
        checked_step = step + 1;
      }
      if (log_now && ::isatty(STDERR_FILENO) == 0)
        spdlog::info("{} epoch {}/{} step {}/{} loss {:.4f} lr {:.4g}", plan.stage.name, epoch + 1,
                     plan.stage.epochs, step + 1, clock.steps_per_epoch,
                     device.is_cuda() ? value.item<double>() : v, lr);
    }
    if (device.is_cuda()) {
      loss_sum = loss_sum_device.item<double>();
      check_loss(loss_sum, loss, plan, checked_step, step - 1);
      if (graph && graph->replays() > 0)
        spdlog::debug("{} epoch {}: {} CUDA graph replays", plan.stage.name, epoch + 1, graph->replays());
    }
    const double secs = seconds_since(t0);
    nlohmann::json record = {{"epoch", completed + 1},
                             {"stage", plan.stage.name},
                             {"split", "train"},
                             {"loss", seen > 0 ? loss_sum / seen : 0.0},
                             {"lr", lr},
                             {"samples", seen}};
    divergence_.check(train.divergence_factor, stage, plan.stage.name, epoch,
                      seen > 0 ? loss_sum / seen : 0.0, loss.name());
    // Losses that reweight classes report their current weights (CB, CDB, Difficulty-Net).
    const at::Tensor weights = loss.class_weights();
    if (weights.defined() && weights.numel() > 0) {
      const at::Tensor w = weights.detach().to(at::kCPU, at::kDouble).contiguous();
      record["class_weights"] = std::vector<double>(w.data_ptr<double>(), w.data_ptr<double>() + w.numel());
    }
    dir.append_metrics(record);
    append_timing("train", secs, images);
    epoch_line_ = fmt::format("{} epoch {}/{}: loss {:.4f}, lr {:.4g}, {:.0f} img/s", plan.stage.name,
                              epoch + 1, plan.stage.epochs, seen > 0 ? loss_sum / seen : 0.0, lr,
                              images / std::max(secs, 1e-9));
  }

  // Stops the run on a non-finite loss; `first`..`last` are the 0-based steps it covers.
  void check_loss(double value, const LossPlugin& loss, const StagePlan& plan, int64_t first,
                  int64_t last) const {
    if (std::isfinite(value)) return;
    const std::string steps = first >= last ? "step " + std::to_string(last + 1)
                                            : "steps " + std::to_string(first + 1) + "-" +
                                                  std::to_string(last + 1);
    throw std::runtime_error("loss '" + loss.name() + "' is " + std::to_string(value) + " at stage '" +
                             plan.stage.name + "' epoch " + std::to_string(epoch + 1) + ", " + steps +
                             "; stopped, the last good checkpoint is kept. Lower the learning "
                             "rate or check the data and loss options");
  }

  // The captured training step of this stage when [train] cuda_graph applies, else nullptr.
  // Recaptured every epoch: the learning rate and the loss's per-epoch state are constants
  // inside a graph.
  GraphedStep* graph_for(const StagePlan& plan, bool needs_meta, bool needs_indices,
                         bool needs_features, bool bf16) {
    if (!plan.train.cuda_graph) return nullptr;
    std::string why;
    if (!device.is_cuda() || !cuda_graphs_built()) why = "the device is not a CUDA GPU";
    else if (needs_meta || needs_indices) why = "the loss needs a meta step or sample indices";
    else if (plan.train.grad_clip > 0) why = "grad_clip reads the gradient norm on the host";
    if (!why.empty()) {
      if (graph_warned_ != plan.index) spdlog::warn("[train] cuda_graph ignored: {}", why);
      graph_warned_ = plan.index;
      return nullptr;
    }
    if (!graph_ || graph_stage_ != plan.index) {
      LossPlugin& loss = *plan.loss;
      graph_ = std::make_unique<GraphedStep>([this, &loss, needs_features, bf16](const at::Tensor& x,
                                                                               const at::Tensor& y) {
        optimizer->zero_grad();
        at::Tensor value;
        {
          AutocastGuard autocast(device, bf16);
          const auto out = model.forward(x);
          LossInput input;
          input.logits = out.logits;
          input.targets = y;
          if (needs_features) input.features = out.features;
          input.clock = graph_clock_;
          value = loss.forward(input);
        }
        value.backward();
        optimizer->step();
        return value.detach();
      });
      graph_stage_ = plan.index;
    } else {
      graph_->invalidate();
    }
    return graph_.get();
  }

  void end_epoch(const StagePlan& plan) {
    LossPlugin& loss = *plan.loss;
    const auto& eval = exp.eval();
    const bool last = epoch + 1 == plan.stage.epochs && stage + 1 == static_cast<int64_t>(exp.stages().size());
    const bool last_of_stage = epoch + 1 == plan.stage.epochs;
    bool is_best = false;
    Clock clock;
    clock.epoch = epoch;
    clock.total_epochs = plan.stage.epochs;
    clock.stage = static_cast<int32_t>(stage);
    std::string line = epoch_line_;
    if (summary.has_val && eval.val_every > 0 && ((epoch + 1) % eval.val_every == 0 || last_of_stage)) {
      summary.last_val = evaluate(Split::kVal, loss, plan.stage.name);
      line += fmt::format(", val top-1 {:.2f}%", 100 * summary.last_val.top1);
      if ((loss.needs() & TAILOR_LOSS_NEEDS_VAL_STATS) != 0) {
        ClassStats stats;
        stats.split = Split::kVal;
        stats.accuracy = summary.last_val.recall;
        stats.support = summary.last_val.support;
        stats.clock = clock;
        loss.on_validation(stats);
      }
      if (summary.best_epoch < 0 || summary.last_val.top1 > summary.best_val_top1) {
        summary.best_val_top1 = summary.last_val.top1;
        summary.best_epoch = completed + 1;
        is_best = true;
      }
    }
    if (summary.has_test &&
        (is_best || last || (eval.test_every > 0 && (epoch + 1) % eval.test_every == 0))) {
      const EvalResult test = evaluate(Split::kTest, loss, plan.stage.name);
      summary.last_test = test;
      if (is_best) summary.best_test = test;
      line += fmt::format(", test top-1 {:.2f}% (many {:.1f} / medium {:.1f} / few {:.1f})",
                          100 * test.top1, 100 * test.many.accuracy, 100 * test.medium.accuracy,
                          100 * test.few.accuracy);
    }
    spdlog::info("{}", line);
    ++completed;
    ++epoch;
    step = 0;
    loss_sum = 0;
    seen = 0;
    save(plan, is_best);
  }

  RunSummary run(const ResumePlan& start) {
    config_sha256_ = start.config_sha256;
    config_changes_ = start.config_changes;
    SignalGuard signals;
    const auto t0 = SteadyClock::now();
    summary.has_val = dataset.size(Split::kVal) > 0;
    summary.has_test = dataset.size(Split::kTest) > 0;
    model.to(device);
    // Shapes are static within a run: let cuDNN pick its fastest kernels once.
    if (device.is_cuda()) at::globalContext().setBenchmarkCuDNN(true);
    if (exp.train().augment_on == "device") check_device_augment();
    if (exp.train().channels_last) to_channels_last(model.backbone().module());
    std::optional<Checkpoint> checkpoint = start.checkpoint;
    if (checkpoint) {
      const auto& m = checkpoint->meta;
      TAILOR_CHECK(m.value("experiment", "") == exp.experiment().name, "checkpoint ",
                   start.file.string(), " belongs to experiment '", m.value("experiment", ""),
                   "', not '", exp.experiment().name, "'");
      stage = m.at("stage").get<int64_t>();
      epoch = m.at("epoch").get<int64_t>();
      step = m.at("step").get<int64_t>();
      completed = m.at("completed").get<int64_t>();
      loss_sum = m.at("loss_sum").get<double>();
      seen = m.at("seen").get<int64_t>();
      summary.best_epoch = m.at("best_epoch").get<int64_t>();
      summary.best_val_top1 = m.at("best_val_top1").get<double>();
      if (m.contains("last_test")) summary.last_test = eval_from_json(m.at("last_test"));
      if (m.contains("last_val")) summary.last_val = eval_from_json(m.at("last_val"));
      if (m.contains("best_test")) summary.best_test = eval_from_json(m.at("best_test"));
      spdlog::info("resuming at stage {} epoch {} step {} ({} epochs done)", stage, epoch + 1,
                   step + 1, completed);
    }
    if (start.resume) truncate_metrics(dir.file("metrics.jsonl"), completed);

    const auto& stages = exp.stages();
    for (; stage < static_cast<int64_t>(stages.size()); ++stage) {
      const StagePlan& plan = stages[static_cast<size_t>(stage)];
      const bool resuming_here = checkpoint.has_value();
      setup_stage(plan, /*fresh=*/!resuming_here);
      if (resuming_here) {
        restore(*checkpoint, plan);
        checkpoint.reset();
      } else {
        epoch = 0;
        step = 0;
      }
      spdlog::info("stage '{}': {} epochs, sampler {}, loss '{}', optimizer {} lr {}{}",
                   plan.stage.name, plan.stage.epochs, plan.sampler.type, plan.loss->name(),
                   plan.optimizer.type, plan.optimizer.lr,
                   frozen_list(plan.stage.freeze));
      const Sampler sampler(plan.sampler, exp.train_labels(), dataset.info().num_classes,
                            plan.stage.epochs);
      while (epoch < plan.stage.epochs) {
        train_epoch(plan, sampler);
        end_epoch(plan);
      }
    }
    summary.epochs = completed;
    summary.seconds = seconds_since(t0);
    return summary;
  }

  std::string epoch_line_;
  DivergenceGuard divergence_;
  std::string config_sha256_;  // stamped on every checkpoint
  std::vector<ConfigChange> config_changes_;
};

Trainer::Trainer(Experiment& experiment, RunDir& run) {
  keep_freed_memory();
  impl_ = std::make_unique<Impl>(experiment, run);
}
Trainer::~Trainer() = default;
RunSummary Trainer::run(const ResumePlan& start) {
  return impl_->run(start);
}

}  // namespace tailor::host
