// dro_lt: DRO-LT distributional robustness loss (Samuel & Chechik, ICCV 2021).
#include "dro_lt.hpp"

#include <tailor/log.hpp>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tailor::plugins {

namespace {

const at::Tensor* find(const NamedTensors& state, const std::string& name) {
  for (const auto& [key, tensor] : state)
    if (key == name) return &tensor;
  return nullptr;
}

}  // namespace

DroLtLoss::DroLtLoss(const Options& options, const LossContext& context)
    : options_(options),
      num_classes_(context.num_classes),
      feature_dim_(context.feature_dim),
      device_(context.device) {
  // Options built in code skip the schema's constraints: check them here too.
  TAILOR_CHECK(options.temperature > 0.0 && std::isfinite(options.temperature),
               "[loss] dro_lt: temperature must be > 0, got ", options.temperature,
               "; the official recipe uses 1");
  TAILOR_CHECK(options.lambda >= 0.0, "[loss] dro_lt: lambda must be >= 0, got ", options.lambda);
  TAILOR_CHECK(options.epsilon >= 0.0, "[loss] dro_lt: epsilon must be >= 0, got ",
               options.epsilon);
  TAILOR_CHECK(num_classes_ > 0, "dro_lt: the dataset reports no classes");
  TAILOR_CHECK(feature_dim_ > 0, "dro_lt: the backbone reports feature_dim = ", feature_dim_,
               "; the robustness loss needs feature vectors, use a backbone with a positive "
               "feature_dim");
  TAILOR_CHECK(static_cast<int64_t>(context.class_counts.size()) == num_classes_, "dro_lt: got ",
               context.class_counts.size(), " class counts for ", num_classes_, " classes");

  const auto& counts = context.class_counts;
  const int64_t n_max = *std::max_element(counts.begin(), counts.end());
  const int64_t n_min = *std::min_element(counts.begin(), counts.end());
  const auto f32 = at::TensorOptions().dtype(at::kFloat).device(device_);
  if (options.epsilon_mode == Options::EpsilonMode::kCount) {
    TAILOR_CHECK(n_min >= 1,
                 "[loss] dro_lt: epsilon_mode = \"count\" needs every class to have a "
                 "training sample (eps_c = epsilon * sqrt(n_min / n_c)), but a class has ",
                 n_min, "; use epsilon_mode = \"learned\" or \"fixed\"");
    std::vector<double> eps(counts.size());
    for (size_t c = 0; c < counts.size(); ++c)
      eps[c] = options.epsilon * std::sqrt(static_cast<double>(n_min) / counts[c]);
    fixed_epsilon_ = Constant(eps, device_);
  } else if (options.epsilon_mode == Options::EpsilonMode::kFixed) {
    fixed_epsilon_ = Constant(at::full({num_classes_}, options.epsilon, f32.dtype(at::kDouble)));
  }
  if (fixed_epsilon_.defined()) {
    epsilon_ = fixed_epsilon_.f32().clone();
  } else {
    epsilon_ = at::full({num_classes_}, options.epsilon, f32).set_requires_grad(true);
  }
  if (options.ce == Options::Ce::kFrequencyWeighted) {
    TAILOR_CHECK(n_max >= 1,
                 "[loss] dro_lt: ce = \"frequency_weighted\" needs training samples "
                 "(v_c = n_c / max n), but every class count is 0");
    std::vector<double> v(counts.size());
    for (size_t c = 0; c < counts.size(); ++c) v[c] = static_cast<double>(counts[c]) / n_max;
    ce_weights_ = Constant(v, device_);
  }
  if (options.robust_weights == Options::RobustWeights::kBalanced) {
    // sklearn's compute_class_weight("balanced") of the official main.py: n / (C n_c).
    TAILOR_CHECK(n_min >= 1,
                 "[loss] dro_lt: robust_weights = \"balanced\" weighs class c by n / (C n_c), "
                 "but a class has no training sample; use robust_weights = \"none\" or "
                 "\"long_tailed\"");
    double total = 0.0;
    for (int64_t n : counts) total += static_cast<double>(n);
    std::vector<double> u(counts.size());
    for (size_t c = 0; c < counts.size(); ++c)
      u[c] = total / (static_cast<double>(num_classes_) * static_cast<double>(counts[c]));
    robust_weights_ = Constant(u, device_);
  } else if (options.robust_weights == Options::RobustWeights::kLongTailed) {
    TAILOR_CHECK(n_max >= 1,
                 "[loss] dro_lt: robust_weights = \"long_tailed\" needs training samples "
                 "(u_c = n_c / max n), but every class count is 0");
    std::vector<double> u(counts.size());
    for (size_t c = 0; c < counts.size(); ++c) u[c] = static_cast<double>(counts[c]) / n_max;
    robust_weights_ = Constant(u, device_);
  }
}

