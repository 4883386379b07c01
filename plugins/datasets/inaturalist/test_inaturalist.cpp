// Tests of the inaturalist dataset on COCO-style JSON and list fixtures in the iNat-2018
// layout.
#include "inaturalist.hpp"

#include "common/testing.hpp"

#include <tailor/testing/readme_table.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

using tailor::Split;
using tailor::image::testing::fetch;
using tailor::image::testing::TempDir;
using tailor::image::testing::write_bytes;
using tailor::image::testing::write_jpeg;
using tailor::plugins::Inaturalist;

namespace {

struct Entry {
  int64_t id;
  std::string file;
  int64_t category;
};

// A COCO-style annotation file with every field of the official schema, one entry per line.
std::string inat_json(const std::vector<Entry>& entries, const std::vector<int64_t>& categories,
                      bool shuffle_annotations = false) {
  std::string s =
      "{\n\"info\": {\"year\": 2018, \"version\": \"1.0\", \"description\": "
      "\"fixture\", \"contributor\": \"x\", \"url\": \"u\", \"date_created\": "
      "\"2018-01-01\"},\n\"images\": [\n";
  for (size_t i = 0; i < entries.size(); ++i)
    s += "{\"id\": " + std::to_string(entries[i].id) +
         ", \"width\": 40, \"height\": 30, \"file_name\": \"" + entries[i].file +
         "\", \"license\": 3, \"rights_holder\": \"someone\"}" +
         (i + 1 < entries.size() ? ",\n" : "\n");
  s += "],\n\"categories\": [\n";
  for (size_t i = 0; i < categories.size(); ++i)
    s += "{\"id\": " + std::to_string(categories[i]) + ", \"name\": \"species_" +
         std::to_string(categories[i]) +
         "\", \"supercategory\": \"Plantae\", \"kingdom\": \"Plantae\", \"phylum\": \"p\", "
         "\"class\": \"c\", \"order\": \"o\", \"family\": \"f\", \"genus\": \"g\"}" +
         (i + 1 < categories.size() ? ",\n" : "\n");
  s += "],\n\"annotations\": [\n";
  std::vector<Entry> order = entries;
  if (shuffle_annotations) std::reverse(order.begin(), order.end());
  for (size_t i = 0; i < order.size(); ++i)
    s += "{\"id\": " + std::to_string(order[i].id) +
         ", \"image_id\": " + std::to_string(order[i].id) +
         ", \"category_id\": " + std::to_string(order[i].category) + "}" +
         (i + 1 < order.size() ? ",\n" : "\n");
  s += "],\n\"licenses\": [{\"id\": 3, \"name\": \"cc\", \"url\": \"u\"}]\n}\n";
  return s;
}

// Three categories with 4 / 3 / 2 train images and 1 val image each.
struct Fixture {
  TempDir dir{"inaturalist"};
  std::vector<Entry> train, val;
  std::vector<int64_t> categories = {0, 1, 2};

  explicit Fixture(std::vector<int64_t> ids = {0, 1, 2}, bool shuffle = false)
      : categories(std::move(ids)) {
    int64_t id = 100;
    for (size_t c = 0; c < categories.size(); ++c) {
      const std::string folder = "train_val2018/Plantae/" + std::to_string(categories[c]) + "/";
      for (size_t i = 0; i < 4 - c; ++i) {
        train.push_back({id, folder + "t" + std::to_string(id) + ".jpg", categories[c]});
        ++id;
      }
      val.push_back({id, folder + "v" + std::to_string(id) + ".jpg", categories[c]});
      ++id;
    }
    for (const auto* list : {&train, &val})
      for (const Entry& e : *list)
        write_jpeg(dir / e.file, static_cast<uint8_t>(50 * e.category), 90, 90);
    write_bytes(dir / "train2018.json", inat_json(train, categories, shuffle));
    write_bytes(dir / "val2018.json", inat_json(val, categories, shuffle));
  }

  Inaturalist::Options options() const {
    Inaturalist::Options o;
    o.root = dir.str();
    o.num_classes = 0;
    o.expected_train_counts = {};
    o.expected_test_counts = {};
    o.image.image_size = 16;
    o.image.resize = 18;
    return o;
  }
};

std::string error_of(const Inaturalist::Options& o) {
  try {
    Inaturalist d(o);
  } catch (const tailor::Error& e) {
    return e.what();
  }
  FAIL("expected tailor::Error");
  return {};
}

std::vector<int64_t> labels_of(const Inaturalist& d, Split split) {
  const at::Tensor t = d.labels(split);
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
}

}  // namespace

