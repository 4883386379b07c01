// image_list.hpp: the list-file dataset engine (JPEG images named by `<path> <label>` list
// files, one list per split) that the image_list, imagenet_lt, places_lt and inaturalist
// plugins are thin plugins over.
#pragma once

#include "common/pipeline.hpp"
#include "common/samples.hpp"

#include <ATen/Tensor.h>

#include <tailor/components.hpp>
#include <tailor/options.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tailor::plugins {

/// Decoding, augmentation and damaged-file options shared by the image dataset plugins.
struct ImageOptions {
  static constexpr auto kAugments =
      choice<image::Augment>({{"imagenet", image::Augment::kStandard},
                              {"randaugment", image::Augment::kRandAugment},
                              {"none", image::Augment::kNone}});
  /// What batch() does with a missing or undecodable image.
  enum class OnCorrupt { kError, kBlack };
  static constexpr auto kOnCorrupts =
      choice<OnCorrupt>({{"error", OnCorrupt::kError}, {"black", OnCorrupt::kBlack}});

  int64_t image_size = 224;
  int64_t resize = 256;
  image::Augment augment = image::Augment::kStandard;
  double color_jitter = 0.4;
  int64_t randaugment_n = 2;
  int64_t randaugment_m = 9;
  std::vector<double> mean = {0.485, 0.456, 0.406};
  std::vector<double> std_dev = {0.229, 0.224, 0.225};
  bool decode_scaling = true;
  OnCorrupt on_corrupt = OnCorrupt::kError;

  template <class V>
  void visit(V& v) {
    v("image_size", image_size, "Side S of the square sample.", at_least(1.0));
    v("resize", resize,
      "Evaluation transform: the shorter side is resized to this, then the centre S x S is "
      "cropped. Must be >= image_size.",
      at_least(1.0));
    v("augment", augment,
      "Training augmentation. imagenet: RandomResizedCrop(S) + horizontal flip + ColorJitter; "
      "randaugment: the same, then RandAugment; none: the evaluation transform.",
      kAugments);
    v("color_jitter", color_jitter,
      "ColorJitter brightness = contrast = saturation (hue 0); 0 disables it.", at_least(0.0));
    v("randaugment_n", randaugment_n, "RandAugment: operations applied per image.", at_least(0.0));
    v("randaugment_m", randaugment_m, "RandAugment: magnitude bin (of 31 bins, 0..30).",
      range(0.0, 30.0));
    v("mean", mean, "Normalisation mean of pixel/255, per channel (R, G, B).");
    v("std", std_dev, "Normalisation std of pixel/255, per channel (R, G, B).", greater_than(0.0));
    v("decode_scaling", decode_scaling,
      "Training: decode JPEGs at 1/8, 1/4 or 1/2 scale in the DCT domain when the crop stays at "
      "least as large as the output; false: full resolution. Evaluation always decodes at full "
      "resolution.");
    v("on_corrupt", on_corrupt,
      "A missing or undecodable image at batch time: error stops with the file and list line; "
      "black uses a black image and logs a counted warning.",
      kOnCorrupts);
  }

  /// The pipeline settings these options describe; throws tailor::Error naming `name` when
  /// they are inconsistent (mean/std lengths, resize < image_size).
  image::TransformOptions transform(const std::string& name) const;
};

/// A list or annotation file a dataset was read from, for the run's provenance record.
struct SourceFile {
  std::string split;
  std::string path;
  int64_t samples = 0;
  std::string sha256;
};

/// Everything an image dataset plugin reads before handing over to ImageList.
struct ImageSources {
  std::string name;  ///< the plugin's name, first word of every message
  std::string root;  ///< sample paths are relative to this ("" = as given)
  ImageOptions image;
  image::SampleTable train;
  image::SampleTable val;
  image::SampleTable test;
  int64_t num_classes = 0;               ///< 0: the largest label + 1
  std::vector<std::string> class_names;  ///< empty: from the train paths' folders, else "0".."C-1"
  std::vector<SourceFile> files;
};

/// `file` resolved against `dir` unless absolute or `dir` is empty.
std::string resolve_path(const std::string& dir, const std::string& file);

/// Throws unless `content` (the file at `path`, given by option `option`) matches one of
/// `accepted`: a 64-hex SHA-256 or "git-blob:<40 hex>" (the id `git hash-object` prints).
/// Empty `accepted`: no check. The message says how to skip the check.
void verify_digest(const std::string& name, const std::string& option, const std::string& path,
                   std::string_view content, const std::string& sha256,
                   const std::vector<std::string>& accepted);

/// Reads, verifies and parses one `<path> <label>` list; records it in `sources->files`.
image::SampleTable read_list(const std::string& name, const std::string& option,
                             const std::string& path, const std::string& split,
                             const std::vector<std::string>& accepted, ImageSources* sources);

/// Throws unless `counts` (samples per class of `table`) has `expected` = [total, max, min]
/// (empty: no check). `option` names the option that disables the check.
void check_counts(const std::string& name, const std::string& option,
                  const image::SampleTable& table, const std::vector<int64_t>& counts,
                  const std::vector<int64_t>& expected);

