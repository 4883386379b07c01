// samplers/common/sampling.hpp - the random draws and class bookkeeping the samplers share.
//
// Every draw is made with our own integer and Fisher-Yates code on std::mt19937_64 (whose
// output the C++ standard fixes), so a stream is the same with every standard library.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace tailor::samplers {

/// The generator of one epoch, seeded from the host's epoch seed and the epoch within the
/// stage.
std::mt19937_64 epoch_generator(uint64_t seed, int64_t epoch);

/// Uniform integer in [0, n), n >= 1, without modulo bias.
int64_t uniform(std::mt19937_64& rng, int64_t n);

/// Fisher-Yates shuffle with uniform() draws.
void shuffle(std::vector<int64_t>& v, std::mt19937_64& rng);

/// Index drawn from a discrete distribution given its cumulative sums.
int64_t draw(const std::vector<double>& cumulative, std::mt19937_64& rng);

/// Train positions of every class, in split order: [num_classes][n_c].
std::vector<std::vector<int64_t>> positions_by_class(const std::vector<int64_t>& labels,
                                                     int64_t num_classes);

/// Throws tailor::Error when a class has no train sample: sampler `name` cannot serve it.
void require_every_class(const std::vector<std::vector<int64_t>>& by_class,
                         const std::string& name);

/// `n` positions, each a class drawn from the probabilities `p` and then a uniform member of
/// that class. Classes with p = 0 are never drawn.
std::vector<int64_t> class_then_member(const std::vector<std::vector<int64_t>>& by_class,
                                       const std::vector<double>& p, int64_t n,
                                       std::mt19937_64& rng);

}  // namespace tailor::samplers
