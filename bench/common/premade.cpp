// bench_premade: a dataset whose batches are slices of one tensor made at construction, so a
// training run through it costs no data loading or augmentation at all. The benchmarks run
// the same experiment through it and through the real dataset plugin; the difference is the
// data pipeline's share of the step time.
#include <ATen/ops/arange.h>
#include <ATen/ops/randint.h>
#include <ATen/ops/randn.h>

#include <tailor/plugin.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace {

class Premade final : public tailor::Dataset {
 public:
  struct Options {
    std::vector<int64_t> shape = {3, 32, 32};
    int64_t num_classes = 10;
    int64_t train_size = 12406;
    int64_t test_size = 10000;
    int64_t pool = 1024;

    template <class V>
    void visit(V& v) {
      v("shape", shape, "Shape of one sample [C, H, W].");
      v("num_classes", num_classes, "Number of classes.", tailor::at_least(1.0));
      v("train_size", train_size, "Samples in the train split.", tailor::at_least(1.0));
      v("test_size", test_size, "Samples in the test split.", tailor::at_least(0.0));
      v("pool", pool, "Pre-made samples; a batch is a view of the first n of them.",
        tailor::at_least(1.0));
    }
  };

  explicit Premade(const Options& o) : options_(o) {
    for (int64_t c = 0; c < o.num_classes; ++c) names_.push_back(std::to_string(c));
    std::vector<int64_t> sizes = {o.pool};
    sizes.insert(sizes.end(), o.shape.begin(), o.shape.end());
    inputs_ = at::randn(sizes);
    targets_ = at::randint(o.num_classes, {o.pool}, at::kLong);
  }

  const std::vector<std::string>& class_names() const override { return names_; }
  std::vector<int64_t> sample_shape() const override { return options_.shape; }
  int64_t size(tailor::Split split) const override {
    return split == tailor::Split::kTrain  ? options_.train_size
           : split == tailor::Split::kTest ? options_.test_size
                                           : 0;
  }
  at::Tensor labels(tailor::Split split) const override {
    return at::arange(size(split), at::kLong).remainder(options_.num_classes);
  }
  tailor::Batch batch(const tailor::BatchRequest& request) const override {
    const auto n = static_cast<int64_t>(request.count);
    TAILOR_CHECK(n <= options_.pool, "bench_premade: batch of ", n, " exceeds pool = ",
                 options_.pool);
    return {inputs_.narrow(0, 0, n), targets_.narrow(0, 0, n)};
  }

 private:
  Options options_;
  std::vector<std::string> names_;
  at::Tensor inputs_, targets_;
};

}  // namespace

TAILOR_DATASET_PLUGIN(Premade, "bench_premade", "1.0.0",
                      "Benchmark aid: batches are views of one pre-made random tensor.")
