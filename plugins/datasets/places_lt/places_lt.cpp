// places_lt: Places-LT's list names, class-count profile and list checksums.
#include "places_lt.hpp"

namespace tailor::plugins {

namespace {

const PlacesLt::Options& with_root(const PlacesLt::Options& options) {
  TAILOR_CHECK(!options.root.empty(),
               "places_lt: set [dataset] root to the Places365-Standard directory the list paths "
               "are relative to (v1 lists: train/ and val/; v2 lists: data_256/ and val_256/), "
               "and list_dir to the folder of Places_LT_{train,val,test}.txt if they are "
               "elsewhere");
  return options;
}

}  // namespace

PlacesLt::Options::Options() {
  train_list = "Places_LT_train.txt";
  val_list = "Places_LT_val.txt";
  test_list = "Places_LT_test.txt";
  num_classes = 365;
  // Train sampled from Places365 train; val 20 per class, also from train; test: the whole
  // Places365-Standard val set (100 per class).
  expected_train_counts = {62500, 4980, 5};
  expected_val_counts = {7300, 20, 20};
  expected_test_counts = {36500, 100, 100};
  // v1: OLTR / classifier-balancing layout; v2: SADE / MiSLAS data_256 layout.
  train_list_sha256 = {"726c4871dcbf07ce2f857703bfe32e9a83ffbf52d704239f6d95c4f4f4c247f7",
                       "09410632a22045212fb3231623261e8426ba8dc1887a2b633afeab78ba9c8868"};
  val_list_sha256 = {"719e3cf3766c09134ea28f56f1036c78def511ac1ed2c2532a6beef78f2439ba",
                     "09cf0e5abf684f946f60b6bf9c526a5ee85d09f555d2c4b9cfaaf22b19d04974"};
  test_list_sha256 = {"44eee8441c8098c59195465abede425721bc35525d75209f9433b161a6eb37bc",
                      "3c34622e44f036b17c7926b0b6bbdd3d335fa63077409ebb06da68afa7073cd9"};
}

PlacesLt::PlacesLt(const Options& options) : ImageList(with_root(options), "places_lt") {}

}  // namespace tailor::plugins
