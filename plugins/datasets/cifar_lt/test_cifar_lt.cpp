// Unit tests of the cifar_lt dataset on fixtures generated in the CIFAR binary format.
#include "cifar_lt.hpp"
#include <tailor/random.hpp>

#include "../../../tests/support/batch_request.hpp"
#include "../../../tests/support/gpu.hpp"

#include <tailor/testing/readme_table.hpp>

#include <unistd.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using tailor::NumpyRandomState;
using tailor::Split;
using tailor::image::long_tail_counts;
using tailor::image::LongTailProfile;
using tailor::plugins::CifarLt;
using tailor::test::fetch;

namespace {

constexpr int64_t kSide = 32;
constexpr int64_t kPlane = kSide * kSide;

// A fresh directory under the system temp dir, removed at scope exit.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("cifar_lt_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

// Pixel (c, y, x) of fixture record r: not symmetric in y and x, so a transposed or HWC read
// shows; every value 0..255 occurs in every channel plane.
uint8_t pixel(int64_t r, int64_t c, int64_t y, int64_t x) {
  return static_cast<uint8_t>((r * 31 + c * 101 + y * 32 + x * 3 + (y * x) % 7) % 256);
}

// One binary record: label byte(s), then the R, G and B planes.
void append_record(std::vector<uint8_t>& out, int64_t r, std::vector<uint8_t> label_bytes) {
  out.insert(out.end(), label_bytes.begin(), label_bytes.end());
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < kSide; ++y)
      for (int64_t x = 0; x < kSide; ++x) out.push_back(pixel(r, c, y, x));
}

void write_bytes(const fs::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

constexpr int64_t kTestOffset = 100000;  // test record r has the pixels of record r + this

// CIFAR-10 fixture: `train` labels split over data_batch_1..5 (equal parts), `test` labels.
void write_cifar10(const fs::path& dir, const std::vector<int64_t>& train,
                   const std::vector<int64_t>& test) {
  REQUIRE(train.size() % 5 == 0);
  const size_t per_batch = train.size() / 5;
  for (size_t b = 0; b < 5; ++b) {
    std::vector<uint8_t> bytes;
    for (size_t i = b * per_batch; i < (b + 1) * per_batch; ++i)
      append_record(bytes, static_cast<int64_t>(i), {static_cast<uint8_t>(train[i])});
    write_bytes(dir / ("data_batch_" + std::to_string(b + 1) + ".bin"), bytes);
  }
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i < test.size(); ++i)
    append_record(bytes, kTestOffset + static_cast<int64_t>(i), {static_cast<uint8_t>(test[i])});
  write_bytes(dir / "test_batch.bin", bytes);
}

// CIFAR-100 fixture: train.bin and test.bin with coarse label fine / 5 and the fine label.
void write_cifar100(const fs::path& dir, const std::vector<int64_t>& train,
                    const std::vector<int64_t>& test) {
  for (const auto& [name, labels, offset] :
       {std::tuple{"train.bin", &train, int64_t{0}}, std::tuple{"test.bin", &test, kTestOffset}}) {
    std::vector<uint8_t> bytes;
    for (size_t i = 0; i < labels->size(); ++i)
      append_record(bytes, offset + static_cast<int64_t>(i),
                    {static_cast<uint8_t>((*labels)[i] / 5), static_cast<uint8_t>((*labels)[i])});
    write_bytes(dir / name, bytes);
  }
}

// Label of train position p in the fixtures: each run of C positions holds every class once.
std::vector<int64_t> interleaved_labels(int64_t num_classes, int64_t per_class) {
  std::vector<int64_t> labels;
  for (int64_t p = 0; p < num_classes * per_class; ++p)
    labels.push_back((7 * p + p / num_classes) % num_classes);
  return labels;
}

std::vector<int64_t> cyclic_labels(int64_t num_classes, int64_t count) {
  std::vector<int64_t> labels;
  for (int64_t p = 0; p < count; ++p) labels.push_back(p % num_classes);
  return labels;
}

CifarLt::Options options_for(const TempDir& dir, const std::string& variant = "cifar10") {
  CifarLt::Options o;
  o.root = dir.str();
  o.variant = o.kVariants.value(variant);
  return o;
}

