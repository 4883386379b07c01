// batch_mixers/common/draws.hpp - the random draws the batch-mix plugins share: Beta(a, b)
// for lambda and a uniform permutation, from a tailor::SampleRng (header-only, std only).
//
// Every draw is our own arithmetic on SampleRng's bits (no std::*_distribution, whose
// algorithms the C++ standard leaves to the library), so a step's draws are the same with
// every standard library and on every data-parallel rank.
#pragma once

#include <tailor/random.hpp>

#include <cmath>
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

namespace tailor::batch_mixers {

/// A standard normal draw: Box-Muller's cosine branch on two uniforms (the sine branch is
/// not kept, so every call consumes exactly two).
inline double standard_normal(SampleRng& rng) {
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  const double u1 = 1.0 - rng.uniform();  // (0, 1]: log(u1) is finite
  const double u2 = rng.uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
}

/// log X for X ~ Gamma(shape, 1), shape > 0. Marsaglia and Tsang's squeeze-and-reject method
/// ("A simple method for generating gamma variables", ACM TOMS 2000) for shape >= 1; below 1
/// their boost X = Y U^(1/shape), Y ~ Gamma(shape + 1). Kept in logs so that a small shape
/// (mixup's 0.2) cannot underflow to 0.
inline double log_gamma_draw(SampleRng& rng, double shape) {
  if (shape < 1.0) {
    const double u = 1.0 - rng.uniform();  // (0, 1]
    return log_gamma_draw(rng, shape + 1.0) + std::log(u) / shape;
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    const double x = standard_normal(rng);
    const double t = 1.0 + c * x;
    if (t <= 0.0) continue;
    const double v = t * t * t;
    const double u = 1.0 - rng.uniform();  // (0, 1]
    const double x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2 || std::log(u) < 0.5 * x2 + d * (1.0 - v + std::log(v)))
      return std::log(d) + std::log(v);
  }
}

/// A Beta(a, b) draw, a, b > 0, as G_a / (G_a + G_b) with independent Gamma draws (G_a first).
inline double beta_draw(SampleRng& rng, double a, double b) {
  const double log_ga = log_gamma_draw(rng, a);
  const double log_gb = log_gamma_draw(rng, b);
  return 1.0 / (1.0 + std::exp(log_gb - log_ga));
}

/// A uniform permutation of 0 .. n-1: Fisher-Yates from the end, swap(p[i], p[below(i + 1)]).
inline std::vector<int64_t> permutation(SampleRng& rng, int64_t n) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), int64_t{0});
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(p[static_cast<size_t>(i)], p[static_cast<size_t>(rng.below(i + 1))]);
  return p;
}

}  // namespace tailor::batch_mixers
