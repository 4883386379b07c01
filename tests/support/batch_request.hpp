// tests/support/batch_request.hpp - a dataset plugin's BatchRequest (and batch) for a list of
// indices.
#pragma once

#include <tailor/components.hpp>

#include <cstdint>
#include <vector>

namespace tailor::test {

/// The request for `indices` of `split`; `indices` must outlive it (it is not copied).
inline BatchRequest batch_request(Split split, const std::vector<int64_t>& indices, bool augment,
                                  uint64_t seed) {
  BatchRequest r;
  r.split = split;
  r.augment = augment;
  r.indices = indices.data();
  r.count = indices.size();
  r.seed = seed;
  return r;
}

/// One batch of `indices` of `split` from `dataset`.
inline Batch fetch(const Dataset& dataset, Split split, const std::vector<int64_t>& indices,
                   bool augment, uint64_t seed) {
  return dataset.batch(batch_request(split, indices, augment, seed));
}

}  // namespace tailor::test