std::string error_of(const CifarLt::Options& options) {
  try {
    CifarLt dataset(options);
  } catch (const tailor::Error& e) {
    return e.what();
  }
  return "";
}

float normalised(uint8_t v, int64_t c, const CifarLt::Options& o) {
  const float x = static_cast<float>(v) / 255.0f;
  return (x - static_cast<float>(o.mean[static_cast<size_t>(c)])) /
         static_cast<float>(o.std_dev[static_cast<size_t>(c)]);
}

int64_t sum(const std::vector<int64_t>& v) {
  return std::accumulate(v.begin(), v.end(), int64_t{0});
}

nlohmann::json load_json(const std::string& name) {
  const std::string path = std::string(TAILOR_SOURCE_DIR) + "/tests/golden/data/" + name;
  std::ifstream file(path);
  INFO("golden file " << path);
  REQUIRE(file.good());
  return nlohmann::json::parse(file);
}

}  // namespace

TEST_CASE("NumpyRandomState reproduces NumPy's legacy RandomState", "[cifar_lt][numpy]") {
  const nlohmann::json draws = load_json("cifar_lt_selection.json").at("draws");
  NumpyRandomState words(0);
  for (uint64_t expected : draws.at("uint32_seed0").get<std::vector<uint64_t>>())
    CHECK(words.next_uint32() == expected);
  // randint(0, 2**40): random_interval over 64-bit words (high word drawn first).
  NumpyRandomState wide(7);
  for (uint64_t expected : draws.at("interval_2pow40_seed7").get<std::vector<uint64_t>>())
    CHECK(wide.random_interval((uint64_t{1} << 40) - 1) == expected);
  NumpyRandomState top(4294967295u);
  std::vector<int64_t> perm(10);
  std::iota(perm.begin(), perm.end(), 0);
  top.shuffle(perm);
  CHECK(perm == draws.at("permutation10_seed4294967295").get<std::vector<int64_t>>());
  // np.random.seed(0); np.random.permutation(10)
  NumpyRandomState zero(0);
  std::iota(perm.begin(), perm.end(), 0);
  zero.shuffle(perm);
  CHECK(perm == std::vector<int64_t>{2, 8, 4, 9, 1, 6, 7, 3, 0, 5});
}

TEST_CASE("cifar_lt ldam selection equals NumPy's", "[cifar_lt][golden]") {
  const nlohmann::json golden = load_json("cifar_lt_selection.json");
  for (const auto& c : golden.at("cases")) {
    DYNAMIC_SECTION(c.at("name").get<std::string>()) {
      const int64_t num_classes = c.at("num_classes").get<int64_t>();
      const std::vector<int64_t> labels =
          interleaved_labels(num_classes, c.at("per_class").get<int64_t>());
      REQUIRE(labels == c.at("labels").get<std::vector<int64_t>>());
      CifarLt::Options o;
      o.imbalance_ratio = c.at("imbalance_ratio").get<double>();
      o.seed = c.at("seed").get<int64_t>();
      const double img_max = static_cast<double>(labels.size()) / static_cast<double>(num_classes);
      CHECK(long_tail_counts(LongTailProfile::kExp, img_max, o.imbalance_ratio, num_classes) ==
            c.at("counts").get<std::vector<int64_t>>());
      const CifarLt::Selection s = CifarLt::select(labels, num_classes, o);
      CHECK(s.train == c.at("selected").get<std::vector<int64_t>>());
      CHECK(s.val.empty());
    }
  }
}

