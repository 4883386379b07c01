// Tests of the image_list dataset on generated JPEG files and list files in the ImageNet-LT
// and Places-LT path layouts.
#include "common/image_list.hpp"

#include "common/digest.hpp"
#include "common/testing.hpp"

#include <tailor/testing/readme_table.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using tailor::Split;
using tailor::image::testing::fetch;
using tailor::image::testing::TempDir;
using tailor::image::testing::write_bytes;
using tailor::image::testing::write_jpeg;
using tailor::plugins::ImageList;
namespace fs = std::filesystem;

namespace {

struct Colour {
  uint8_t r, g, b;
};
// Class 0 is grey, which JPEG stores exactly; the others are colours.
const Colour kColours[3] = {{128, 128, 128}, {200, 30, 60}, {20, 180, 90}};
const char* const kWnids[3] = {"n01440764", "n01443537", "n01484850"};
const int kTrainPerClass[3] = {5, 3, 2};

// ImageNet-style train list, Places-style val list (leading '/'), flat test list whose files
// are stored in wnid folders (the two ImageNet-LT test layouts).
struct Fixture {
  TempDir dir{"image_list"};
  std::string train_text, val_text, test_text;

  Fixture() {
    for (int c = 0; c < 3; ++c) {
      const Colour k = kColours[c];
      for (int i = 0; i < kTrainPerClass[c]; ++i) {
        const std::string path = std::string("train/") + kWnids[c] + "/" + kWnids[c] + "_" +
                                 std::to_string(100 + i) + ".JPEG";
        write_jpeg(dir / path, k.r, k.g, k.b);
        train_text += path + " " + std::to_string(c) + (i == 1 ? "\r\n\n" : "\n");
      }
      for (int i = 0; i < 2; ++i) {
        const std::string path = "places/" + std::string(1, 'a' + c) + "/scene_" +
                                 std::to_string(c) + "/outdoor/0000000" + std::to_string(i) +
                                 ".jpg";
        write_jpeg(dir / path, k.r, k.g, k.b);
        val_text += "/" + path + " " + std::to_string(c) + "\n";
        const std::string name =
            "ILSVRC2012_val_0000" + std::to_string(c) + std::to_string(i) + ".JPEG";
        write_jpeg(dir / ("val/" + std::string(kWnids[c]) + "/" + name), k.r, k.g, k.b);
        test_text += "val/" + name + " " + std::to_string(c) + "\n";
      }
    }
    write_bytes(dir / "lists/train.txt", train_text);
    write_bytes(dir / "lists/val.txt", val_text);
    write_bytes(dir / "lists/test.txt", test_text);
  }

  ImageList::Options options() const {
    ImageList::Options o;
    o.root = dir.str();
    o.list_dir = (dir / "lists").string();
    o.train_list = "train.txt";
    o.val_list = "val.txt";
    o.test_list = "test.txt";
    o.image.image_size = 16;
    o.image.resize = 20;
    return o;
  }
};

std::string error_of(const ImageList::Options& o) {
  try {
    ImageList d(o);
  } catch (const tailor::Error& e) {
    return e.what();
  }
  FAIL("expected tailor::Error");
  return {};
}

std::string batch_error(const ImageList& d, Split split, std::vector<int64_t> idx, bool augment) {
  try {
    fetch(d, split, idx, augment, 1);
  } catch (const tailor::Error& e) {
    return e.what();
  }
  FAIL("expected tailor::Error");
  return {};
}

float normalised(int channel, uint8_t v) {
  const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
  return (static_cast<float>(v) / 255.0f - mean[channel]) / std[channel];
}

}  // namespace

TEST_CASE("image_list reads lists in both layouts", "[image_list]") {
  Fixture fx;
  ImageList d(fx.options());
  CHECK(d.sample_shape() == std::vector<int64_t>{3, 16, 16});
  CHECK(d.size(Split::kTrain) == 10);
  CHECK(d.size(Split::kVal) == 6);
  CHECK(d.size(Split::kTest) == 6);
  CHECK(d.class_names() == std::vector<std::string>{kWnids[0], kWnids[1], kWnids[2]});
  CHECK(d.class_counts(Split::kTrain) == std::vector<int64_t>{5, 3, 2});
  CHECK(d.class_counts(Split::kVal) == std::vector<int64_t>{2, 2, 2});
  const at::Tensor labels = d.labels(Split::kTrain);
  CHECK(labels.scalar_type() == at::kLong);
  CHECK(labels[4].item<int64_t>() == 0);
  CHECK(labels[5].item<int64_t>() == 1);
  CHECK(d.samples(Split::kTrain).where(2) == (fx.dir / "lists/train.txt").string() + " line 4");

  // Places-style "/a/..." paths are relative to root.
  CHECK(d.image_path(Split::kVal, 0) ==
        (fx.dir / "places/a/scene_0/outdoor/00000000.jpg").string());
  // The flat test list finds its files in wnid folders.
  CHECK(d.image_path(Split::kTest, 2) ==
        (fx.dir / "val" / kWnids[1] / "ILSVRC2012_val_000010.JPEG").string());

  // Folders that do not name classes one to one ("outdoor" for all): label numbers.
  ImageList::Options o = fx.options();
  o.train_list = "val.txt";
  o.val_list = o.test_list = "";
  ImageList numbered(o);
  CHECK(numbered.class_names() == std::vector<std::string>{"0", "1", "2"});
  CHECK(numbered.size(Split::kVal) == 0);
  CHECK(numbered.size(Split::kTest) == 0);
}

