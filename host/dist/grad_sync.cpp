// host/dist/grad_sync.cpp - the Reducer, set up and driven as DistributedDataParallel does.
#include "dist/grad_sync.hpp"

#include <torch/csrc/distributed/c10d/comm.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>

#include <algorithm>

namespace tailor::host {
namespace {

constexpr size_t kMiB = 1024 * 1024;
constexpr size_t kBroadcastBucket = 250 * kMiB;  // DDP's broadcast_bucket_size

}  // namespace

GradSync::GradSync(Collective& collective, const NamedTensors& params, const NamedTensors& buffers,
                   const GradSyncOptions& options)
    : collective_(collective), options_(options) {
  const auto& group = collective_.data_group();
  std::vector<at::Tensor> tensors;
  std::unordered_map<size_t, std::string> names;
  for (const auto& [name, p] : params) {
    names[tensors.size()] = name;
    tensors.push_back(p);
  }
  for (const auto& [name, b] : buffers) buffers_.push_back(b);
  c10d::verify_params_across_processes(group, tensors, c10::nullopt);
  // Every rank starts from rank 0's parameters and buffers.
  std::vector<at::Tensor> state;
  for (const auto& t : tensors) state.push_back(t.detach());
  for (const auto& b : buffers_) state.push_back(b.detach());
  if (!state.empty()) c10d::broadcast_coalesced(group, state, kBroadcastBucket, 0);

  const size_t cap = static_cast<size_t>(options_.bucket_cap_mb) * kMiB;
  // As DDP: one bucket for everything unless unused parameters must be found, then a small
  // first bucket (it starts communicating early) and cap-sized ones.
  const std::vector<size_t> limits = options_.find_unused_parameters
                                         ? std::vector<size_t>{kMiB, cap}
                                         : std::vector<size_t>{std::numeric_limits<size_t>::max()};
  const std::vector<bool> sparse(tensors.size(), false);
  auto [buckets, per_bucket_limits] =
      c10d::compute_bucket_assignment_by_size(tensors, limits, sparse);
  // Gradients become ready roughly in reverse order of the parameters.
  std::reverse(buckets.begin(), buckets.end());
  std::reverse(per_bucket_limits.begin(), per_bucket_limits.end());
  reducer_ = std::make_shared<c10d::Reducer>(
      tensors, std::move(buckets), std::move(per_bucket_limits), group, sparse,
      static_cast<int64_t>(cap), options_.find_unused_parameters,
      /*gradient_as_bucket_view=*/false, std::move(names),
      /*first_bucket_bytes_cap=*/static_cast<int64_t>(kMiB));
}

GradSync::~GradSync() = default;

void GradSync::broadcast_buffers() {
  if (!options_.broadcast_buffers || buffers_.empty()) return;
  std::vector<at::Tensor> detached;
  for (const auto& b : buffers_) detached.push_back(b.detach());
  c10d::broadcast_coalesced(collective_.data_group(), detached, kBroadcastBucket, 0);
}

void GradSync::prepare_forward() {
  reducer_->prepare_for_forward();
  reducer_->rebuild_buckets();
}

void GradSync::prepare_backward(const std::vector<at::Tensor>& outputs) {
  reducer_->prepare_for_backward(options_.find_unused_parameters ? outputs
                                                                 : std::vector<at::Tensor>{});
}

}  // namespace tailor::host