TEST_CASE("cifar_lt class counts follow LDAM-DRW's formula", "[cifar_lt]") {
  auto min_of = [](const std::vector<int64_t>& v) { return *std::min_element(v.begin(), v.end()); };
  const auto c100 = long_tail_counts(LongTailProfile::kExp, 500.0, 100.0, 100);
  CHECK(sum(c100) == 10847);
  CHECK(min_of(c100) == 5);
  CHECK(std::vector<int64_t>(c100.begin(), c100.begin() + 3) ==
        std::vector<int64_t>{500, 477, 455});
  const auto c10 = long_tail_counts(LongTailProfile::kExp, 5000.0, 100.0, 10);
  CHECK(c10 == std::vector<int64_t>{5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50});
  CHECK(sum(c10) == 12406);

  // Totals of methods.md 1.1 / peers_and_datasets.md B.1.3 for every published ratio.
  const std::vector<std::tuple<double, int64_t, int64_t, int64_t, int64_t>> table = {
      {10, 20431, 500, 19573, 50},
      {50, 13996, 100, 12608, 10},
      {100, 12406, 50, 10847, 5},
      {200, 11203, 25, 9502, 2}};
  for (const auto& [rho, total10, min10, total100, min100] : table) {
    INFO("rho " << rho);
    const auto ten = long_tail_counts(LongTailProfile::kExp, 5000.0, rho, 10);
    const auto hundred = long_tail_counts(LongTailProfile::kExp, 500.0, rho, 100);
    CHECK(sum(ten) == total10);
    CHECK(min_of(ten) == min10);
    CHECK(sum(hundred) == total100);
    CHECK(min_of(hundred) == min100);
  }
  // Many / medium / few classes (> 100, 20..100, < 20) of CIFAR-100-LT at rho = 100.
  int64_t many = 0, medium = 0, few = 0;
  for (int64_t n : c100) (n > 100 ? many : n >= 20 ? medium : few) += 1;
  CHECK(std::tuple{many, medium, few} == std::tuple{35, 35, 30});

  // CDB-loss: 475 per class after the hold-out, first n_i in file order.
  const auto cdb100 = long_tail_counts(LongTailProfile::kExp, 475.0, 100.0, 100);
  CHECK(sum(cdb100) == 10302);
  CHECK(min_of(cdb100) == 4);
  const auto cdb10 = long_tail_counts(LongTailProfile::kExp, 475.0, 10.0, 100);
  CHECK(sum(cdb10) == 18591);
  CHECK(min_of(cdb10) == 47);

  CHECK(long_tail_counts(LongTailProfile::kStep, 5000.0, 100.0, 10) ==
        std::vector<int64_t>{5000, 5000, 5000, 5000, 5000, 50, 50, 50, 50, 50});
}

TEST_CASE("cifar_lt cdb protocol: val hold-out, then the first n_i in file order", "[cifar_lt]") {
  // Class c sits at c, c + 10, ..., c + 390 (40 per class); 5 held out per class.
  const std::vector<int64_t> labels = cyclic_labels(10, 400);
  CifarLt::Options o;
  o.protocol = CifarLt::Options::Protocol::kCdb;
  o.imbalance_ratio = 10.0;
  o.val_per_class = 5;
  const CifarLt::Selection s = CifarLt::select(labels, 10, o);
  const std::vector<int64_t> counts = long_tail_counts(LongTailProfile::kExp, 35.0, 10.0, 10);
  CHECK(counts == std::vector<int64_t>{35, 27, 20, 16, 12, 9, 7, 5, 4, 3});
  std::vector<int64_t> train, val;
  for (int64_t c = 0; c < 10; ++c) {
    for (int64_t k = 0; k < counts[static_cast<size_t>(c)]; ++k) train.push_back(c + 10 * k);
    for (int64_t k = 35; k < 40; ++k) val.push_back(c + 10 * k);
  }
  CHECK(s.train == train);
  CHECK(s.val == val);

  SECTION("ldam with a hold-out shuffles what is left") {
    o.protocol = CifarLt::Options::Protocol::kLdam;
    o.val_split = CifarLt::Options::ValSplit::kHoldout;
    const CifarLt::Selection h = CifarLt::select(labels, 10, o);
    CHECK(h.val == val);
    REQUIRE(h.train.size() == train.size());
    std::set<int64_t> seen(h.train.begin(), h.train.end());
    for (int64_t v : val) CHECK(seen.count(v) == 0);
    CHECK(h.train != train);
    // Class 0 keeps all of its 35 remaining images, in NumPy's shuffled order.
    std::vector<int64_t> class0;
    for (int64_t k = 0; k < 35; ++k) class0.push_back(10 * k);
    NumpyRandomState rng(0);
    rng.shuffle(class0);
    CHECK(std::vector<int64_t>(h.train.begin(), h.train.begin() + 35) == class0);
  }
  SECTION("auto holds out only for cdb; none keeps everything") {
    o.protocol = CifarLt::Options::Protocol::kNone;
    const CifarLt::Selection all = CifarLt::select(labels, 10, o);
    CHECK(all.val.empty());
    CHECK(all.train.size() == 400);
    o.val_split = CifarLt::Options::ValSplit::kHoldout;
    CHECK(CifarLt::select(labels, 10, o).train.size() == 350);
  }
  SECTION("cdb refuses val_split none") {
    o.val_split = CifarLt::Options::ValSplit::kNone;
    CHECK_THROWS_WITH(CifarLt::select(labels, 10, o),
                      Catch::Contains("protocol \"cdb\"") && Catch::Contains("val_split"));
  }
  SECTION("a class too small for the profile is an error naming it") {
    std::vector<int64_t> short_labels = labels;
    short_labels[0] = short_labels[10] = 1;  // class 0: 38 images, 33 after the hold-out < 35
    CHECK_THROWS_WITH(CifarLt::select(short_labels, 10, o),
                      Catch::Contains("class 0") && Catch::Contains("asks for"));
  }
}

