// host/data/batch_loader.hpp - batches assembled on worker threads, delivered in order.
#pragma once

#include "config/options.hpp"
#include "plugins/instances.hpp"

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace tailor::host {

/// splitmix64: a tiny, well-mixed hash used to derive independent seeds.
uint64_t mix_seed(uint64_t a, uint64_t b);

/// A rank's share of a batch of `n` samples split among `world` ranks: contiguous slices in
/// rank order whose sizes differ by at most one (the first n % world ranks take one more).
struct BatchShard {
  int64_t offset = 0;  ///< first position within the batch
  int64_t count = 0;
};
BatchShard shard_batch(int64_t n, int64_t rank, int64_t world);

/// Serves the samples of `order` (positions within one split) in batches. Workers call the
/// dataset plugin concurrently; at most `prefetch` batches are prepared ahead of the consumer.
/// Batch k always gets seed mix_seed(seed, k), and each sample its position within the global
/// batch, so outputs depend neither on the number of workers, nor on scheduling, nor on how
/// many ranks share the batch.
class BatchLoader {
 public:
  struct Options {
    int64_t batch_size = 128;
    bool augment = false;
    bool drop_last = false;
    int64_t workers = 2;
    int64_t prefetch = 4;
    uint64_t seed = 0;
    bool pin_memory = false;  ///< page-locked host memory for non-blocking CUDA copies
    int64_t start_batch = 0;  ///< first batch to serve (resuming mid-epoch)
    int64_t rank = 0;         ///< this rank's share of every batch ...
    int64_t world = 1;        ///< ... of `world` ranks (data parallelism)
  };

  BatchLoader(const DatasetPlugin& dataset, Split split, std::vector<int64_t> order, Options options);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  int64_t num_batches() const { return num_batches_; }
  /// Samples of (global) batch k over all ranks.
  int64_t global_batch_size(int64_t k) const;
  /// Positions within the split of this rank's share of batch k: a contiguous slice of the
  /// global batch, the ranks' slices in rank order, sizes differing by at most one. (A last
  /// batch with fewer samples than ranks is not served: num_batches() leaves it out.)
  std::vector<int64_t> batch_indices(int64_t k) const;
  /// Where this rank's share starts within the global batch k (BatchRequest::position).
  int64_t batch_position(int64_t k) const;
  /// The seed batch k is requested with.
  uint64_t batch_seed(int64_t k) const;
  /// The next batch in order, or nullopt after the last. Rethrows a worker's error.
  std::optional<Batch> next();

 private:
  void work();

  const DatasetPlugin& dataset_;
  Split split_;
  std::vector<int64_t> order_;
  Options options_;
  int64_t num_batches_ = 0;

  std::mutex mutex_;
  std::condition_variable ready_;  // a batch finished (consumer waits)
  std::condition_variable room_;   // the consumer advanced (workers wait)
  int64_t next_job_ = 0;           // next batch a worker will build
  int64_t next_out_ = 0;           // next batch the consumer takes
  bool stop_ = false;
  std::exception_ptr error_;
  std::map<int64_t, Batch> done_;
  std::vector<std::thread> threads_;
};

/// Loader options from the [train] section: `batch_size` samples a batch, the section's
/// workers and prefetch, page-locked memory when training on a GPU; no augmentation.
BatchLoader::Options loader_options(const TrainOptions& train, c10::Device device, int64_t batch_size);

}  // namespace tailor::host