class ImageList : public Dataset {
 public:
  struct Options {
    std::string root;
    std::string list_dir;
    std::string train_list;
    std::string val_list;
    std::string test_list;
    int64_t num_classes = 0;
    std::string class_names_file;
    ImageOptions image;
    std::vector<int64_t> expected_train_counts;
    std::vector<int64_t> expected_val_counts;
    std::vector<int64_t> expected_test_counts;
    std::vector<std::string> train_list_sha256;
    std::vector<std::string> val_list_sha256;
    std::vector<std::string> test_list_sha256;

    /// image_list's schema: the lists are the user's, so train_list is required.
    template <class V>
    void visit(V& v) {
      visit_fields(v, Constraint{}, required());
    }

    /// Every field, with the constraints of root and train_list given: a preset (imagenet_lt,
    /// places_lt) defaults its lists and requires root instead.
    template <class V>
    void visit_fields(V& v, const Constraint& root_constraint,
                      const Constraint& train_list_constraint) {
      v("root", root,
        "Directory the image paths in the lists are relative to (a leading '/' in a list path "
        "is relative to it too). Empty: paths as given.",
        root_constraint);
      v("list_dir", list_dir, "Directory of the list files. Empty: root.");
      v("train_list", train_list, "List of the train split (`<path> <label>` lines).",
        train_list_constraint);
      v("val_list", val_list, "List of the held-out val split. Empty: no val split.");
      v("test_list", test_list, "List of the test split. Empty: no test split.");
      v("num_classes", num_classes,
        "Number of classes; every label must be below it. 0: the largest label + 1.",
        at_least(0.0));
      v("class_names_file", class_names_file,
        "One class name per line, in label order. Empty: the train images' folder names when "
        "they name the classes one to one, else the label numbers.");
      image.visit(v);
      v("expected_train_counts", expected_train_counts,
        "Expected [images, max per class, min per class] of the train split; [] = no check.",
        at_least(0.0));
      v("expected_val_counts", expected_val_counts,
        "Expected [images, max per class, min per class] of the val split; [] = no check.",
        at_least(0.0));
      v("expected_test_counts", expected_test_counts,
        "Expected [images, max per class, min per class] of the test split; [] = no check.",
        at_least(0.0));
      v("train_list_sha256", train_list_sha256,
        "Accepted identities of the train list: SHA-256 hex or \"git-blob:<id>\"; [] = no check.");
      v("val_list_sha256", val_list_sha256,
        "Accepted identities of the val list: SHA-256 hex or \"git-blob:<id>\"; [] = no check.");
      v("test_list_sha256", test_list_sha256,
        "Accepted identities of the test list: SHA-256 hex or \"git-blob:<id>\"; [] = no check.");
    }
  };

  /// Reads the lists named by `options`. `name` (the plugin's name) starts every message.
  explicit ImageList(const Options& options, const std::string& name = "image_list");
  /// Takes splits another plugin has read (e.g. from JSON annotations).
  explicit ImageList(ImageSources sources);

  const std::vector<std::string>& class_names() const override { return class_names_; }
  std::vector<int64_t> sample_shape() const override;
  int64_t size(Split split) const override;
  at::Tensor labels(Split split) const override;
  Batch batch(const BatchRequest& request) const override;
  void write_artifacts(const std::string& dir) const override;

  /// Samples per class of `split`.
  std::vector<int64_t> class_counts(Split split) const;
  /// The samples of `split`.
  const image::SampleTable& samples(Split split) const;
  /// The file batch() reads for sample `index` of `split`.
  std::string image_path(Split split, int64_t index) const;
  /// Images replaced by black ones so far (on_corrupt = "black").
  int64_t replaced_images() const { return replaced_.load(); }

 private:
  // How a split's paths map to files; chosen once by probing its first sample, so lists in
  // either ImageNet-LT test layout (flat val/ or val/<wnid>/) work with either disk layout.
  enum class Layout { kAsListed, kWithoutParent, kWithClassFolder };
  struct SplitData {
    image::SampleTable samples;
    Layout layout = Layout::kAsListed;
    at::Tensor labels;  // int64 [n]
  };

  void init(ImageSources sources);
  const SplitData& split_data(Split split) const;
  std::string file_of(const SplitData& split, size_t index) const;
  void probe_layout(SplitData* split, const char* split_name);
  void check_files(const SplitData& split, const char* split_name) const;

  std::string name_;
  std::string root_;
  ImageOptions image_options_;
  std::unique_ptr<image::ImagePipeline> pipeline_;
  SplitData train_;
  SplitData val_;
  SplitData test_;
  std::vector<std::string> class_names_;
  std::vector<std::string> folder_names_;  // train folder per class, when one to one

  std::vector<SourceFile> files_;
  mutable std::atomic<int64_t> replaced_{0};  // a diagnostic counter, not batch state
};

}  // namespace tailor::plugins
