// Tests of the places_lt preset on a tiny fixture in the Places-LT list layouts.
#include "places_lt.hpp"

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
using tailor::plugins::PlacesLt;

namespace {

// v2 (data_256) paths in the train list, Places365-style "/d/desert/sand/..." paths (relative
// to root despite the slash) in the val list, the flat val_256 layout in the test list.
struct Fixture {
  TempDir dir{"places_lt"};
  Fixture() {
    const char* const folders[2] = {"a/abbey", "d/desert/sand"};
    std::string train, val, test;
    for (int c = 0; c < 2; ++c) {
      for (int i = 0; i < 4 - 2 * c; ++i) {
        const std::string path =
            "data_256/" + std::string(folders[c]) + "/0000000" + std::to_string(i) + ".jpg";
        write_jpeg(dir / path, 60, 120, 180, 32, 32);
        train += path + " " + std::to_string(c) + "\n";
      }
      const std::string held = std::string(folders[c]) + "/00000009.jpg";
      write_jpeg(dir / held, 60, 120, 180, 32, 32);
      val += "/" + held + " " + std::to_string(c) + "\n";
      const std::string name = "val_256/Places365_val_0000000" + std::to_string(c + 1) + ".jpg";
      write_jpeg(dir / name, 60, 120, 180, 32, 32);
      test += name + " " + std::to_string(c) + "\n";
    }
    write_bytes(dir / "lists/Places_LT_train.txt", train);
    write_bytes(dir / "lists/Places_LT_val.txt", val);
    write_bytes(dir / "lists/Places_LT_test.txt", test);
  }
  PlacesLt::Options options() const {
    PlacesLt::Options o;
    o.root = dir.str();
    o.list_dir = (dir / "lists").string();
    return o;
  }
};

std::string error_of(const PlacesLt::Options& o) {
  try {
    PlacesLt d(o);
  } catch (const tailor::Error& e) {
    return e.what();
  }
  FAIL("expected tailor::Error");
  return {};
}

}  // namespace

TEST_CASE("places_lt defaults are the official lists and profile", "[places_lt]") {
  const PlacesLt::Options o;
  CHECK(o.train_list == "Places_LT_train.txt");
  CHECK(o.test_list == "Places_LT_test.txt");
  CHECK(o.num_classes == 365);
  CHECK(o.expected_train_counts == std::vector<int64_t>{62500, 4980, 5});
  CHECK(o.expected_val_counts == std::vector<int64_t>{7300, 20, 20});
  CHECK(o.expected_test_counts == std::vector<int64_t>{36500, 100, 100});
  CHECK(o.train_list_sha256.size() == 2);  // v1 and v2 layouts
  CHECK(error_of(PlacesLt::Options{}).find("set [dataset] root") != std::string::npos);
}

TEST_CASE("places_lt refuses lists that are not the official ones", "[places_lt]") {
  Fixture fx;
  PlacesLt::Options o = fx.options();
  CHECK_THAT(
      error_of(o),
      Catch::Contains("Places_LT_train.txt is not the expected file") &&
          Catch::Contains("726c4871dcbf07ce2f857703bfe32e9a83ffbf52d704239f6d95c4f4f4c247f7, "
                          "09410632a22045212fb3231623261e8426ba8dc1887a2b633afeab78ba9c8868") &&
          Catch::Contains("train_list_sha256 = []"));
  o.train_list_sha256 = o.val_list_sha256 = o.test_list_sha256 = {};
  CHECK_THAT(error_of(o), Catch::Contains("expected 62500 images, at most 4980 and at least 5") &&
                              Catch::Contains("found 6 images, at most 4 (class 0)") &&
                              Catch::Contains("expected_train_counts = []"));
  o.expected_train_counts = {6, 4, 0};
  CHECK_THAT(error_of(o), Catch::Contains("Places_LT_val.txt does not have the expected") &&
                              Catch::Contains("expected_val_counts = []"));
}

TEST_CASE("places_lt loads both path styles with the checks off", "[places_lt]") {
  Fixture fx;
  PlacesLt::Options o = fx.options();
  o.train_list_sha256 = o.val_list_sha256 = o.test_list_sha256 = {};
  o.expected_train_counts = o.expected_val_counts = o.expected_test_counts = {};
  o.num_classes = 0;
  o.image.image_size = 24;
  o.image.resize = 28;
  PlacesLt d(o);
  CHECK(d.class_names() == std::vector<std::string>{"abbey", "sand"});
  CHECK(d.class_counts(Split::kTrain) == std::vector<int64_t>{4, 2});
  CHECK(d.image_path(Split::kVal, 1) == (fx.dir / "d/desert/sand/00000009.jpg").string());
  const tailor::Batch b = fetch(d, Split::kVal, {0, 1}, true, 7);
  CHECK(b.inputs.sizes() == at::IntArrayRef({2, 3, 24, 24}));
  CHECK(b.targets[1].item<int64_t>() == 1);
}

TEST_CASE("places_lt README parameter table matches the options schema", "[places_lt]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<PlacesLt::Options>());
}
