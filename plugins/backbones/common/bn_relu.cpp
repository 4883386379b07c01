// backbones/common/bn_relu: fused training-mode BatchNorm (+ residual) + ReLU on CPU.
#include "common/bn_relu.hpp"

#include "common/batch_norm.hpp"

#include <ATen/Parallel.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/relu.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/custom_function.h>
#include <tailor/distributed.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

namespace tailor::plugins {

namespace {

// Rows (pixels) per reduction chunk. The chunks, not the threads, fix the summation order:
// each chunk sums in float, the chunk sums are added in double in chunk order.
constexpr int64_t kChunkRows = 256;

int64_t chunks_of(int64_t rows) {
  return (rows + kChunkRows - 1) / kChunkRows;
}

// The kernels see an NHWC tensor as a [rows, C] matrix and work on `n` rows of it. kC > 0 fixes
// C at compile time so the channel loops unroll and vectorise for the common widths; kC == 0
// reads it from `c`. Pointers are __restrict parameters: nothing here aliases.

// s += x - pivot, q += (x - pivot)^2. The pivot (a row of the chunk) keeps E[x^2] - E[x]^2 from
// cancelling when the mean is large against the spread.
template <int kC>
void chunk_stats(const float* __restrict x, int64_t n, int64_t c, const float* __restrict pivot,
                 float* __restrict s, float* __restrict q) {
  const int64_t C = kC ? kC : c;
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < C; ++j) {
      const float v = x[r * C + j] - pivot[j];
      s[j] += v;
      q[j] += v * v;
    }
}

// y = relu(x * scale + shift [+ residual]).
template <int kC, bool kResidual>
void normalize_relu(const float* __restrict x, const float* __restrict residual,
                    const float* __restrict scale, const float* __restrict shift, int64_t n,
                    int64_t c, float* __restrict y) {
  const int64_t C = kC ? kC : c;
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < C; ++j) {
      float v = x[r * C + j] * scale[j] + shift[j];
      if (kResidual) v += residual[r * C + j];
      y[r * C + j] = v < 0.0f ? 0.0f : v;  // NaN stays NaN, as in ATen's relu
    }
}

// g = dy where y > 0 (ReLU's gradient); s += g, sx += g * (x - mean). With kStore, g is also
// written to `g_out`: it is the residual's gradient, and the input-gradient pass reads it
// instead of dy and y.
template <int kC, bool kStore>
void chunk_grad_stats(const float* __restrict dy, const float* __restrict y,
                      const float* __restrict x, int64_t n, int64_t c, const float* __restrict mean,
                      float* __restrict s, float* __restrict sx, float* __restrict g_out) {
  const int64_t C = kC ? kC : c;
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < C; ++j) {
      const float d = dy[r * C + j];
      const float g = y[r * C + j] > 0.0f ? d : 0.0f;
      if (kStore) g_out[r * C + j] = g;
      s[j] += g;
      sx[j] += g * (x[r * C + j] - mean[j]);
    }
}

// dx = g * k1 + x * k2 + k3: BatchNorm's input gradient with batch statistics. g is read from
// `g` when kStored, else recomputed from dy and y.
template <int kC, bool kStored>
void input_grad(const float* __restrict dy, const float* __restrict y, const float* __restrict g,
                const float* __restrict x, const float* __restrict k1, const float* __restrict k2,
                const float* __restrict k3, int64_t n, int64_t c, float* __restrict dx) {
  const int64_t C = kC ? kC : c;
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < C; ++j) {
      float gj;
      if (kStored) {
        gj = g[r * C + j];
      } else {
        const float d = dy[r * C + j];
        gj = y[r * C + j] > 0.0f ? d : 0.0f;
      }
      dx[r * C + j] = gj * k1[j] + x[r * C + j] * k2[j] + k3[j];
    }
}