TEST_CASE("cifar_lt reads CIFAR-10 binary records", "[cifar_lt]") {
  TempDir dir;
  const std::vector<int64_t> train = interleaved_labels(10, 30);  // 300 records, 60 per batch
  const std::vector<int64_t> test = {3, 8, 8, 0, 6, 6, 1, 6, 3, 1, 5, 2};
  write_cifar10(dir.path(), train, test);
  CifarLt::Options o = options_for(dir);
  o.protocol = CifarLt::Options::Protocol::kNone;
  o.augment = CifarLt::Options::Augment::kNone;
  const CifarLt d(o);

  CHECK(d.class_names().size() == 10);
  CHECK(d.class_names()[0] == "airplane");
  CHECK(d.class_names()[9] == "truck");
  CHECK(d.sample_shape() == std::vector<int64_t>{3, 32, 32});
  CHECK(d.size(Split::kTrain) == 300);
  CHECK(d.size(Split::kVal) == 0);
  CHECK(d.size(Split::kTest) == 12);
  const at::Tensor test_labels = d.labels(Split::kTest);
  CHECK(std::vector<int64_t>(test_labels.data_ptr<int64_t>(),
                             test_labels.data_ptr<int64_t>() + 12) == test);

  // protocol none: class-major, file order within a class.
  const auto& index = d.train_file_indices();
  REQUIRE(index.size() == 300);
  const at::Tensor train_labels = d.labels(Split::kTrain);
  for (size_t i = 0; i < index.size(); ++i) {
    CHECK(train_labels.data_ptr<int64_t>()[i] == train[static_cast<size_t>(index[i])]);
    if (i > 0 && train_labels.data_ptr<int64_t>()[i] == train_labels.data_ptr<int64_t>()[i - 1])
      CHECK(index[i] > index[i - 1]);
  }

  // Pixels in CHW order, from the right record of the right batch file.
  const int64_t in_batch3 = std::find(index.begin(), index.end(), 131) - index.begin();
  const std::vector<int64_t> picks = {0, in_batch3, 299};
  const tailor::Batch b = fetch(d, Split::kTrain, picks, /*augment=*/false, 0);
  CHECK(b.inputs.sizes() == at::IntArrayRef({3, 3, 32, 32}));
  for (size_t k = 0; k < picks.size(); ++k) {
    const int64_t r = index[static_cast<size_t>(picks[k])];
    CHECK(b.targets[static_cast<int64_t>(k)].item<int64_t>() == train[static_cast<size_t>(r)]);
    for (auto [c, y, x] : {std::tuple{0, 0, 0}, {1, 2, 5}, {2, 31, 7}, {0, 5, 2}, {2, 31, 31}}) {
      INFO("record " << r << " c " << c << " y " << y << " x " << x);
      CHECK(b.inputs[static_cast<int64_t>(k)][c][y][x].item<float>() ==
            normalised(pixel(r, c, y, x), c, o));
    }
  }
  const tailor::Batch t = fetch(d, Split::kTest, {4}, false, 0);
  CHECK(t.targets[0].item<int64_t>() == 6);
  CHECK(t.inputs[0][1][2][5].item<float>() == normalised(pixel(kTestOffset + 4, 1, 2, 5), 1, o));
  CHECK_THROWS_WITH(fetch(d, Split::kTest, {12}, false, 0),
                    Catch::Contains("index 12 is out of range for split 'test' of size 12"));
}

