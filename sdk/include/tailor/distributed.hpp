// tailor/distributed.hpp - collectives for plugin code in a data-parallel run.
//
// The host runs a data-parallel training as several processes (ranks), each on its share of
// the global batch. Plugin code that needs the whole batch, such as a synchronised
// BatchNorm, sums tensors over the ranks through the host:
//
//   if (tailor::distributed::world_size() > 1) {
//     at::Tensor total = tailor::distributed::all_reduce_sum(local_sum);  // differentiable
//   }
//
// Every rank must make the same calls in the same order (they are collectives); a rank that
// stops answering turns the call into an error the host reports by rank. In a single process
// (or a host older than SDK 1.3) world_size() is 1 and all_reduce_sum() returns its input.
#pragma once

#include <tailor/abi.h>
#include <tailor/error.hpp>
#include <tailor/log.hpp>
#include <tailor/payload.hpp>

#include <torch/autograd.h>

namespace tailor::distributed {

namespace detail {

inline const TailorHostApi* api() {
  const TailorHostApi* a = ::tailor::detail::globals().api.load();
  return a != nullptr && TAILOR_HAS_MEMBER(a, TailorHostApi, all_reduce_sum) ? a : nullptr;
}

/// In-place sum over the ranks through the host; throws tailor::Error on failure.
inline void sum_in_place(at::Tensor& t) {
  const TailorHostApi* a = api();
  if (a == nullptr || a->world_size() <= 1) return;
  TailorError err{};
  err.struct_size = sizeof(TailorError);
  if (a->all_reduce_sum(payload::handle(t), &err) != TAILOR_OK) throw Error(err.message);
}

/// y = sum over ranks of x; dx = sum over ranks of dy (every rank's loss depends on every
/// rank's x through y).
class AllReduceSum : public torch::autograd::Function<AllReduceSum> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* /*ctx*/, const at::Tensor& x) {
    at::Tensor y = x.clone(at::MemoryFormat::Contiguous);
    sum_in_place(y);
    return y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* /*ctx*/,
                                                 torch::autograd::variable_list grads) {
    at::Tensor g = grads[0].clone(at::MemoryFormat::Contiguous);
    sum_in_place(g);
    return {g};
  }
};

}  // namespace detail

/// Ranks of the run; 1 in a single process. \since SDK 1.3
inline int world_size() {
  const TailorHostApi* a = detail::api();
  return a != nullptr ? a->world_size() : 1;
}

/// The sum of `x` over the ranks (a collective), differentiable: the gradient that reaches
/// `x` is the sum over the ranks of the gradients of the result. Returns `x` itself when
/// world_size() is 1. \since SDK 1.3
inline at::Tensor all_reduce_sum(const at::Tensor& x) {
  if (world_size() <= 1) return x;
  return detail::AllReduceSum::apply(x);
}

/// Sums `t` over the ranks in place (a collective), outside autograd: for statistics a plugin
/// computes inside its own autograd function (e.g. a fused BatchNorm's sums in forward and in
/// backward). A no-op when world_size() is 1. `t` must be contiguous. \since SDK 1.3
inline void all_reduce_sum_(at::Tensor& t) {
  TAILOR_CHECK(t.is_contiguous(), "distributed::all_reduce_sum_: needs a contiguous tensor");
  detail::sum_in_place(t);
}

}  // namespace tailor::distributed
