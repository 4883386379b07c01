// host/data/batch_loader.cpp - ordered, bounded, multi-threaded batch production.
#include "data/batch_loader.hpp"

#include <algorithm>

namespace tailor::host {

uint64_t mix_seed(uint64_t a, uint64_t b) {
  uint64_t z = a + 0x9E3779B97F4A7C15ULL * (b + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

BatchLoader::Options loader_options(const TrainOptions& train, c10::Device device,
                                    int64_t batch_size) {
  BatchLoader::Options o;
  o.batch_size = batch_size;
  o.workers = train.workers;
  o.prefetch = train.prefetch;
  o.pin_memory = device.is_cuda();
  return o;
}

BatchLoader::BatchLoader(const DatasetPlugin& dataset, Split split, std::vector<int64_t> order,
                         Options options)
    : dataset_(dataset), split_(split), order_(std::move(order)), options_(options) {
  const auto n = static_cast<int64_t>(order_.size());
  num_batches_ = options_.drop_last ? n / options_.batch_size
                                    : (n + options_.batch_size - 1) / options_.batch_size;
  // Every rank must take part in every step: a last batch smaller than the number of ranks
  // would leave some without a sample.
  if (num_batches_ > 0 && global_batch_size(num_batches_ - 1) < options_.world) --num_batches_;
  next_job_ = next_out_ = std::min(options_.start_batch, num_batches_);
  const int64_t workers = std::max<int64_t>(1, std::min(options_.workers, num_batches_));
  for (int64_t i = 0; i < workers && num_batches_ > 0; ++i) threads_.emplace_back([this] { work(); });
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  room_.notify_all();
  for (auto& t : threads_) t.join();
}

int64_t BatchLoader::global_batch_size(int64_t k) const {
  const int64_t begin = k * options_.batch_size;
  return std::min<int64_t>(begin + options_.batch_size, order_.size()) - begin;
}

BatchShard shard_batch(int64_t n, int64_t rank, int64_t world) {
  const int64_t base = n / world, extra = n % world;
  return {rank * base + std::min(rank, extra), base + (rank < extra ? 1 : 0)};
}

int64_t BatchLoader::batch_position(int64_t k) const {
  return shard_batch(global_batch_size(k), options_.rank, options_.world).offset;
}

std::vector<int64_t> BatchLoader::batch_indices(int64_t k) const {
  const BatchShard s = shard_batch(global_batch_size(k), options_.rank, options_.world);
  const int64_t begin = k * options_.batch_size + s.offset;
  return {order_.begin() + begin, order_.begin() + begin + s.count};
}

uint64_t BatchLoader::batch_seed(int64_t k) const {
  return mix_seed(options_.seed, static_cast<uint64_t>(k));
}

void BatchLoader::work() {
  for (;;) {
    int64_t k;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      room_.wait(lock, [&] {
        return stop_ || next_job_ >= num_batches_ || next_job_ < next_out_ + options_.prefetch;
      });
      if (stop_ || next_job_ >= num_batches_) return;
      k = next_job_++;
    }
    Batch batch;
    std::exception_ptr error;
    try {
      const auto indices = batch_indices(k);
      BatchRequest request;
      request.split = split_;
      request.augment = options_.augment;
      request.indices = indices.data();
      request.count = indices.size();
      request.seed = batch_seed(k);
      request.position = static_cast<uint64_t>(batch_position(k));
      batch = dataset_.batch(request);
      if (options_.pin_memory) batch.inputs = batch.inputs.pin_memory();
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (error && !error_) error_ = error;
      done_.emplace(k, std::move(batch));
    }
    ready_.notify_all();
  }
}

std::optional<Batch> BatchLoader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (next_out_ >= num_batches_) return std::nullopt;
  ready_.wait(lock, [&] { return error_ || done_.count(next_out_) != 0; });
  if (error_) std::rethrow_exception(error_);
  auto node = done_.extract(next_out_);
  ++next_out_;
  lock.unlock();
  room_.notify_all();
  return std::move(node.mapped());
}

}  // namespace tailor::host