// The width-specialised kernels, picked once per call.
template <int kC>
struct Kernels {
  static void stats(const float* x, int64_t n, int64_t c, const float* pivot, float* s, float* q) {
    chunk_stats<kC>(x, n, c, pivot, s, q);
  }
  static void normalize(const float* x, const float* residual, const float* scale,
                        const float* shift, int64_t n, int64_t c, float* y) {
    if (residual != nullptr)
      normalize_relu<kC, true>(x, residual, scale, shift, n, c, y);
    else
      normalize_relu<kC, false>(x, nullptr, scale, shift, n, c, y);
  }
  static void grad_stats(const float* dy, const float* y, const float* x, int64_t n, int64_t c,
                         const float* mean, float* s, float* sx, float* g_out) {
    if (g_out != nullptr)
      chunk_grad_stats<kC, true>(dy, y, x, n, c, mean, s, sx, g_out);
    else
      chunk_grad_stats<kC, false>(dy, y, x, n, c, mean, s, sx, nullptr);
  }
  static void dx(const float* dy, const float* y, const float* g, const float* x, const float* k1,
                 const float* k2, const float* k3, int64_t n, int64_t c, float* out) {
    if (g != nullptr)
      input_grad<kC, true>(nullptr, nullptr, g, x, k1, k2, k3, n, c, out);
    else
      input_grad<kC, false>(dy, y, nullptr, x, k1, k2, k3, n, c, out);
  }
};

struct KernelTable {
  decltype(&Kernels<0>::stats) stats;
  decltype(&Kernels<0>::normalize) normalize;
  decltype(&Kernels<0>::grad_stats) grad_stats;
  decltype(&Kernels<0>::dx) dx;
};

template <int kC>
constexpr KernelTable table_for() {
  return {&Kernels<kC>::stats, &Kernels<kC>::normalize, &Kernels<kC>::grad_stats, &Kernels<kC>::dx};
}

KernelTable kernels_for(int64_t c) {
  switch (c) {
    case 16:
      return table_for<16>();
    case 32:
      return table_for<32>();
    case 64:
      return table_for<64>();
    case 128:
      return table_for<128>();
    default:
      return table_for<0>();
  }
}

// Runs f(chunk, first row, rows in chunk) over every chunk, in parallel.
template <class F>
void for_each_chunk(int64_t rows, const F& f) {
  at::parallel_for(0, chunks_of(rows), 1, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      const int64_t first = k * kChunkRows;
      f(k, first, std::min(kChunkRows, rows - first));
    }
  });
}