at::Tensor DroLtLoss::robustness_loss(const at::Tensor& f, const at::Tensor& y) const {
  TAILOR_CHECK(centroids_.defined(),
               "dro_lt: no class centroids yet. The host passes the training feature bank "
               "(on_feature_bank) at every epoch start; this loss needs a host that honours "
               "needs::kFeatureBank");
  TAILOR_CHECK(f.dim() == 2 && f.size(1) == feature_dim_, "dro_lt: features must be [N, ",
               feature_dim_, "], got ", f.sizes());
  TAILOR_CHECK(y.dim() == 1 && y.size(0) == f.size(0), "dro_lt: targets must be [", f.size(0),
               "], got ", y.sizes());
  const auto [present, inverse] = at::_unique(y, /*sorted=*/true, /*return_inverse=*/true);
  const at::Tensor present_cpu = present.to(at::kCPU);
  const at::Tensor missing = centroid_counts_.index_select(0, present_cpu) == 0;
  if (missing.any().item<bool>()) {
    const int64_t c = present_cpu.masked_select(missing)[0].item<int64_t>();
    throw Error(detail::concat("dro_lt: class ", c,
                               " is in the batch but had no sample in the feature bank, so it "
                               "has no centroid; the bank must cover every training class"));
  }
  const at::Tensor mu = centroids_.like(f).index_select(0, present);
  // Direct differences, not the |a|^2 - 2ab + |b|^2 expansion: exact at small distances.
  const at::Tensor dist = at::cdist(mu, f, 2.0, /*compute_mode=*/2);  // [P, N]
  const at::Tensor mask =
      (at::arange(present.size(0), y.options()).unsqueeze(1) == inverse.unsqueeze(0))
          .to(f.scalar_type());
  const at::Tensor eps =
      fixed_epsilon_.defined() ? fixed_epsilon_.like(f) : epsilon_.to(f.options());
  at::Tensor eps_y = eps.index_select(0, y);  // [N], batch order
  if (options_.epsilon_pairing == Options::Pairing::kOfficial) {
    // The official mask enumerates positives class-sorted while eps[y] is in batch order:
    // the k-th positive in class-sorted order receives the eps of batch sample k.
    const at::Tensor perm = std::get<1>(at::sort(y, /*stable=*/true, /*dim=*/0, false));
    const at::Tensor rank =
        at::empty_like(perm).scatter_(0, perm, at::arange(y.size(0), perm.options()));
    eps_y = eps_y.index_select(0, rank);
  }
  const at::Tensor s = -(dist + mask * eps_y.unsqueeze(0)) / options_.temperature;
  const at::Tensor log_p = s - at::logsumexp(s, 1, /*keepdim=*/true);
  const at::Tensor per_class = -(log_p * mask).sum(1) / mask.sum(1);
  if (!robust_weights_.defined()) return per_class.mean();
  // The official weighted reduction: absent classes add 0 above but their weight below.
  const at::Tensor u = robust_weights_.like(f).index_select(0, present);
  return (u * per_class).sum() / robust_norm_;
}

at::Tensor DroLtLoss::forward(const LossInput& in) {
  const at::Tensor& z = in.logits;
  TAILOR_CHECK(z.dim() == 2 && z.size(1) == num_classes_, "dro_lt: logits must be [N, ",
               num_classes_, "], got ", z.sizes());
  if (options_.clamp_epsilon && options_.epsilon_mode == Options::EpsilonMode::kLearned) {
    torch::NoGradGuard no_grad;
    epsilon_.clamp_min_(0.0);  // projected SGD: the host's step may have pushed eps below 0
  }
  at::Tensor total;
  if (options_.ce != Options::Ce::kOff) {
    const at::Tensor nll = -at::log_softmax(z, 1).gather(1, in.targets.unsqueeze(1)).squeeze(1);
    if (options_.ce == Options::Ce::kPlain) {
      total = nll.mean();
    } else {
      const at::Tensor v_y = ce_weights_.like(z).index_select(0, in.targets);
      const at::Tensor mass = v_y.sum();
      total = (v_y * nll).sum() / at::where(mass > 0, mass, at::ones_like(mass));
    }
  }
  if (options_.lambda > 0.0) {
    TAILOR_CHECK(in.features.defined(),
                 "dro_lt: the host passed no features; this loss declares needs::kFeatures");
    const at::Tensor rob = options_.lambda * robustness_loss(in.features, in.targets);
    total = total.defined() ? total + rob : rob;
  }
  return total.defined() ? total : at::zeros({}, z.options());
}

void DroLtLoss::on_epoch_start(const Clock& clock) {
  if (options_.epsilon_mode != Options::EpsilonMode::kLearned) return;
  // Learned eps only ever shrinks (methods.md 5.7.1): keep an eye on it.
  const at::Tensor e = epsilon_.detach().to(at::kCPU, at::kDouble);
  char line[160];
  std::snprintf(line, sizeof line, "epoch %lld: eps min %.4g mean %.4g max %.4g, %lld negative",
                static_cast<long long>(clock.epoch + 1), e.min().item<double>(),
                e.mean().item<double>(), e.max().item<double>(),
                static_cast<long long>((e < 0).sum().item<int64_t>()));
  log_info(line);
}

