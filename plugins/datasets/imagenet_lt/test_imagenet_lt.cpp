// Tests of the imagenet_lt preset on a tiny fixture in the ImageNet-LT list layout.
#include "imagenet_lt.hpp"

#include "common/testing.hpp"

#include <tailor/testing/readme_table.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using tailor::Split;
using tailor::image::testing::fetch;
using tailor::image::testing::TempDir;
using tailor::image::testing::write_bytes;
using tailor::image::testing::write_jpeg;
using tailor::plugins::ImagenetLt;

namespace {

const char* const kWnids[2] = {"n01440764", "n01443537"};

// Official file names and path layouts; the test list uses wnid folders while the disk holds
// the flat ILSVRC val layout.
struct Fixture {
  TempDir dir{"imagenet_lt"};
  Fixture() {
    std::string train, val, test;
    for (int c = 0; c < 2; ++c) {
      const std::string wnid = kWnids[c];
      for (int i = 0; i < 3 - c; ++i) {
        const std::string path = "train/" + wnid + "/" + wnid + "_" + std::to_string(i) + ".JPEG";
        write_jpeg(dir / path, 100, 100, 100);
        train += path + " " + std::to_string(c) + "\n";
      }
      const std::string held = "train/" + wnid + "/" + wnid + "_9" + ".JPEG";
      write_jpeg(dir / held, 100, 100, 100);
      val += held + " " + std::to_string(c) + "\n";
      const std::string name = "ILSVRC2012_val_0000000" + std::to_string(c + 1) + ".JPEG";
      write_jpeg(dir / ("val/" + name), 100, 100, 100);
      test += "val/" + wnid + "/" + name + " " + std::to_string(c) + "\n";
    }
    write_bytes(dir / "ImageNet_LT_train.txt", train);
    write_bytes(dir / "ImageNet_LT_val.txt", val);
    write_bytes(dir / "ImageNet_LT_test.txt", test);
  }
  ImagenetLt::Options options() const {
    ImagenetLt::Options o;
    o.root = dir.str();
    return o;
  }
};

std::string error_of(const ImagenetLt::Options& o) {
  try {
    ImagenetLt d(o);
  } catch (const tailor::Error& e) {
    return e.what();
  }
  FAIL("expected tailor::Error");
  return {};
}

}  // namespace

TEST_CASE("imagenet_lt defaults are the official lists and profile", "[imagenet_lt]") {
  const ImagenetLt::Options o;
  CHECK(o.train_list == "ImageNet_LT_train.txt");
  CHECK(o.val_list == "ImageNet_LT_val.txt");
  CHECK(o.test_list == "ImageNet_LT_test.txt");
  CHECK(o.num_classes == 1000);
  CHECK(o.expected_train_counts == std::vector<int64_t>{115846, 1280, 5});
  CHECK(o.expected_val_counts == std::vector<int64_t>{20000, 20, 20});
  CHECK(o.expected_test_counts == std::vector<int64_t>{50000, 50, 50});
  CHECK(o.image.augment == "imagenet");
  CHECK(o.image.color_jitter == 0.4);
  CHECK(error_of(ImagenetLt::Options{}).find("set [dataset] root") != std::string::npos);
}

TEST_CASE("imagenet_lt refuses lists that are not the official ones", "[imagenet_lt]") {
  Fixture fx;
  ImagenetLt::Options o = fx.options();
  std::string msg = error_of(o);
  CHECK_THAT(msg, Catch::Contains("ImageNet_LT_train.txt is not the expected file") &&
                      Catch::Contains("git-blob:a063f095fcd475db4cf8b0658c4b73955535bbf9") &&
                      Catch::Contains("train_list_sha256 = []"));
  o.train_list_sha256.clear();
  o.val_list_sha256.clear();
  o.test_list_sha256.clear();
  msg = error_of(o);
  CHECK_THAT(msg, Catch::Contains("ImageNet_LT_train.txt does not have the expected class-count "
                                  "profile: expected 115846 images, at most 1280 and at least 5") &&
                      Catch::Contains("found 5 images, at most 3 (class 0) and at least 0") &&
                      Catch::Contains("over 1000 classes") &&
                      Catch::Contains("expected_train_counts = []"));
}

TEST_CASE("imagenet_lt loads a modified list with the checks off", "[imagenet_lt]") {
  Fixture fx;
  ImagenetLt::Options o = fx.options();
  o.train_list_sha256 = o.val_list_sha256 = o.test_list_sha256 = {};
  o.expected_train_counts = o.expected_val_counts = o.expected_test_counts = {};
  o.num_classes = 0;
  o.image.image_size = 16;
  o.image.resize = 18;
  ImagenetLt d(o);
  CHECK(d.class_names() == std::vector<std::string>{kWnids[0], kWnids[1]});
  CHECK(d.class_counts(Split::kTrain) == std::vector<int64_t>{3, 2});
  CHECK(d.size(Split::kVal) == 2);
  // The wnid-folder test list finds the flat files.
  CHECK(d.image_path(Split::kTest, 1) == (fx.dir / "val/ILSVRC2012_val_00000002.JPEG").string());
  const tailor::Batch b = fetch(d, Split::kTest, {0, 1}, false, 0);
  CHECK(b.inputs.sizes() == at::IntArrayRef({2, 3, 16, 16}));
  CHECK(b.targets[1].item<int64_t>() == 1);
}

TEST_CASE("imagenet_lt README parameter table matches the options schema", "[imagenet_lt]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<ImagenetLt::Options>());
}