TEST_CASE("cifar_lt normalises exactly as torchvision's ToTensor + Normalize",
          "[cifar_lt][golden]") {
  const nlohmann::json golden = load_json("cifar_lt_autoaugment.json").at("normalize");
  TempDir dir;
  write_cifar10(dir.path(), cyclic_labels(10, 10), {0});
  CifarLt::Options o = options_for(dir);
  o.protocol = CifarLt::Options::Protocol::kNone;
  o.mean = golden.at("mean").get<std::vector<double>>();
  o.std_dev = golden.at("std").get<std::vector<double>>();
  const CifarLt d(o);
  const auto lut = golden.at("lut").get<std::vector<std::vector<double>>>();
  // Record 0 covers every value 0..255 in each channel plane.
  const int64_t position =
      std::find(d.train_file_indices().begin(), d.train_file_indices().end(), 0) -
      d.train_file_indices().begin();
  const tailor::Batch b = fetch(d, Split::kTrain, {position}, false, 0);
  const float* p = b.inputs.data_ptr<float>();
  int64_t mismatches = 0;
  std::set<int> covered;
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < kSide; ++y)
      for (int64_t x = 0; x < kSide; ++x) {
        const uint8_t v = pixel(0, c, y, x);
        covered.insert(v);
        if (p[c * kPlane + y * kSide + x] != static_cast<float>(lut[static_cast<size_t>(c)][v]))
          ++mismatches;
      }
  CHECK(covered.size() == 256);
  CHECK(mismatches == 0);
}

TEST_CASE("cifar_lt reads CIFAR-100 fine labels", "[cifar_lt]") {
  TempDir dir;
  const std::vector<int64_t> train = interleaved_labels(100, 3);
  write_cifar100(dir.path(), train, {99, 0, 42});
  CifarLt::Options o = options_for(dir, "cifar100");
  o.protocol = CifarLt::Options::Protocol::kNone;
  const CifarLt d(o);
  CHECK(d.class_names().size() == 100);
  CHECK(d.class_names()[0] == "apple");
  CHECK(d.class_names()[99] == "worm");
  CHECK(d.size(Split::kTrain) == 300);
  CHECK(d.labels(Split::kTest).equal(at::tensor({99, 0, 42}, at::kLong)));
  CHECK(d.class_counts(Split::kTrain) == std::vector<int64_t>(100, 3));
  const tailor::Batch t = fetch(d, Split::kTest, {2}, false, 0);
  CHECK(t.inputs[0][2][9][30].item<float>() == normalised(pixel(kTestOffset + 2, 2, 9, 30), 2, o));

  SECTION("ldam on the file: counts of the exp profile with img_max = len / C") {
    o.protocol = CifarLt::Options::Protocol::kLdam;
    o.imbalance_ratio = 3.0;
    const CifarLt lt(o);
    CHECK(lt.class_counts(Split::kTrain) == long_tail_counts(LongTailProfile::kExp, 3.0, 3.0, 100));
  }
}

TEST_CASE("cifar_lt cdb protocol on files: val split and artefact", "[cifar_lt]") {
  TempDir dir;
  write_cifar10(dir.path(), cyclic_labels(10, 400), {1, 2});
  CifarLt::Options o = options_for(dir);
  o.protocol = CifarLt::Options::Protocol::kCdb;
  o.val_per_class = 5;
  o.imbalance_ratio = 10.0;
  const CifarLt d(o);
  CHECK(d.size(Split::kVal) == 50);
  CHECK(d.class_counts(Split::kVal) == std::vector<int64_t>(10, 5));
  CHECK(d.class_counts(Split::kTrain) == std::vector<int64_t>{35, 27, 20, 16, 12, 9, 7, 5, 4, 3});
  CHECK(d.val_file_indices().front() == 350);

  TempDir out;
  d.write_artifacts(out.str());
  std::ifstream csv(out.path() / "cifar_lt_selection.csv");
  REQUIRE(csv.good());
  std::string line;
  std::getline(csv, line);
  CHECK(line == "split,index_in_file,label");
  std::getline(csv, line);
  CHECK(line == "train,0,0");
  int64_t train_rows = 1, val_rows = 0;
  std::string last;
  while (std::getline(csv, line)) {
    (line.rfind("val,", 0) == 0 ? val_rows : train_rows) += 1;
    last = line;
  }
  CHECK(train_rows == d.size(Split::kTrain));
  CHECK(val_rows == 50);
  CHECK(last == "val,399,9");
  CHECK_FALSE(fs::exists(out.path() / "cifar_lt_selection.csv.tmp"));
}

