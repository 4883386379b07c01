// inaturalist: iNaturalist 2018 (Van Horn et al., CVPR 2018) from the official COCO-style
// JSON annotations or from the long-tail repos' list files, served by the list-file engine.
#pragma once

#include "common/image_list.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace tailor::plugins {

/// One COCO-style annotation file as read: samples in `images` order whose labels are still
/// the raw category ids, and the `categories` table.
struct InatAnnotations {
  image::SampleTable samples;         ///< file_name, category_id; origin = index in "images"
  std::vector<int64_t> category_ids;  ///< from "categories", in file order
  std::vector<std::string> category_names;
  std::string sha256;  ///< of the file
};

/// Parses `path` (simdjson On Demand). Images are joined to annotations by image_id (by
/// position when the two arrays are aligned, as in the official files). Malformed JSON and
/// missing or inconsistent fields throw tailor::Error with the file, line:column and byte
/// offset. `prefix` starts every message.
InatAnnotations read_inat_json(const std::string& path, const std::string& prefix);

/// The augmentation and normalisation of the iNaturalist recipes: no ColorJitter, iNat mean
/// and std (classifier-balancing's data/dataloader.py).
ImageOptions inat_image_defaults();

class Inaturalist final : public ImageList {
 public:
  struct Options {
    enum class Format { kJson, kList };
    static constexpr auto kFormats =
        choice<Format>({{"json", Format::kJson}, {"list", Format::kList}});
    enum class ValSplit { kHoldout, kOfficial, kNone };
    static constexpr auto kValSplits = choice<ValSplit>({{"holdout", ValSplit::kHoldout},
                                                         {"official", ValSplit::kOfficial},
                                                         {"none", ValSplit::kNone}});

    std::string root;
    std::string annotation_dir;
    Format format = Format::kJson;
    std::string train_json = "train2018.json";
    std::string val_json = "val2018.json";
    std::string train_list = "iNaturalist18_train.txt";
    std::string val_list = "iNaturalist18_val.txt";
    ValSplit val_split = ValSplit::kHoldout;
    int64_t val_per_class = 1;
    int64_t num_classes = 8142;
    ImageOptions image = inat_image_defaults();
    std::vector<int64_t> expected_train_counts = {437513, 1000, 2};
    std::vector<int64_t> expected_test_counts = {24426, 3, 3};
    std::vector<std::string> train_list_sha256 = {
        "git-blob:4accdb7584d2f0a5106c40a33ed6afa392189bcc"};
    std::vector<std::string> val_list_sha256 = {
        "efaeff65f80641b60864470e6f255aa69453406ef5717eec8c6681748f3a61f3"};

    template <class V>
    void visit(V& v) {
      v("root", root, "Directory the image paths are relative to: the one holding train_val2018/.",
        required());
      v("annotation_dir", annotation_dir, "Directory of the JSON or list files. Empty: root.");
      v("format", format,
        "json: the official train2018.json / val2018.json; list: the long-tail repos' "
        "iNaturalist18_{train,val}.txt.",
        kFormats);
      v("train_json", train_json, "Official train annotations (format = json).");
      v("val_json", val_json, "Official val annotations (format = json); served as split test.");
      v("train_list", train_list, "Train list (format = list).");
      v("val_list", val_list, "Official val as a list (format = list); served as split test.");
      v("val_split", val_split,
        "What split val is. holdout: the last val_per_class train2018 images of each class "
        "(removed from train); official: val2018 itself, the same images as test (the peers' "
        "protocol, tuning on test); none: no val split.",
        kValSplits);
      v("val_per_class", val_per_class, "Images per class held out when val_split = holdout.",
        at_least(1.0));
      v("num_classes", num_classes,
        "Number of categories expected (JSON: entries of categories; list: labels must be "
        "below it). 0: no check.",
        at_least(0.0));
      image.visit(v);
      v("expected_train_counts", expected_train_counts,
        "Expected [images, max per class, min per class] of train2018 (before any hold-out); "
        "[] = no check.",
        at_least(0.0));
      v("expected_test_counts", expected_test_counts,
        "Expected [images, max per class, min per class] of val2018 (the test split); [] = no "
        "check.",
        at_least(0.0));
      v("train_list_sha256", train_list_sha256,
        "Accepted identities of the train list (format = list): SHA-256 hex or "
        "\"git-blob:<id>\"; [] = no check.");
      v("val_list_sha256", val_list_sha256,
        "Accepted identities of the val list (format = list): SHA-256 hex or "
        "\"git-blob:<id>\"; [] = no check.");
    }
  };

  explicit Inaturalist(const Options& options);
};

}  // namespace tailor::plugins