TEST_CASE("inaturalist defaults follow the iNat-2018 recipe", "[inaturalist]") {
  const Inaturalist::Options o;
  CHECK(o.format == Inaturalist::Options::Format::kJson);
  CHECK(o.train_json == "train2018.json");
  CHECK(o.val_split == Inaturalist::Options::ValSplit::kHoldout);
  CHECK(o.num_classes == 8142);
  CHECK(o.expected_train_counts == std::vector<int64_t>{437513, 1000, 2});
  CHECK(o.expected_test_counts == std::vector<int64_t>{24426, 3, 3});
  CHECK(o.image.color_jitter == 0.0);  // no ColorJitter for iNat
  CHECK(o.image.mean == std::vector<double>{0.466, 0.471, 0.380});
  CHECK(o.image.std_dev == std::vector<double>{0.195, 0.194, 0.192});
  CHECK_THAT(error_of(Inaturalist::Options{}), Catch::Contains("set [dataset] root"));
}

TEST_CASE("inaturalist reads the JSON annotations", "[inaturalist]") {
  Fixture fx;
  Inaturalist d(fx.options());  // val_split = holdout, val_per_class = 1
  CHECK(d.class_names() == std::vector<std::string>{"species_0", "species_1", "species_2"});
  CHECK(d.class_counts(Split::kTrain) == std::vector<int64_t>{3, 2, 1});
  CHECK(d.class_counts(Split::kVal) == std::vector<int64_t>{1, 1, 1});
  CHECK(d.class_counts(Split::kTest) == std::vector<int64_t>{1, 1, 1});
  // The hold-out takes the last image of each class in file order; train keeps file order.
  CHECK(d.samples(Split::kVal).path(0) == "train_val2018/Plantae/0/t103.jpg");
  CHECK(d.samples(Split::kTrain).path(3) == "train_val2018/Plantae/1/t105.jpg");
  CHECK(d.samples(Split::kVal).where(1) == (fx.dir / "train2018.json").string() + " images[6]");
  CHECK(labels_of(d, Split::kTest) == std::vector<int64_t>{0, 1, 2});
  CHECK(d.image_path(Split::kTest, 2) == (fx.dir / "train_val2018/Plantae/2/v111.jpg").string());
  const tailor::Batch b = fetch(d, Split::kTrain, {0, 5}, true, 3);
  CHECK(b.inputs.sizes() == at::IntArrayRef({2, 3, 16, 16}));
  CHECK(b.targets[1].item<int64_t>() == 2);

  Inaturalist::Options o = fx.options();
  o.val_split = Inaturalist::Options::ValSplit::kOfficial;
  Inaturalist official(o);
  CHECK(official.class_counts(Split::kTrain) == std::vector<int64_t>{4, 3, 2});
  CHECK(official.samples(Split::kVal).path(1) == official.samples(Split::kTest).path(1));
  o.val_split = Inaturalist::Options::ValSplit::kNone;
  Inaturalist none(o);
  CHECK(none.size(Split::kVal) == 0);
  CHECK(none.size(Split::kTrain) == 9);
  o.val_split = Inaturalist::Options::ValSplit::kHoldout;
  o.val_per_class = 2;
  CHECK_THAT(error_of(o),
             Catch::Contains("class 2 has 2 train images") && Catch::Contains("val_per_class"));
}

TEST_CASE("inaturalist maps category ids by rank and joins on image_id", "[inaturalist]") {
  Fixture fx({7, 2, 30}, /*shuffle=*/true);
  Inaturalist d(fx.options());
  // Ascending ids 2, 7, 30 become labels 0, 1, 2.
  CHECK(d.class_names() == std::vector<std::string>{"species_2", "species_7", "species_30"});
  CHECK(d.class_counts(Split::kTest) == std::vector<int64_t>{1, 1, 1});
  CHECK(labels_of(d, Split::kTest) == std::vector<int64_t>{1, 0, 2});
  CHECK(d.class_counts(Split::kTrain) == std::vector<int64_t>{2, 3, 1});
}