TEST_CASE("cifar_lt augmentation: crop/flip geometry, Cutout, determinism", "[cifar_lt]") {
  TempDir dir;
  write_cifar10(dir.path(), cyclic_labels(10, 200), {0});
  CifarLt::Options o = options_for(dir);
  o.protocol = CifarLt::Options::Protocol::kNone;
  const CifarLt d(o);
  const std::vector<int64_t> picks = {0, 5, 17, 33, 150, 199, 3, 99};

  SECTION("every sample is a zero-padded 4-pixel shift, mirrored or not, of its image") {
    const tailor::Batch clean = fetch(d, Split::kTrain, picks, false, 0);
    int mirrored = 0, shifted = 0;
    for (uint64_t seed : {1u, 2u, 3u}) {
      const tailor::Batch b = fetch(d, Split::kTrain, picks, true, seed);
      for (int64_t k = 0; k < static_cast<int64_t>(picks.size()); ++k) {
        const float* src = clean.inputs.data_ptr<float>() + k * 3 * kPlane;
        const float* got = b.inputs.data_ptr<float>() + k * 3 * kPlane;
        bool found = false;
        for (int64_t top = -4; top <= 4 && !found; ++top)
          for (int64_t left = -4; left <= 4 && !found; ++left)
            for (bool mirror : {false, true}) {
              bool same = true;
              for (int64_t c = 0; c < 3 && same; ++c)
                for (int64_t y = 0; y < kSide && same; ++y)
                  for (int64_t x = 0; x < kSide && same; ++x) {
                    const int64_t sy = y + top, sx = (mirror ? kSide - 1 - x : x) + left;
                    const bool inside = sy >= 0 && sy < kSide && sx >= 0 && sx < kSide;
                    const float expected =
                        inside ? src[c * kPlane + sy * kSide + sx] : normalised(0, c, o);
                    same = got[c * kPlane + y * kSide + x] == expected;
                  }
              if (same) {
                found = true;
                mirrored += mirror;
                shifted += top != 0 || left != 0;
                break;
              }
            }
        CHECK(found);
      }
    }
    CHECK(mirrored > 0);
    CHECK(mirrored < 24);
    CHECK(shifted > 0);
  }

  SECTION("Cutout zeroes one clipped square of the normalised image") {
    CifarLt::Options co = o;
    co.augment = CifarLt::Options::Augment::kNone;
    co.cutout = 8;
    const CifarLt cut(co);
    const tailor::Batch clean = fetch(cut, Split::kTrain, picks, false, 0);
    const tailor::Batch b = fetch(cut, Split::kTrain, picks, true, 11);
    for (int64_t k = 0; k < static_cast<int64_t>(picks.size()); ++k) {
      const at::Tensor zero = b.inputs[k] == 0;
      const at::Tensor rows = zero[0].any(1), cols = zero[0].any(0);
      const int64_t h = rows.sum().item<int64_t>(), w = cols.sum().item<int64_t>();
      CHECK(h >= 4);
      CHECK(h <= 8);
      CHECK(w >= 4);
      CHECK(w <= 8);
      CHECK(zero.sum().item<int64_t>() == 3 * h * w);  // a full rectangle in every channel
      CHECK(at::equal(b.inputs[k].masked_fill(zero, 0), clean.inputs[k].masked_fill(zero, 0)));
    }
  }

  SECTION("batches depend only on (seed, position), on any thread") {
    CifarLt::Options all = o;
    all.autoaugment = true;
    all.cutout = 16;
    const CifarLt full(all);
    const tailor::Batch a = fetch(full, Split::kTrain, picks, true, 42);
    CHECK(at::equal(a.inputs, fetch(full, Split::kTrain, picks, true, 42).inputs));
    CHECK_FALSE(at::equal(a.inputs, fetch(full, Split::kTrain, picks, true, 43).inputs));
    // Evaluation batches ignore the augmentation options entirely.
    CHECK(at::equal(fetch(full, Split::kTrain, picks, false, 1).inputs,
                    fetch(d, Split::kTrain, picks, false, 2).inputs));
    std::vector<at::Tensor> results(4);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < results.size(); ++t)
      threads.emplace_back(
          [&, t] { results[t] = fetch(full, Split::kTrain, picks, true, 42).inputs; });
    for (auto& t : threads) t.join();
    for (const auto& r : results) CHECK(at::equal(r, a.inputs));
  }
}

