// host/data/sampler.hpp - per-epoch sample orders for the training split.
#pragma once

#include "config/options.hpp"

#include <cstdint>
#include <vector>

namespace tailor::host {

/// Draws the order of training samples of one epoch. An order is a pure function of
/// (options, labels, seed, epoch), so a sampler needs no state of its own in a checkpoint,
/// and every rank of a data-parallel run computes the same global order and takes its share
/// of every batch (BatchLoader, shard_batch()).
class Sampler {
 public:
  /// `labels`: train labels; `num_classes`: C; `stage_epochs`: length of the stage (for the
  /// progressive schedule).
  Sampler(const SamplerOptions& options, std::vector<int64_t> labels, int64_t num_classes,
          int64_t stage_epochs);

  /// Positions in the train split for `epoch` (0-based within the stage): N of them, with
  /// repetition for the class-driven samplers.
  std::vector<int64_t> order(uint64_t seed, int64_t epoch) const;

  /// Probability of drawing class c in `epoch` (for tests and logs).
  std::vector<double> class_probabilities(int64_t epoch) const;

 private:
  SamplerOptions options_;
  std::vector<int64_t> labels_;
  int64_t num_classes_;
  int64_t stage_epochs_;
  std::vector<std::vector<int64_t>> by_class_;
};

}  // namespace tailor::host