// Sums `sums` (vectors of one length) and `count` over the ranks in one all-reduce, in place;
// returns the summed count.
double sum_over_ranks(std::initializer_list<std::vector<double>*> sums, double count) {
  std::vector<double> packed;
  for (const auto* v : sums) packed.insert(packed.end(), v->begin(), v->end());
  packed.push_back(count);
  at::Tensor t = at::from_blob(packed.data(), {static_cast<int64_t>(packed.size())},
                               at::TensorOptions().dtype(at::kDouble))
                     .clone();
  distributed::all_reduce_sum_(t);
  const double* r = t.data_ptr<double>();
  for (auto* v : sums) {
    std::copy(r, r + v->size(), v->begin());
    r += v->size();
  }
  return *r;
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct BnReluFunction : torch::autograd::Function<BnReluFunction> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                               const at::Tensor& bias, const at::Tensor& residual,
                               at::Tensor running_mean, at::Tensor running_var, double momentum,
                               double eps, bool sync) {
    const int64_t c = x.size(1);
    const int64_t rows = x.numel() / c;
    TORCH_CHECK(rows > 1, "bn_relu_train: BatchNorm needs more than one value per channel, got ",
                x.sizes());
    const KernelTable kernels = kernels_for(c);
    const float* in = x.data_ptr<float>();

    // Per chunk: the pivot row, then float sums of (x - pivot) and (x - pivot)^2.
    std::vector<float> partial(chunks_of(rows) * 3 * c, 0.0f);
    for_each_chunk(rows, [&](int64_t k, int64_t first, int64_t n) {
      float* pivot = partial.data() + k * 3 * c;
      std::copy(in + first * c, in + (first + 1) * c, pivot);
      kernels.stats(in + first * c, n, c, pivot, pivot + c, pivot + 2 * c);
    });
    std::vector<double> sum(c, 0.0), sum_sq(c, 0.0);
    for (int64_t k = 0; k < chunks_of(rows); ++k) {
      const float* p = partial.data() + k * 3 * c;
      const double n = std::min(kChunkRows, rows - k * kChunkRows);
      for (int64_t j = 0; j < c; ++j) {
        const double pivot = p[j], s = p[c + j], q = p[2 * c + j];
        sum[j] += s + n * pivot;
        sum_sq[j] += q + 2.0 * pivot * s + n * pivot * pivot;
      }
    }
    // SyncBatchNorm: the statistics of the whole data-parallel batch.
    double total = static_cast<double>(rows);
    if (sync) total = sum_over_ranks({&sum, &sum_sq}, total);

    const at::Tensor w = weight.contiguous(), b = bias.contiguous();
    at::Tensor mean = at::empty({c}, x.options()), invstd = at::empty({c}, x.options());
    std::vector<float> scale(c), shift(c);
    float* rm = running_mean.data_ptr<float>();
    float* rv = running_var.data_ptr<float>();
    for (int64_t j = 0; j < c; ++j) {
      const double mu = sum[j] / total;
      const double var = std::max(sum_sq[j] / total - mu * mu, 0.0);
      const double is = 1.0 / std::sqrt(var + eps);
      const double gamma = w.data_ptr<float>()[j];
      mean.data_ptr<float>()[j] = static_cast<float>(mu);
      invstd.data_ptr<float>()[j] = static_cast<float>(is);
      scale[j] = static_cast<float>(gamma * is);
      shift[j] = static_cast<float>(b.data_ptr<float>()[j] - mu * gamma * is);
      // BatchNorm's running variance is the unbiased one.
      rm[j] = static_cast<float>((1.0 - momentum) * rm[j] + momentum * mu);
      rv[j] = static_cast<float>((1.0 - momentum) * rv[j] + momentum * var * total / (total - 1.0));
    }

    const bool has_residual = residual.numel() > 0;
    at::Tensor res;
    if (has_residual) res = residual.contiguous(at::MemoryFormat::ChannelsLast);
    const float* res_in = has_residual ? res.data_ptr<float>() : nullptr;
    at::Tensor y = at::empty_like(x, at::MemoryFormat::ChannelsLast);
    float* out = y.data_ptr<float>();
    for_each_chunk(rows, [&](int64_t, int64_t first, int64_t n) {
      kernels.normalize(in + first * c, res_in ? res_in + first * c : nullptr, scale.data(),
                        shift.data(), n, c, out + first * c);
    });
    ctx->save_for_backward({x, y, w, mean, invstd});
    ctx->saved_data["residual"] = has_residual;
    ctx->saved_data["sync"] = sync;
    ctx->saved_data["total"] = total;
    return {y};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    TORCH_CHECK(!at::GradMode::is_enabled(),
                "bn_relu_train: second-order gradients are not supported through the fused "
                "BatchNorm+ReLU; use forward_functional (it never fuses)");
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &y = saved[1], &w = saved[2], &mean = saved[3],
                     &invstd = saved[4];
    const bool has_residual = ctx->saved_data["residual"].toBool();
    const at::Tensor dy = grads[0].contiguous(at::MemoryFormat::ChannelsLast);
    const int64_t c = x.size(1);
    const int64_t rows = x.numel() / c;
    const KernelTable kernels = kernels_for(c);
    const float *in = x.data_ptr<float>(), *out = y.data_ptr<float>(), *d = dy.data_ptr<float>();
    const float* mu = mean.data_ptr<float>();

    at::Tensor g;  // the residual's gradient: dy masked by ReLU
    if (has_residual) g = at::empty_like(x, at::MemoryFormat::ChannelsLast);
    float* g_out = has_residual ? g.data_ptr<float>() : nullptr;
    std::vector<float> partial(chunks_of(rows) * 2 * c, 0.0f);
    for_each_chunk(rows, [&](int64_t k, int64_t first, int64_t n) {
      float* s = partial.data() + k * 2 * c;
      kernels.grad_stats(d + first * c, out + first * c, in + first * c, n, c, mu, s, s + c,
                         g_out ? g_out + first * c : nullptr);
    });
    std::vector<double> sum_g(c, 0.0), sum_gx(c, 0.0);
    for (int64_t k = 0; k < chunks_of(rows); ++k)
      for (int64_t j = 0; j < c; ++j) {
        sum_g[j] += partial[k * 2 * c + j];
        sum_gx[j] += partial[k * 2 * c + c + j];
      }
    // dweight and dbias stay this rank's (the gradient reducer averages them); dx needs the
    // sums over every rank's rows, which all depend on this rank's x through the statistics.
    std::vector<double> all_g = sum_g, all_gx = sum_gx;
    const double total = ctx->saved_data["total"].toDouble();
    if (ctx->saved_data["sync"].toBool()) sum_over_ranks({&all_g, &all_gx}, 0.0);

    at::Tensor dweight = at::empty({c}, w.options()), dbias = at::empty({c}, w.options());
    std::vector<float> k1(c), k2(c), k3(c);
    for (int64_t j = 0; j < c; ++j) {
      const double is = invstd.data_ptr<float>()[j];
      const double a = w.data_ptr<float>()[j] * is;
      const double sum_g_xhat = sum_gx[j] * is;
      dweight.data_ptr<float>()[j] = static_cast<float>(sum_g_xhat);
      dbias.data_ptr<float>()[j] = static_cast<float>(sum_g[j]);
      // dx = gamma * invstd * (g - mean(g) - xhat * mean(g * xhat)), xhat = (x - mu) * invstd
      const double b = -a * is * (all_gx[j] * is) / total;  // the coefficient of x - mu
      k1[j] = static_cast<float>(a);
      k2[j] = static_cast<float>(b);
      k3[j] = static_cast<float>(-a * all_g[j] / total - b * mu[j]);
    }
    at::Tensor dx = at::empty_like(x, at::MemoryFormat::ChannelsLast);
    float* dx_out = dx.data_ptr<float>();
    for_each_chunk(rows, [&](int64_t, int64_t first, int64_t n) {
      kernels.dx(d + first * c, out + first * c, g_out ? g_out + first * c : nullptr,
                 in + first * c, k1.data(), k2.data(), k3.data(), n, c, dx_out + first * c);
    });
    return {dx,           dweight,      dbias,        g,           at::Tensor(),
            at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

// No residual, or a float32 one on x's device: what the fused kernel reads.
bool residual_fits(const at::Tensor& x, const at::Tensor& residual) {
  return !residual.defined() ||
         (residual.scalar_type() == at::kFloat && residual.device() == x.device());
}

}  // namespace

bool bn_relu_fusable(const at::Tensor& x, const torch::nn::BatchNorm2d& bn) {
  return bn->is_training() && bn->options.track_running_stats() && bn->options.affine() &&
         x.dim() == 4 && x.device().is_cpu() && x.scalar_type() == at::kFloat &&
         x.is_contiguous(at::MemoryFormat::ChannelsLast) &&
         bn->weight.scalar_type() == at::kFloat && bn->running_mean.scalar_type() == at::kFloat;
}

at::Tensor bn_relu_train(const at::Tensor& x, torch::nn::BatchNorm2d& bn,
                         const at::Tensor& residual, bool sync) {
  TORCH_CHECK(bn_relu_fusable(x, bn),
              "bn_relu_train: needs a training-mode BatchNorm2d and a "
              "float32 channels-last CPU input");
  TORCH_CHECK(!residual.defined() || residual.sizes() == x.sizes(),
              "bn_relu_train: residual of shape ", residual.sizes(), " for input ", x.sizes());
  TORCH_CHECK(residual_fits(x, residual),
              "bn_relu_train: the residual must be float32 on the input's device");
  const auto& opt = bn->options;
  double momentum = opt.momentum().value_or(0.0);
  if (bn->num_batches_tracked.defined()) {
    at::NoGradGuard no_grad;
    bn->num_batches_tracked += 1;
    if (!opt.momentum()) momentum = 1.0 / bn->num_batches_tracked.item<double>();
  }
  // LibTorch's custom Function cannot take an undefined input: "no residual" is an empty one.
  const at::Tensor res = residual.defined() ? residual : at::empty({0}, x.options());
  return BnReluFunction::apply(x, bn->weight, bn->bias, res, bn->running_mean, bn->running_var,
                               momentum, opt.eps(), sync)[0];
}

at::Tensor bn_relu(const at::Tensor& x, torch::nn::BatchNorm2d& bn, bool fuse,
                   const at::Tensor& residual, bool sync) {
  if (fuse && residual_fits(x, residual) && bn_relu_fusable(x, bn))
    return bn_relu_train(x, bn, residual, sync);
  const at::Tensor y = bn_forward(x, bn, sync);
  return at::relu(residual.defined() ? y + residual : y);
}

}  // namespace tailor::plugins