TEST_CASE("cifar_lt batched augmentation equals the per-sample one bit for bit", "[cifar_lt]") {
  TempDir dir;
  write_cifar10(dir.path(), cyclic_labels(10, 200), {0});
  CifarLt::Options o = options_for(dir);
  o.protocol = CifarLt::Options::Protocol::kNone;
  const std::vector<int64_t> picks = {0, 5, 17, 33, 150, 199, 3, 99, 5};
  auto request = [&](bool augment, uint64_t seed) {
    return tailor::test::batch_request(Split::kTrain, picks, augment, seed);
  };
  const auto gpu = tailor::test::gpu_if_present();
  if (!gpu) WARN("no GPU: the batched augmentation is checked on the CPU only");
  auto check_equal = [&](const CifarLt& d) {
    for (uint64_t seed : {1u, 2u, 77u}) {
      const at::Tensor clean = d.batch(request(false, seed)).inputs;
      const at::Tensor want = d.batch(request(true, seed)).inputs;
      CHECK(at::equal(d.augment_batch(request(true, seed), clean), want));
      // Channels-last input (the trainer's format) gives the same values.
      const at::Tensor cl = clean.contiguous(at::MemoryFormat::ChannelsLast);
      CHECK(at::equal(d.augment_batch(request(true, seed), cl), want));
      // On the GPU, where augment_on = "device" is meant to run, too.
      if (gpu) CHECK(at::equal(d.augment_batch(request(true, seed), cl.to(*gpu)).cpu(), want));
      // The input is left untouched.
      CHECK(at::equal(clean, d.batch(request(false, seed)).inputs));
    }
  };
  SECTION("crop + flip") { check_equal(CifarLt(o)); }
  SECTION("crop + flip + Cutout") {
    o.cutout = 16;
    check_equal(CifarLt(o));
  }
  SECTION("Cutout alone") {
    o.augment = CifarLt::Options::Augment::kNone;
    o.cutout = 8;
    check_equal(CifarLt(o));
  }
  SECTION("no augmentation is the identity") {
    o.augment = CifarLt::Options::Augment::kNone;
    const CifarLt d(o);
    const at::Tensor clean = d.batch(request(false, 5)).inputs;
    CHECK(at::equal(d.augment_batch(request(true, 5), clean), clean));
  }
  SECTION("AutoAugment is refused with the fix") {
    o.autoaugment = true;
    const CifarLt d(o);
    const at::Tensor clean = d.batch(request(false, 5)).inputs;
    CHECK_THROWS_WITH(d.augment_batch(request(true, 5), clean),
                      Catch::Contains("autoaugment") && Catch::Contains("augment_on"));
  }
  SECTION("a batch of the wrong size is refused") {
    const CifarLt d(o);
    const at::Tensor clean = d.batch(request(false, 5)).inputs;
    CHECK_THROWS_WITH(d.augment_batch(request(true, 5), clean.narrow(0, 0, 3)),
                      Catch::Contains("augment_batch"));
  }
}

