// cifar_lt: CIFAR-10 / CIFAR-100 (binary version) with the LDAM-DRW or CDB-loss long tail.
#pragma once

#include <ATen/Tensor.h>

#include <tailor/components.hpp>
#include <tailor/options.hpp>

#include "auto_augment.hpp"
#include "common/long_tail.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tailor::plugins {

/// CIFAR-10 / CIFAR-100 read from the binary version, with a long-tailed train split built
/// exactly as a published protocol builds it (LDAM-DRW's NumPy-seeded per-class shuffle, or
/// CDB-loss's file-order selection after a 25-per-class hold-out), the untouched balanced test
/// set, and the standard CIFAR augmentation (pad-4 crop, flip; optionally AutoAugment and
/// Cutout). Pixels stay uint8 in memory; batch() converts and normalises per request.
class CifarLt final : public Dataset {
 public:
  struct Options {
    enum class Variant { kCifar10, kCifar100 };
    static constexpr auto kVariants =
        tailor::choice<Variant>({{"cifar10", Variant::kCifar10}, {"cifar100", Variant::kCifar100}});
    enum class Protocol { kLdam, kCdb, kNone };
    static constexpr auto kProtocols = tailor::choice<Protocol>(
        {{"ldam", Protocol::kLdam}, {"cdb", Protocol::kCdb}, {"none", Protocol::kNone}});
    static constexpr auto kProfiles = tailor::choice<image::LongTailProfile>(
        {{"exp", image::LongTailProfile::kExp}, {"step", image::LongTailProfile::kStep}});
    enum class ValSplit { kAuto, kNone, kHoldout };
    static constexpr auto kValSplits = tailor::choice<ValSplit>(
        {{"auto", ValSplit::kAuto}, {"none", ValSplit::kNone}, {"holdout", ValSplit::kHoldout}});
    enum class Augment { kStandard, kNone };
    static constexpr auto kAugments =
        tailor::choice<Augment>({{"standard", Augment::kStandard}, {"none", Augment::kNone}});

    std::string root;
    Variant variant = Variant::kCifar10;
    Protocol protocol = Protocol::kLdam;
    image::LongTailProfile profile = image::LongTailProfile::kExp;
    double imbalance_ratio = 100.0;
    int64_t seed = 0;
    ValSplit val_split = ValSplit::kAuto;
    int64_t val_per_class = 25;
    Augment augment = Augment::kStandard;
    bool autoaugment = false;
    int64_t cutout = 0;
    std::vector<double> mean = {0.4914, 0.4822, 0.4465};
    std::vector<double> std_dev = {0.2023, 0.1994, 0.2010};

    template <class V>
    void visit(V& v) {
      v("root", root,
        "Directory of the binary files: cifar-10-batches-bin (data_batch_1..5.bin, "
        "test_batch.bin) or cifar-100-binary (train.bin, test.bin).",
        tailor::required());
      v("variant", variant, "Which CIFAR.", kVariants);
      v("protocol", protocol,
        "Train split: ldam (LDAM-DRW: NumPy-seeded per-class shuffle, keep the first n_i), cdb "
        "(CDB-loss: hold out val_per_class, keep the first n_i in file order), none (no long "
        "tail).",
        kProtocols);
      v("profile", profile,
        "exp: n_i = int(img_max * (1/rho)^(i/(C-1))); step: int(img_max) for the first C/2 "
        "classes, int(img_max/rho) for the rest.",
        kProfiles);
      v("imbalance_ratio", imbalance_ratio, "rho = n_max / n_min.", tailor::at_least(1.0));
      v("seed", seed, "np.random.seed of the ldam selection.", tailor::range(0.0, 4294967295.0));
      v("val_split", val_split,
        "holdout: the last val_per_class train-file images of each class, held out before the "
        "long-tail selection, form the val split; none: no val split; auto: holdout for cdb, "
        "none otherwise.",
        kValSplits);
      v("val_per_class", val_per_class, "Images per class in the holdout val split.",
        tailor::at_least(1.0));
      v("augment", augment,
        "Training augmentation: standard (4-pixel zero padding, random 32x32 crop, horizontal "
        "flip p=0.5) or none.",
        kAugments);
      v("autoaugment", autoaugment,
        "After crop/flip, torchvision's AutoAugment with the CIFAR-10 policy (training only).");
      v("cutout", cutout,
        "Side of the Cutout square (one hole, zeroed after normalisation as in DeVries & "
        "Taylor's code); 0 = off. Training only.",
        tailor::range(0.0, 32.0));
      v("mean", mean, "Per-channel normalisation mean of pixel/255 (R, G, B).");
      v("std", std_dev, "Per-channel normalisation std of pixel/255 (R, G, B).",
        tailor::greater_than(0.0));
    }
  };