void DroLtLoss::on_feature_bank(const at::Tensor& features, const at::Tensor& labels,
                                const Clock& /*clock*/) {
  TAILOR_CHECK(features.dim() == 2 && features.size(1) == feature_dim_,
               "dro_lt: feature bank must be [N, ", feature_dim_,
               "] (the backbone's feature_dim), got ", features.sizes());
  TAILOR_CHECK(labels.dim() == 1 && labels.size(0) == features.size(0), "dro_lt: feature bank has ",
               features.size(0), " features but labels of shape ", labels.sizes());
  const at::Tensor y = labels.to(at::kCPU, at::kLong);
  if (y.numel() > 0)
    TAILOR_CHECK(y.min().item<int64_t>() >= 0 && y.max().item<int64_t>() < num_classes_,
                 "dro_lt: feature bank labels must lie in [0, ", num_classes_, ")");
  // Class sums in float64 on the CPU, chunked: deterministic, and accurate for large banks.
  at::Tensor sums = at::zeros({num_classes_, feature_dim_}, at::kDouble);
  const int64_t chunk = 16384;
  for (int64_t start = 0; start < features.size(0); start += chunk) {
    const int64_t len = std::min(chunk, features.size(0) - start);
    sums.index_add_(0, y.narrow(0, start, len),
                    features.narrow(0, start, len).detach().to(at::kCPU, at::kDouble));
  }
  centroid_counts_ = at::bincount(y, {}, num_classes_);
  centroids_ =
      Constant((sums / centroid_counts_.clamp_min(1).unsqueeze(1).to(at::kDouble)).to(device_));
  update_robust_norm();
  const int64_t empty = (centroid_counts_ == 0).sum().item<int64_t>();
  if (empty > 0)
    log_warn(std::to_string(empty) + " classes have no sample in the feature bank and no centroid");
}

void DroLtLoss::update_robust_norm() {
  if (!robust_weights_.defined() || !centroid_counts_.defined()) return;
  const at::Tensor u = robust_weights_.f64().to(at::kCPU);
  robust_norm_ = u.masked_select(centroid_counts_ > 0).sum().item<double>();
}

NamedTensors DroLtLoss::parameters() {
  if (options_.epsilon_mode != Options::EpsilonMode::kLearned) return {};
  return {{"epsilon", epsilon_}};
}

NamedTensors DroLtLoss::state() const {
  NamedTensors out{{"epsilon", epsilon_.detach().clone()}};
  if (centroids_.defined()) {
    out.emplace_back("centroids", centroids_.f64().clone());
    out.emplace_back("centroid_counts", centroid_counts_.clone());
  }
  return out;
}

void DroLtLoss::load_state(const NamedTensors& state) {
  const at::Tensor* eps = find(state, "epsilon");
  TAILOR_CHECK(eps != nullptr,
               "dro_lt: checkpoint state lacks epsilon; was it written by another loss?");
  TAILOR_CHECK(eps->dim() == 1 && eps->size(0) == num_classes_, "dro_lt: checkpoint has ",
               eps->numel(), " margins, the dataset has ", num_classes_, " classes");
  const at::Tensor* centroids = find(state, "centroids");
  const at::Tensor* counts = find(state, "centroid_counts");
  TAILOR_CHECK((centroids == nullptr) == (counts == nullptr),
               "dro_lt: checkpoint state has one of centroids, centroid_counts but not the other");
  if (centroids != nullptr) {
    TAILOR_CHECK(centroids->dim() == 2 && centroids->size(0) == num_classes_ &&
                     centroids->size(1) == feature_dim_,
                 "dro_lt: checkpoint centroids are ", centroids->sizes(), ", expected [",
                 num_classes_, ", ", feature_dim_, "] (classes, backbone feature_dim)");
    TAILOR_CHECK(counts->dim() == 1 && counts->size(0) == num_classes_,
                 "dro_lt: checkpoint centroid_counts must be [", num_classes_, "]");
  }
  {
    // In place: the host's optimizer holds this very tensor.
    torch::NoGradGuard no_grad;
    epsilon_.copy_(*eps);
  }
  if (centroids != nullptr) {
    centroids_ = Constant(centroids->to(device_, at::kDouble).clone());
    centroid_counts_ = counts->to(at::kCPU, at::kLong).clone();
    update_robust_norm();
  } else {
    centroids_ = Constant();
    centroid_counts_ = at::Tensor();
  }
}

NamedTensors DroLtLoss::class_vectors() const {
  NamedTensors out{{"epsilons", epsilon_.detach()}};
  if (ce_weights_.defined()) out.emplace_back("ce_weights", ce_weights_.f32());
  return out;
}

}  // namespace tailor::plugins