TEST_CASE("cifar_lt rejects bad files with a clear message", "[cifar_lt]") {
  TempDir dir;
  const std::vector<int64_t> train = cyclic_labels(10, 50);
  write_cifar10(dir.path(), train, {0, 1});
  CifarLt::Options o = options_for(dir);
  o.protocol = CifarLt::Options::Protocol::kNone;
  REQUIRE(error_of(o).empty());

  SECTION("missing root") {
    o.root = "";
    CHECK_THAT(error_of(o),
               Catch::Contains("root is not set") && Catch::Contains("cifar-10-batches-bin"));
  }
  SECTION("missing file") {
    fs::remove(dir.path() / "data_batch_4.bin");
    CHECK_THAT(error_of(o), Catch::Contains((dir.path() / "data_batch_4.bin").string()) &&
                                Catch::Contains("not found") &&
                                Catch::Contains("cifar-10-binary.tar.gz"));
  }
  SECTION("the other variant's files") {
    CHECK_THAT(error_of(options_for(dir, "cifar100")),
               Catch::Contains("train.bin not found") && Catch::Contains("variant = \"cifar10\""));
  }
  SECTION("truncated file") {
    fs::resize_file(dir.path() / "data_batch_3.bin", 10 * 3073 - 1);
    CHECK_THAT(error_of(o), Catch::Contains("data_batch_3.bin has 30729 bytes") &&
                                Catch::Contains("3073-byte record") &&
                                Catch::Contains("truncated or not the binary version"));
  }
  SECTION("a train file cut at a record boundary") {
    fs::resize_file(dir.path() / "data_batch_3.bin", 9 * 3073);
    CHECK_THAT(error_of(o), Catch::Contains("data_batch_3.bin holds 9 records") &&
                                Catch::Contains("data_batch_1.bin holds 10") &&
                                Catch::Contains("re-extract cifar-10-binary.tar.gz"));
  }
  SECTION("records of the wrong size") {
    // Two CIFAR-100 records (3074 bytes each) where CIFAR-10 records are expected.
    write_bytes(dir.path() / "test_batch.bin", std::vector<uint8_t>(2 * 3074, 1));
    CHECK_THAT(error_of(o), Catch::Contains("test_batch.bin has 6148 bytes") &&
                                Catch::Contains("not the binary version"));
  }
  SECTION("label out of range") {
    std::vector<int64_t> bad = train;
    bad[17] = 12;  // 10 records per batch file: data_batch_2.bin, record 7
    write_cifar10(dir.path(), bad, {0, 1});
    CHECK_THAT(error_of(o), Catch::Contains("data_batch_2.bin record 7 has label 12") &&
                                Catch::Contains("expected 0..9"));
  }
  SECTION("CIFAR-100 fine label out of range") {
    TempDir c100;
    write_cifar100(c100.path(), cyclic_labels(100, 100), {0});
    std::vector<uint8_t> bytes;
    append_record(bytes, 0, {19, 100});
    write_bytes(c100.path() / "test.bin", bytes);
    CHECK_THAT(error_of(options_for(c100, "cifar100")),
               Catch::Contains("test.bin record 0 has fine label 100") &&
                   Catch::Contains("expected 0..99"));
  }
  SECTION("mean and std need three values") {
    o.mean = {0.5};
    CHECK_THAT(error_of(o), Catch::Contains("mean and std need 3 values"));
  }
}

TEST_CASE("cifar_lt checks record counts against the official release", "[cifar_lt]") {
  using F = CifarLt::FileRecords;
  const std::vector<F> batches(5, F{"data_batch_n.bin", 10000});
  CHECK(CifarLt::check_record_counts(batches, {"test_batch.bin", 10000}, 10).empty());
  // A test file cut at a record boundary next to complete train files.
  CHECK_THROWS_WITH(CifarLt::check_record_counts(batches, {"test_batch.bin", 9999}, 10),
                    Catch::Contains("test_batch.bin holds 9999 records, not the official 10000"));
  // Train files cut alike next to a complete test file.
  CHECK_THROWS_WITH(
      CifarLt::check_record_counts(std::vector<F>(5, F{"b.bin", 9000}), {"t.bin", 10000}, 10),
      Catch::Contains("b.bin holds 9000 records, not the official 10000"));
  CHECK_THROWS_WITH(CifarLt::check_record_counts({{"train.bin", 49999}}, {"test.bin", 10000}, 100),
                    Catch::Contains("train.bin holds 49999 records, not the official 50000"));
  CHECK_THROWS_WITH(CifarLt::check_record_counts({{"train.bin", 50000}}, {"test.bin", 100}, 100),
                    Catch::Contains("test.bin holds 100 records"));
  // Consistent and smaller than the release: a subset or a fixture, read with a note.
  CHECK_THAT(CifarLt::check_record_counts(std::vector<F>(5, F{"b.bin", 12}), {"t.bin", 3}, 10),
             Catch::Contains("60 train and 3 test records, fewer than the official 50000"));
}

TEST_CASE("cifar_lt README parameter table matches the options schema", "[cifar_lt]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<CifarLt::Options>());
}