  /// Train and val positions in the train file, in split order.
  struct Selection {
    std::vector<int64_t> train;
    std::vector<int64_t> val;
  };

  explicit CifarLt(const Options& options);

  const std::vector<std::string>& class_names() const override { return class_names_; }
  std::vector<int64_t> sample_shape() const override { return {3, kSide, kSide}; }
  int64_t size(Split split) const override;
  at::Tensor labels(Split split) const override;
  Batch batch(const BatchRequest& request) const override;
  /// Crop + flip and Cutout as tensor ops (AutoAugment has no batched form).
  at::Tensor augment_batch(const BatchRequest& request, const at::Tensor& inputs) const override;
  /// Writes cifar_lt_selection.csv (split,index_in_file,label) via a temp file and a rename.
  void write_artifacts(const std::string& dir) const override;

  /// Samples per class in `split`.
  std::vector<int64_t> class_counts(Split split) const;
  /// Train-file positions of the train (val) split, in split order.
  const std::vector<int64_t>& train_file_indices() const { return train_index_; }
  const std::vector<int64_t>& val_file_indices() const { return val_index_; }

  /// The train/val selection of `options` (protocol, profile, ratio, seed, val split) for a
  /// train file whose record i has label `labels[i]` in [0, num_classes). img_max is
  /// len(labels) / C minus the per-class hold-out. Throws tailor::Error when a class is too
  /// small for the profile.
  static Selection select(const std::vector<int64_t>& labels, int64_t num_classes,
                          const Options& options);

  /// Whether `options` hold out a val split (val_split "auto" resolved for the protocol).
  static bool holds_out_val(const Options& options);

  /// A binary file and the whole records it holds.
  struct FileRecords {
    std::string path;
    int64_t records = 0;
  };
  /// Checks the record counts of a CIFAR release (`num_classes` 10 or 100) against each other
  /// and the official ones (CIFAR-10: 10000 per file; CIFAR-100: train 50000, test 10000), so
  /// that a file cut at a record boundary is not read as a smaller dataset. Throws
  /// tailor::Error naming the file when a file is short of the others or of the official
  /// count that its siblings have; returns a note (for the log) when the files are
  /// consistent but smaller than the official ones (a subset or a test fixture), else "".
  static std::string check_record_counts(const std::vector<FileRecords>& train,
                                         const FileRecords& test, int64_t num_classes);

  static constexpr int64_t kSide = 32;
  static constexpr int64_t kPixels = 3 * kSide * kSide;

 private:
  const at::Tensor& labels_of(Split split) const;
  const uint8_t* image_of(Split split, int64_t index) const;

  Options options_;
  std::vector<std::string> class_names_;
  at::Tensor train_file_images_;      // uint8 [N, 3, 32, 32], the whole train file
  at::Tensor test_images_;            // uint8 [M, 3, 32, 32]
  std::vector<int64_t> train_index_;  // split position -> train-file position
  std::vector<int64_t> val_index_;
  at::Tensor train_labels_;  // int64, one per split sample
  at::Tensor val_labels_;
  at::Tensor test_labels_;
  std::array<std::array<float, 256>, 3> lut_{};  // pixel value -> normalised float, per channel
  std::unique_ptr<AutoAugmentCifar10> auto_augment_;
};

}  // namespace tailor::plugins
