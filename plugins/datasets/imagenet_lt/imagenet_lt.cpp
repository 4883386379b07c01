// imagenet_lt: ImageNet-LT's list names, class-count profile and list checksums.
#include "imagenet_lt.hpp"

namespace tailor::plugins {

namespace {

const ImagenetLt::Options& with_root(const ImagenetLt::Options& options) {
  TAILOR_CHECK(!options.root.empty(),
               "imagenet_lt: set [dataset] root to the ILSVRC-2012 directory that holds train/ "
               "and val/ (the list paths are relative to it), and list_dir to the folder of "
               "ImageNet_LT_{train,val,test}.txt if they are elsewhere");
  return options;
}

}  // namespace

ImagenetLt::Options::Options() {
  train_list = "ImageNet_LT_train.txt";
  val_list = "ImageNet_LT_val.txt";
  test_list = "ImageNet_LT_test.txt";
  num_classes = 1000;
  // OLTR's Pareto(alpha = 6) subset of the ILSVRC-2012 train set; val: 20 per class, also
  // from ILSVRC train; test: the whole ILSVRC-2012 val set.
  expected_train_counts = {115846, 1280, 5};
  expected_val_counts = {20000, 20, 20};
  expected_test_counts = {50000, 50, 50};
  // The train list is > 4 MiB and only its git blob id is published.
  train_list_sha256 = {"git-blob:a063f095fcd475db4cf8b0658c4b73955535bbf9"};
  val_list_sha256 = {"9af7ba688acf9532ff5845a8fb14a1e97fdc4c51ac48bc72c08ea9c3f7ff142e"};
  // Flat val/ layout (OLTR release) and val/<wnid>/ layout (classifier-balancing, SADE).
  test_list_sha256 = {"358650a8b13930b491559b09a48d05dd3c0d76860dc011995cd1896c1a07fb6d",
                      "d1590191cf8a71fada7b1aaedaa2d139a2aea93ff2f1b755319d0bd8dbaa55d5"};
}

ImagenetLt::ImagenetLt(const Options& options) : ImageList(with_root(options), "imagenet_lt") {}

}  // namespace tailor::plugins
