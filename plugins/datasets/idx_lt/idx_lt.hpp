// idx_lt: MNIST-family IDX files (Fashion-MNIST by default) with an artificial long tail.
#pragma once

#include <ATen/Tensor.h>

#include <tailor/components.hpp>
#include <tailor/options.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace tailor::plugins {

class IdxLt final : public Dataset {
 public:
  struct Options {
    enum class Profile { kExp, kStep, kNone };
    static constexpr auto kProfiles = tailor::choice<Profile>(
        {{"exp", Profile::kExp}, {"step", Profile::kStep}, {"none", Profile::kNone}});
    enum class Selection { kShuffle, kFirst };
    static constexpr auto kSelections =
        tailor::choice<Selection>({{"shuffle", Selection::kShuffle}, {"first", Selection::kFirst}});
    enum class Augment { kCropFlip, kCrop, kNone };
    static constexpr auto kAugments = tailor::choice<Augment>(
        {{"crop_flip", Augment::kCropFlip}, {"crop", Augment::kCrop}, {"none", Augment::kNone}});

    std::string root = "/usr/share/datasets/fashion-mnist";
    std::string train_images = "train-images-idx3-ubyte.gz";
    std::string train_labels = "train-labels-idx1-ubyte.gz";
    std::string test_images = "t10k-images-idx3-ubyte.gz";
    std::string test_labels = "t10k-labels-idx1-ubyte.gz";
    std::vector<std::string> class_names = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                            "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                            "Bag",         "Ankle boot"};
    Profile profile = Profile::kExp;
    double imbalance_ratio = 100.0;
    int64_t val_per_class = 100;
    int64_t seed = 0;
    Selection selection = Selection::kShuffle;
    int64_t img_max = 0;
    Augment augment = Augment::kCropFlip;
    int64_t pad = 2;
    double mean = 0.2860;
    double std_dev = 0.3530;

    template <class V>
    void visit(V& v) {
      v("root", root, "Directory holding the four IDX files (relative names resolve here).");
      v("train_images", train_images, "Train images (IDX3 uint8); '.gz' suffix optional.");
      v("train_labels", train_labels, "Train labels (IDX1 uint8); '.gz' suffix optional.");
      v("test_images", test_images, "Test images (IDX3 uint8); '.gz' suffix optional.");
      v("test_labels", test_labels, "Test labels (IDX1 uint8); '.gz' suffix optional.");
      v("class_names", class_names,
        "Names in label order; their count is the number of classes. Empty: \"0\"..\"9\".");
      v("profile", profile, "Long-tail profile of the train split.", kProfiles);
      v("imbalance_ratio", imbalance_ratio, "rho = n_max / n_min of the profile.",
        tailor::at_least(1.0));
      v("val_per_class", val_per_class,
        "Balanced val split: the last N train-file images of each class, held out before the "
        "long-tail selection.",
        tailor::at_least(0.0));
      v("seed", seed, "Seed of the long-tail selection (np.random.seed semantics).",
        tailor::range(0.0, 4294967295.0));
      v("selection", selection,
        "shuffle: LDAM-DRW (shuffle each class, keep the first n_i); first: first n_i in file "
        "order.",
        kSelections);
      v("img_max", img_max, "Head-class size n_0; 0 = the largest class after the val hold-out.",
        tailor::at_least(0.0));
      v("augment", augment,
        "Training augmentation: random crop with zero padding `pad` (+ horizontal flip, p=0.5).",
        kAugments);
      v("pad", pad, "Zero padding (pixels per side) of the random crop.", tailor::at_least(0.0));
      v("mean", mean, "Normalisation mean of pixel/255.");
      v("std", std_dev, "Normalisation std of pixel/255.", tailor::greater_than(0.0));
    }
  };

  explicit IdxLt(const Options& options);

  const std::vector<std::string>& class_names() const override { return class_names_; }
  std::vector<int64_t> sample_shape() const override { return {1, height_, width_}; }
  int64_t size(Split split) const override;
  at::Tensor labels(Split split) const override;
  Batch batch(const BatchRequest& request) const override;
  /// The crop (+ flip) as tensor ops on `inputs`' device.
  at::Tensor augment_batch(const BatchRequest& request, const at::Tensor& inputs) const override;
  void write_artifacts(const std::string& dir) const override;

  /// Samples per class in `split`.
  std::vector<int64_t> class_counts(Split split) const;
  /// Positions in the train file of the train (or val) split, in split order.
  const std::vector<int64_t>& train_file_indices() const { return train_index_; }
  const std::vector<int64_t>& val_file_indices() const { return val_index_; }

 private:
  const at::Tensor& labels_of(Split split) const;

  Options options_;
  std::vector<std::string> class_names_;
  int64_t height_ = 0;
  int64_t width_ = 0;
  at::Tensor train_file_images_;      // uint8 [N, H, W], the whole train file
  at::Tensor test_images_;            // uint8 [M, H, W]
  std::vector<int64_t> train_index_;  // split position -> train-file position
  std::vector<int64_t> val_index_;
  at::Tensor train_labels_;  // int64, one per split sample
  at::Tensor val_labels_;
  at::Tensor test_labels_;
  float lut_[256] = {};  // pixel value -> normalised float
};

}  // namespace tailor::plugins