TEST_CASE("image_list test transform gives the normalised colour", "[image_list]") {
  Fixture fx;
  ImageList::Options o = fx.options();
  o.image.image_size = 224;  // the real recipe: Resize(256) + CenterCrop(224)
  o.image.resize = 256;
  ImageList d(o);
  tailor::Batch b = fetch(d, Split::kTest, {0, 2, 4}, /*augment=*/false, 0);
  REQUIRE(b.inputs.sizes() == at::IntArrayRef({3, 3, 224, 224}));
  CHECK(b.inputs.scalar_type() == at::kFloat);
  CHECK(b.targets[1].item<int64_t>() == 1);
  // Grey survives JPEG exactly: every value is (128/255 - mean) / std in float32.
  for (int c = 0; c < 3; ++c) {
    const at::Tensor plane = b.inputs[0][c];
    CHECK(plane.min().item<float>() == normalised(c, 128));
    CHECK(plane.max().item<float>() == normalised(c, 128));
  }
  CHECK(b.inputs[0][0][0][0].item<float>() == Approx(0.0741).epsilon(1e-3));
  // Colours come back within JPEG's rounding (2 levels).
  for (int k = 1; k < 3; ++k) {
    const Colour col = kColours[k];
    const uint8_t rgb[3] = {col.r, col.g, col.b};
    for (int c = 0; c < 3; ++c)
      CHECK(b.inputs[k][c][111][50].item<float>() ==
            Approx(normalised(c, rgb[c])).margin(2.0 / 255 / 0.224 + 1e-6));
  }
}

TEST_CASE("image_list augmented batches are deterministic per seed", "[image_list]") {
  Fixture fx;
  // A textured image so that crops, flips and jitter change values.
  tailor::image::Image img;
  img.resize(64, 48);
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 64; ++x)
      for (int c = 0; c < 3; ++c)
        img.row(y)[x * 3 + c] = static_cast<uint8_t>(x * 4 + y * 3 + c * 60);
  const auto jpeg = tailor::image::encode_jpeg(img, 90);
  for (int i = 0; i < 5; ++i)
    write_bytes(fx.dir / ("train/n01440764/n01440764_10" + std::to_string(i) + ".JPEG"),
                std::string(jpeg.begin(), jpeg.end()));

  for (const char* augment : {"imagenet", "randaugment"}) {
    INFO(augment);
    ImageList::Options o = fx.options();
    o.image.augment = o.image.kAugments.value(augment);
    ImageList d(o);
    const std::vector<int64_t> idx = {0, 1, 2, 3, 4, 0, 9};
    const at::Tensor a = fetch(d, Split::kTrain, idx, true, 1234).inputs;
    CHECK(at::equal(a, fetch(d, Split::kTrain, idx, true, 1234).inputs));
    CHECK_FALSE(at::equal(a, fetch(d, Split::kTrain, idx, true, 99).inputs));
    // Same image at positions 0 and 5: different draws.
    CHECK_FALSE(at::equal(a[0], a[5]));
    // Concurrent callers get the same batch.
    std::vector<at::Tensor> results(3);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < results.size(); ++t)
      threads.emplace_back(
          [&, t] { results[t] = fetch(d, Split::kTrain, idx, true, 1234).inputs; });
    for (auto& thread : threads) thread.join();
    for (const auto& r : results) CHECK(at::equal(r, a));
  }

  // augment = "none" trains on the evaluation transform.
  ImageList::Options o = fx.options();
  o.image.augment = tailor::image::Augment::kNone;
  ImageList plain(o);
  CHECK(at::equal(fetch(plain, Split::kTrain, {0, 1}, true, 5).inputs,
                  fetch(plain, Split::kTrain, {0, 1}, false, 5).inputs));
}

