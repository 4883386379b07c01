// tailor/random.hpp - reproducible random streams for plugin code (header-only, std only).
#pragma once

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace tailor {

/// The splitmix64 finaliser: a 64-bit mixer with full avalanche, used to derive independent
/// seeds and streams from (seed, index) pairs.
inline uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// The random stream of one sample of a batch: splitmix64 seeded from the request's seed and
/// the sample's position, so a dataset's augmentation does not depend on which worker thread
/// builds the batch or on how batches are split among threads.
class SampleRng {
 public:
  SampleRng(uint64_t seed, uint64_t position) : state_(mix64(seed ^ mix64(position))) {}
  /// Next 64 random bits.
  uint64_t next() { return mix64(state_++); }
  /// Uniform integer in [0, n) (n > 0; the modulo bias is below 2^-40 for n < 2^24).
  int64_t below(int64_t n) { return static_cast<int64_t>(next() % static_cast<uint64_t>(n)); }
  /// Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

/// NumPy's legacy `np.random.RandomState` (MT19937), reproduced bit for bit for what the
/// CIFAR-LT subsets of LDAM-DRW, BBN, RIDE, SADE and MiSLAS draw: `np.random.seed(s)` with an
/// integer seed, the bounded draw `random_interval` and `shuffle` of a 1-D array.
///
/// Seeding: NumPy's `_legacy_seeding` hands an integer seed in [0, 2^32 - 1] to
/// `mt19937_seed`, Matsumoto and Nishimura's `init_genrand`; std::mt19937(s) is specified by
/// the C++ standard with that same recurrence, so the 32-bit output streams are identical.
/// Not thread-safe; one instance per selection.
class NumpyRandomState {
 public:
  /// np.random.seed(seed).
  explicit NumpyRandomState(uint32_t seed) : engine_(seed) {}

  /// One 32-bit MT19937 word (`mt19937_next32`).
  uint32_t next_uint32() { return static_cast<uint32_t>(engine_()); }

  /// `mt19937_next64`: two words, the first one is the high half.
  uint64_t next_uint64() {
    const uint64_t high = next_uint32();
    return (high << 32) | next_uint32();
  }

  /// NumPy's `random_interval(max)`: uniform on [0, max]. Draws words masked with the
  /// smallest all-ones mask >= max and rejects values > max; 32-bit words while max fits in
  /// 32 bits, 64-bit words above.
  uint64_t random_interval(uint64_t max) {
    if (max == 0) return 0;
    uint64_t mask = max;
    for (int shift : {1, 2, 4, 8, 16, 32}) mask |= mask >> shift;
    uint64_t value = 0;
    if (max <= 0xFFFFFFFFull) {
      do {
        value = next_uint32() & mask;
      } while (value > max);
    } else {
      do {
        value = next_uint64() & mask;
      } while (value > max);
    }
    return value;
  }

  /// `RandomState.shuffle` of a 1-D array: Fisher-Yates from the end,
  /// for i = n-1 .. 1: swap(a[i], a[random_interval(i)]).
  template <typename T>
  void shuffle(std::vector<T>& values) {
    for (size_t i = values.size() > 1 ? values.size() - 1 : 0; i >= 1; --i)
      std::swap(values[i], values[static_cast<size_t>(random_interval(i))]);
  }

 private:
  std::mt19937 engine_;
};

}  // namespace tailor