TEST_CASE("inaturalist reports malformed annotation files with positions", "[inaturalist]") {
  Fixture fx;
  const std::string path = (fx.dir / "train2018.json").string();
  std::string json = inat_json(fx.train, fx.categories);
  SECTION("broken syntax: line and column") {
    const size_t at = json.find("\"file_name\"", json.find("\"id\": 102"));
    json.replace(at, 11, "\"file_name\" \"x\" :");  // images[2] (line 6) lacks a colon
    write_bytes(path, json);
    CHECK_THAT(error_of(fx.options()), Catch::Contains(path + ":6:") && Catch::Contains("(byte ") &&
                                           Catch::Contains("re-download"));
  }
  SECTION("truncated file") {
    write_bytes(path, json.substr(0, json.size() / 2));
    CHECK_THAT(error_of(fx.options()), Catch::Contains(path + ":") && Catch::Contains("byte"));
  }
  SECTION("wrong type") {
    const size_t at = json.find("\"id\": 101");
    json.replace(at, 9, "\"id\": \"101\"");
    write_bytes(path, json);
    CHECK_THAT(error_of(fx.options()),
               Catch::Contains(path + ":5:") && Catch::Contains("images[1].id is not an integer"));
  }
  SECTION("missing field") {
    const size_t at = json.find("\"file_name\"", json.find("\"id\": 103"));
    json.replace(at, 11, "\"file_nom\"");
    write_bytes(path, json);
    CHECK_THAT(error_of(fx.options()), Catch::Contains("images[3] has no \"file_name\""));
  }
  SECTION("annotation of an unknown image") {
    const size_t at = json.find("\"image_id\": 105");
    json.replace(at, 15, "\"image_id\": 999");
    write_bytes(path, json);
    CHECK_THAT(error_of(fx.options()), Catch::Contains("refers to image id 999"));
  }
  SECTION("no annotations (a test2018-style file)") {
    write_bytes(path, "{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\"}]}");
    CHECK_THAT(error_of(fx.options()), Catch::Contains("has no \"annotations\" array"));
  }
}

TEST_CASE("inaturalist checks the published profile", "[inaturalist]") {
  Fixture fx;
  Inaturalist::Options o = fx.options();
  o.num_classes = 8142;
  CHECK_THAT(error_of(o), Catch::Contains("has 3 categories, expected num_classes = 8142"));
  o.num_classes = 0;
  o.expected_train_counts = {437513, 1000, 2};
  CHECK_THAT(error_of(o),
             Catch::Contains("train2018.json does not have the expected") &&
                 Catch::Contains("expected 437513 images, at most 1000 and at least 2") &&
                 Catch::Contains("expected_train_counts = []"));
  o.expected_train_counts = {9, 4, 2};
  o.expected_test_counts = {24426, 3, 3};
  CHECK_THAT(error_of(o), Catch::Contains("val2018.json does not have the expected") &&
                              Catch::Contains("expected_test_counts = []"));
}

TEST_CASE("inaturalist reads the list files of the long-tail repos", "[inaturalist]") {
  Fixture fx;
  std::string train, val;
  for (const auto& e : fx.train) train += e.file + " " + std::to_string(e.category) + "\n";
  for (const auto& e : fx.val) val += e.file + " " + std::to_string(e.category) + "\n";
  write_bytes(fx.dir / "iNaturalist18_train.txt", train);
  write_bytes(fx.dir / "iNaturalist18_val.txt", val);
  Inaturalist::Options o = fx.options();
  o.format = Inaturalist::Options::Format::kList;
  CHECK_THAT(error_of(o), Catch::Contains("iNaturalist18_train.txt is not the expected file") &&
                              Catch::Contains("git-blob:4accdb7584d2f0a5106c40a33ed6afa392189bcc"));
  o.train_list_sha256 = o.val_list_sha256 = {};
  o.val_split = Inaturalist::Options::ValSplit::kNone;
  Inaturalist d(o);
  CHECK(d.class_names() == std::vector<std::string>{"0", "1", "2"});
  CHECK(d.class_counts(Split::kTrain) == std::vector<int64_t>{4, 3, 2});
  CHECK(labels_of(d, Split::kTest) == std::vector<int64_t>{0, 1, 2});
}

TEST_CASE("inaturalist names the JSON entry of a damaged image", "[inaturalist]") {
  Fixture fx;
  const std::filesystem::path image = fx.dir / fx.val[1].file;
  const std::filesystem::path kept = fx.dir / "kept.jpg";
  std::filesystem::rename(image, kept);
  // Missing when the dataset is built: found before any training.
  CHECK_THROWS_WITH(Inaturalist(fx.options()), Catch::Contains("1 of") &&
                                                   Catch::Contains("test images do not exist") &&
                                                   Catch::Contains(fx.val[1].file) &&
                                                   Catch::Contains("val2018.json images[1]"));
  // Missing later: found when a batch needs it.
  std::filesystem::rename(kept, image);
  Inaturalist d(fx.options());
  std::filesystem::remove(image);
  CHECK_THROWS_WITH(fetch(d, Split::kTest, {1}, false, 0),
                    Catch::Contains(fx.val[1].file) && Catch::Contains("val2018.json images[1]") &&
                        Catch::Contains("on_corrupt"));
}

TEST_CASE("inaturalist README parameter table matches the options schema", "[inaturalist]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<Inaturalist::Options>());
}