TEST_CASE("image_list handles corrupt and missing images as configured", "[image_list]") {
  Fixture fx;
  const fs::path truncated = fx.dir / "train/n01440764/n01440764_102.JPEG";  // line 4
  const fs::path text = fx.dir / "train/n01443537/n01443537_100.JPEG";       // line 7
  const fs::path missing = fx.dir / "train/n01484850/n01484850_101.JPEG";    // line 12
  {
    std::ifstream in(truncated, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    write_bytes(truncated, bytes.substr(0, bytes.size() / 2));
  }
  write_bytes(text, "this is a text file, not a JPEG\n");
  const std::string list = (fx.dir / "lists/train.txt").string();
  const fs::path kept = fx.dir / "kept.JPEG";
  fs::rename(missing, kept);

  // A listed image that does not exist stops the construction, before any training.
  CHECK_THROWS_WITH(ImageList(fx.options()),
                    Catch::Contains("1 of 10 train images do not exist") &&
                        Catch::Contains(missing.string() + " (" + list + " line 12)") &&
                        Catch::Contains("on_corrupt"));
  // One that disappears later is reported when a batch needs it.
  fs::rename(kept, missing);
  ImageList strict(fx.options());
  fs::remove(missing);
  std::string msg = batch_error(strict, Split::kTrain, {0, 2}, false);
  CHECK_THAT(msg, Catch::Contains(truncated.string()) && Catch::Contains(list + " line 4") &&
                      Catch::Contains("on_corrupt"));
  msg = batch_error(strict, Split::kTrain, {5}, true);
  CHECK_THAT(msg, Catch::Contains(text.string()) && Catch::Contains(list + " line 7") &&
                      Catch::Contains("Not a JPEG file"));
  msg = batch_error(strict, Split::kTrain, {9}, false);
  CHECK_THAT(msg, Catch::Contains(missing.string()) && Catch::Contains(list + " line 12") &&
                      Catch::Contains("No such file"));
  CHECK_THROWS_WITH(fetch(strict, Split::kVal, {6}, false, 0),
                    Catch::Contains("index 6") && Catch::Contains("'val' of size 6"));

  ImageList::Options o = fx.options();
  o.image.on_corrupt = tailor::plugins::ImageOptions::OnCorrupt::kBlack;
  ImageList lenient(o);
  tailor::Batch b = fetch(lenient, Split::kTrain, {0, 2, 5, 9}, true, 3);
  CHECK(lenient.replaced_images() == 3);
  for (int64_t k : {1, 2, 3})
    for (int c = 0; c < 3; ++c) {
      CHECK(b.inputs[k][c].min().item<float>() == normalised(c, 0));
      CHECK(b.inputs[k][c].max().item<float>() == normalised(c, 0));
    }
  CHECK(b.targets[2].item<int64_t>() == 1);  // the label stays
  CHECK(b.inputs[0][0].max().item<float>() > normalised(0, 0));
}

TEST_CASE("image_list finds a missing test image when it is built", "[image_list]") {
  Fixture fx;
  const fs::path image = fx.dir / "val/n01443537/ILSVRC2012_val_000010.JPEG";  // test line 3
  REQUIRE(fs::remove(image));
  CHECK_THROWS_WITH(ImageList(fx.options()),
                    Catch::Contains("1 of 6 test images do not exist") &&
                        Catch::Contains(image.string()) &&
                        Catch::Contains((fx.dir / "lists/test.txt").string() + " line 3"));
  ImageList::Options o = fx.options();
  o.image.on_corrupt = tailor::plugins::ImageOptions::OnCorrupt::kBlack;
  CHECK(ImageList(o).size(Split::kTest) == 6);  // replaced by black images when a batch needs it
}

TEST_CASE("image_list reports bad lists and settings", "[image_list]") {
  Fixture fx;
  const std::string list = (fx.dir / "lists/train.txt").string();
  SECTION("malformed line names file:line") {
    write_bytes(fx.dir / "lists/train.txt", fx.train_text + "train/x/y.JPEG\n");
    CHECK_THAT(error_of(fx.options()),
               Catch::Contains(list + ":14:") && Catch::Contains("\"train/x/y.JPEG\""));
  }
  SECTION("missing list") {
    ImageList::Options o = fx.options();
    o.val_list = "nope.txt";
    CHECK_THAT(error_of(o), Catch::Contains("val_list") && Catch::Contains("nope.txt") &&
                                Catch::Contains("No such file"));
  }
  SECTION("no train list") {
    ImageList::Options o = fx.options();
    o.train_list = "";
    CHECK_THAT(error_of(o), Catch::Contains("train_list is empty"));
  }
  SECTION("label above num_classes") {
    ImageList::Options o = fx.options();
    o.num_classes = 2;
    CHECK_THAT(error_of(o), Catch::Contains(list + " line 11") && Catch::Contains("label 2") &&
                                Catch::Contains("num_classes"));
  }
  SECTION("class_names_file") {
    write_bytes(fx.dir / "lists/names.txt", "tench\ngoldfish\nshark\n");
    ImageList::Options o = fx.options();
    o.class_names_file = "names.txt";
    CHECK(ImageList(o).class_names() == std::vector<std::string>{"tench", "goldfish", "shark"});
    write_bytes(fx.dir / "lists/names.txt", "tench\ngoldfish\n");
    CHECK_THAT(error_of(o), Catch::Contains("has 2 names") && Catch::Contains("3 classes"));
  }
  SECTION("wrong root: the first image is checked at load") {
    ImageList::Options o = fx.options();
    o.root = (fx.dir / "elsewhere").string();
    CHECK_THAT(error_of(o), Catch::Contains("first train image") && Catch::Contains("root"));
  }
  SECTION("resize below image_size, wrong mean length") {
    ImageList::Options o = fx.options();
    o.image.resize = 8;
    CHECK_THAT(error_of(o), Catch::Contains("resize (8) must be >= image_size (16)"));
    o = fx.options();
    o.image.mean = {0.5};
    CHECK_THAT(error_of(o), Catch::Contains("mean and std need 3 values"));
  }
}

TEST_CASE("image_list checks class-count profiles", "[image_list]") {
  Fixture fx;
  ImageList::Options o = fx.options();
  o.expected_train_counts = {10, 5, 2};
  o.expected_val_counts = {6, 2, 2};
  CHECK_NOTHROW(ImageList(o));
  o.expected_train_counts = {10, 5, 3};
  const std::string msg = error_of(o);
  CHECK_THAT(msg,
             Catch::Contains((fx.dir / "lists/train.txt").string()) &&
                 Catch::Contains("expected 10 images, at most 5 and at least 3") &&
                 Catch::Contains("found 10 images, at most 5 (class 0) and at least 2 (class 2)") &&
                 Catch::Contains("expected_train_counts = []"));
  o.expected_train_counts = {10, 5};
  CHECK_THAT(error_of(o), Catch::Contains("needs 3 values"));
}

TEST_CASE("image_list verifies list checksums", "[image_list]") {
  Fixture fx;
  const std::string sha = tailor::image::sha256_hex(fx.train_text);
  const std::string blob = tailor::image::git_blob_hex(fx.train_text);
  ImageList::Options o = fx.options();
  o.train_list_sha256 = {std::string(64, '0'), sha};
  CHECK_NOTHROW(ImageList(o));
  o.train_list_sha256 = {"git-blob:" + blob};
  CHECK_NOTHROW(ImageList(o));
  o.train_list_sha256 = {std::string(64, 'a')};
  const std::string msg = error_of(o);
  CHECK_THAT(msg, Catch::Contains("is not the expected file") &&
                      Catch::Contains("expected one of [" + std::string(64, 'a') + "]") &&
                      Catch::Contains("found sha256 " + sha) &&
                      Catch::Contains("git-blob:" + blob) &&
                      Catch::Contains("train_list_sha256 = []"));
  o.train_list_sha256 = {"abc"};
  CHECK_THAT(error_of(o), Catch::Contains("neither a SHA-256"));
}

TEST_CASE("image_list writes class and source manifests", "[image_list]") {
  Fixture fx;
  ImageList d(fx.options());
  TempDir out("image_list_out");
  d.write_artifacts(out.str());
  std::ifstream classes(out / "image_list_classes.csv");
  std::string line;
  REQUIRE(std::getline(classes, line));
  CHECK(line == "label,name,train,val,test");
  REQUIRE(std::getline(classes, line));
  CHECK(line == "0,n01440764,5,2,2");
  std::ifstream sources(out / "image_list_sources.csv");
  REQUIRE(std::getline(sources, line));
  CHECK(line == "split,path,samples,sha256");
  REQUIRE(std::getline(sources, line));
  CHECK(line == "train," + (fx.dir / "lists/train.txt").string() + ",10," +
                    tailor::image::sha256_hex(fx.train_text));
  CHECK_FALSE(fs::exists(out / "image_list_sources.csv.tmp"));
}

TEST_CASE("image_list README parameter table matches the options schema", "[image_list]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<ImageList::Options>());
}
