// host/dist/collective.hpp - the process groups of a data-parallel run (PyTorch's c10d) and
// the few collectives the engine uses around them.
#pragma once

#include "dist/env.hpp"

#include <ATen/Tensor.h>
#include <c10/core/Device.h>
#include <c10/util/intrusive_ptr.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace c10d {
class ProcessGroup;
class Store;
}  // namespace c10d

namespace tailor::host {

/// A rank's connection to the others: a c10d::TCPStore for rendezvous (hosted by rank 0 at
/// MASTER_ADDR:MASTER_PORT), a ProcessGroupGloo for control messages and CPU tensors, and for
/// device tensors the group of the training device (NCCL on CUDA in a CUDA build, else the
/// same Gloo group). Every collective waits at most `timeout`; a failure is reported by
/// rank, never as a hang (see failure()).
class Collective {
 public:
  /// Connects rank env.rank of env.world_size. Throws std::runtime_error naming the address,
  /// the port and the fix when the rendezvous fails (port in use, address unreachable,
  /// ranks missing after `timeout`).
  static std::unique_ptr<Collective> connect(const DistEnv& env, std::chrono::milliseconds timeout,
                                             c10::Device device);
  ~Collective();
  Collective(const Collective&) = delete;
  Collective& operator=(const Collective&) = delete;

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  const DistEnv& env() const { return env_; }
  /// "gloo" or "nccl": the backend of the data group.
  const std::string& backend() const { return backend_; }
  /// The group gradients and device tensors travel on.
  const c10::intrusive_ptr<c10d::ProcessGroup>& data_group() const { return data_; }

  /// Sums each tensor over the ranks, in place (CPU tensors on the Gloo group, device tensors
  /// on the data group).
  void all_reduce_sum(std::vector<at::Tensor> tensors);
  /// The ranks' tensors concatenated along dim 0 in rank order; the first dimension may
  /// differ between ranks, the others must match.
  at::Tensor all_gather_cat(const at::Tensor& local);
  /// Rank 0's tensor on every rank (in place).
  void broadcast(at::Tensor& tensor);
  /// The largest of the ranks' values (stop requests).
  int64_t max(int64_t value);
  /// Rank 0's `value` of `key` on every rank (through the store).
  std::string from_rank0(const std::string& key, const std::string& value);
  /// Refuses to go on when this rank's `value` differs from rank 0's: every rank throws, the
  /// differing one naming `what`, itself, rank 0 and `difference(rank 0's value)` (e.g. the
  /// first differing key).
  void require_same(const std::string& what, const std::string& value,
                    const std::function<std::string(const std::string&)>& difference);

  /// After a collective failed with `error`: which ranks stopped answering (their heartbeats
  /// in the store no longer advance, or the store on rank 0 is gone), as a message that names
  /// them and says how to resume.
  std::string failure(const std::string& error) const;

 private:
  explicit Collective(DistEnv env);
  struct Heartbeat;

  DistEnv env_;
  std::chrono::milliseconds timeout_{};
  std::string backend_ = "gloo";
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroup> control_, data_;
  std::unique_ptr<Heartbeat> heartbeat_;
};

}  // namespace tailor::host
