// Unit tests of the idx_lt dataset on generated IDX fixtures (and on Debian's Fashion-MNIST).
#include "idx_lt.hpp"

#include "../../../tests/support/batch_request.hpp"
#include "../../../tests/support/gpu.hpp"

#include <tailor/testing/readme_table.hpp>

#include <unistd.h>
#include <zlib.h>
#include <catch2/catch.hpp>
#include <tailor/random.hpp>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using tailor::Split;
using tailor::plugins::IdxLt;
using tailor::test::fetch;

namespace {

constexpr int64_t kClasses = 10;
constexpr int64_t kPerClass = 20;  // train images per class; test has 3 per class
constexpr int64_t kHeight = 6;     // not square, so a swapped H/W shows
constexpr int64_t kWidth = 5;

// A fresh directory under the system temp dir, removed at scope exit.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("idx_lt_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
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

uint8_t pixel(int64_t image, int64_t y, int64_t x) {
  return static_cast<uint8_t>((image * 7 + y * 5 + x * 3) % 256);
}

std::vector<uint8_t> idx_bytes(uint32_t magic, const std::vector<uint32_t>& dims,
                               const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out;
  auto put32 = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
  };
  put32(magic);
  for (uint32_t d : dims) put32(d);
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

void write_file(const fs::path& path, const std::vector<uint8_t>& bytes, bool gz) {
  if (gz) {
    gzFile f = gzopen(path.string().c_str(), "wb");
    REQUIRE(f != nullptr);
    REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) ==
            static_cast<int>(bytes.size()));
    REQUIRE(gzclose(f) == Z_OK);
  } else {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  }
}

std::vector<uint8_t> images_of(int64_t n, int64_t offset) {
  std::vector<uint8_t> data;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t y = 0; y < kHeight; ++y)
      for (int64_t x = 0; x < kWidth; ++x) data.push_back(pixel(offset + i, y, x));
  return data;
}

// Train: image i has label i % 10 (so class c sits at c, c+10, ..., c+190). Test: 30 images
// with labels 9 - i % 10 and pixels of images 1000...
struct Fixture {
  TempDir dir;
  std::vector<uint8_t> train_labels;
  std::vector<uint8_t> test_labels;
  explicit Fixture(bool gz = true) {
    const int64_t n = kClasses * kPerClass;
    for (int64_t i = 0; i < n; ++i) train_labels.push_back(static_cast<uint8_t>(i % kClasses));
    for (int64_t i = 0; i < 3 * kClasses; ++i)
      test_labels.push_back(static_cast<uint8_t>(kClasses - 1 - i % kClasses));
    const std::string ext = gz ? ".gz" : "";
    write_file(dir.path() / ("train-images-idx3-ubyte" + ext),
               idx_bytes(2051, {uint32_t(n), kHeight, kWidth}, images_of(n, 0)), gz);
    write_file(dir.path() / ("train-labels-idx1-ubyte" + ext),
               idx_bytes(2049, {uint32_t(n)}, train_labels), gz);
    write_file(dir.path() / ("t10k-images-idx3-ubyte" + ext),
               idx_bytes(2051, {3 * kClasses, kHeight, kWidth}, images_of(3 * kClasses, 1000)), gz);
    write_file(dir.path() / ("t10k-labels-idx1-ubyte" + ext),
               idx_bytes(2049, {3 * kClasses}, test_labels), gz);
  }
  IdxLt::Options options() const {
    IdxLt::Options o;
    o.root = dir.str();
    o.imbalance_ratio = 10.0;
    o.val_per_class = 2;
    return o;
  }
};

std::string error_of(const IdxLt::Options& options) {
  try {
    IdxLt dataset(options);
  } catch (const tailor::Error& e) {
    return e.what();
  }
  return "";
}

float normalised(uint8_t v, const IdxLt::Options& o) {
  return static_cast<float>((v / 255.0 - o.mean) / o.std_dev);
}

const std::vector<int64_t> kExpCounts = {18, 13, 10, 8, 6, 5, 3, 3, 2, 1};  // 18*(1/10)^(i/9)

}  // namespace

TEST_CASE("the selection shuffle reproduces NumPy's legacy RandomState shuffle", "[idx_lt]") {
  // np.random.seed(s); a = np.arange(10); np.random.shuffle(a)
  const std::vector<std::pair<uint32_t, std::vector<int64_t>>> cases = {
      {0, {2, 8, 4, 9, 1, 6, 7, 3, 0, 5}}, {42, {8, 1, 5, 0, 7, 2, 9, 4, 3, 6}}};
  for (const auto& [seed, expected] : cases) {
    std::vector<int64_t> v = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    tailor::NumpyRandomState rng(seed);
    rng.shuffle(v);
    CHECK(v == expected);
  }
  std::vector<int64_t> empty, one = {7};
  tailor::NumpyRandomState rng(0);
  rng.shuffle(empty);
  rng.shuffle(one);
  CHECK(one == std::vector<int64_t>{7});
}

TEST_CASE("idx_lt loads splits, labels and shapes", "[idx_lt]") {
  Fixture fx;
  IdxLt d(fx.options());
  CHECK(d.sample_shape() == std::vector<int64_t>{1, kHeight, kWidth});
  REQUIRE(d.class_names().size() == 10);
  CHECK(d.class_names()[0] == "T-shirt/top");
  CHECK(d.class_names()[9] == "Ankle boot");
  CHECK(d.size(Split::kTrain) == 69);
  CHECK(d.size(Split::kVal) == 20);
  CHECK(d.size(Split::kTest) == 30);

  const at::Tensor test = d.labels(Split::kTest);
  CHECK(test.scalar_type() == at::kLong);
  for (int64_t i = 0; i < 30; ++i) CHECK(test[i].item<int64_t>() == fx.test_labels[i]);
  // Train/val labels are those of the file positions they were drawn from.
  const at::Tensor train = d.labels(Split::kTrain);
  for (size_t i = 0; i < d.train_file_indices().size(); ++i)
    CHECK(train[static_cast<int64_t>(i)].item<int64_t>() == d.train_file_indices()[i] % 10);

  IdxLt::Options digits = fx.options();
  digits.class_names.clear();
  IdxLt d2(digits);
  CHECK(d2.class_names() ==
        std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"});
}

TEST_CASE("idx_lt finds files with or without the .gz suffix", "[idx_lt]") {
  Fixture plain(/*gz=*/false);  // files without .gz; options name them with .gz
  IdxLt d(plain.options());
  CHECK(d.size(Split::kTest) == 30);

  Fixture gz;
  IdxLt::Options o = gz.options();
  o.train_images = "train-images-idx3-ubyte";  // without .gz; the file has it
  CHECK(IdxLt(o).size(Split::kTrain) == 69);
}

TEST_CASE("idx_lt normalises pixels exactly without augmentation", "[idx_lt]") {
  Fixture fx;
  const IdxLt::Options o = fx.options();
  IdxLt d(o);
  tailor::Batch t = fetch(d, Split::kTest, {3, 0}, /*augment=*/false, 1);
  REQUIRE(t.inputs.sizes() == at::IntArrayRef({2, 1, kHeight, kWidth}));
  CHECK(t.inputs.scalar_type() == at::kFloat);
  CHECK(t.targets.scalar_type() == at::kLong);
  CHECK(t.targets[0].item<int64_t>() == fx.test_labels[3]);
  for (int64_t y = 0; y < kHeight; ++y)
    for (int64_t x = 0; x < kWidth; ++x)
      CHECK(t.inputs[0][0][y][x].item<float>() == normalised(pixel(1003, y, x), o));
  // A known value: pixel (0, 0) of test image 3 is (1003 * 7) % 256 = 109.
  CHECK(t.inputs[0][0][0][0].item<float>() ==
        Approx((109 / 255.0 - 0.2860) / 0.3530).epsilon(1e-6));

  // Train position p shows the train-file image it was selected from.
  const int64_t p = 5;
  const int64_t file_pos = d.train_file_indices()[p];
  tailor::Batch b = fetch(d, Split::kTrain, {p}, false, 0);
  CHECK(b.targets[0].item<int64_t>() == file_pos % 10);
  for (int64_t y = 0; y < kHeight; ++y)
    for (int64_t x = 0; x < kWidth; ++x)
      CHECK(b.inputs[0][0][y][x].item<float>() == normalised(pixel(file_pos, y, x), o));
}

TEST_CASE("idx_lt exp profile, balanced val split and selection", "[idx_lt]") {
  Fixture fx;
  IdxLt d(fx.options());
  CHECK(d.class_counts(Split::kTrain) == kExpCounts);
  CHECK(d.class_counts(Split::kVal) == std::vector<int64_t>(10, 2));
  CHECK(d.class_counts(Split::kTest) == std::vector<int64_t>(10, 3));

  // val = the last two images of each class in file order, class-major.
  std::vector<int64_t> expected_val;
  for (int64_t c = 0; c < 10; ++c) {
    expected_val.push_back(c + 180);
    expected_val.push_back(c + 190);
  }
  CHECK(d.val_file_indices() == expected_val);
  std::set<int64_t> train(d.train_file_indices().begin(), d.train_file_indices().end());
  CHECK(train.size() == d.train_file_indices().size());  // no duplicates
  for (int64_t v : d.val_file_indices()) CHECK(train.count(v) == 0);

  // Same seed: same selection; other seed: another one.
  IdxLt again(fx.options());
  CHECK(again.train_file_indices() == d.train_file_indices());
  IdxLt::Options other = fx.options();
  other.seed = 1;
  IdxLt d1(other);
  CHECK(d1.class_counts(Split::kTrain) == kExpCounts);
  CHECK(d1.train_file_indices() != d.train_file_indices());

  // selection = first: the first n_i of each class in file order.
  IdxLt::Options first = fx.options();
  first.selection = IdxLt::Options::Selection::kFirst;
  IdxLt df(first);
  std::vector<int64_t> expected_first;
  for (int64_t c = 0; c < 10; ++c)
    for (int64_t k = 0; k < kExpCounts[c]; ++k) expected_first.push_back(c + 10 * k);
  CHECK(df.train_file_indices() == expected_first);

  // step and none profiles; explicit img_max.
  IdxLt::Options step = fx.options();
  step.profile = IdxLt::Options::Profile::kStep;
  step.img_max = 10;
  CHECK(IdxLt(step).class_counts(Split::kTrain) ==
        std::vector<int64_t>{10, 10, 10, 10, 10, 1, 1, 1, 1, 1});
  IdxLt::Options none = fx.options();
  none.profile = IdxLt::Options::Profile::kNone;
  none.val_per_class = 0;
  CHECK(IdxLt(none).class_counts(Split::kTrain) == std::vector<int64_t>(10, 20));
  CHECK(IdxLt(none).size(Split::kVal) == 0);
}

TEST_CASE("idx_lt augmented batches are deterministic and are crops/flips", "[idx_lt]") {
  Fixture fx;
  IdxLt::Options o = fx.options();
  IdxLt d(o);
  const std::vector<int64_t> idx = {0, 7, 3, 3, 12, 68, 1, 2};
  tailor::Batch a = fetch(d, Split::kTrain, idx, true, 1234);
  tailor::Batch b = fetch(d, Split::kTrain, idx, true, 1234);
  CHECK(at::equal(a.inputs, b.inputs));
  CHECK(at::equal(a.targets, b.targets));
  tailor::Batch c = fetch(d, Split::kTrain, idx, true, 99);
  CHECK_FALSE(at::equal(a.inputs, c.inputs));
  CHECK(at::equal(a.targets, c.targets));

  // Every augmented sample is one of the (2*pad+1)^2 zero-padded crops, flipped or not.
  const float background = normalised(0, o);
  int shifted = 0;
  for (size_t k = 0; k < idx.size(); ++k) {
    const int64_t file_pos = d.train_file_indices()[idx[k]];
    const at::Tensor got = a.inputs[static_cast<int64_t>(k)][0];
    bool matched = false;
    for (int64_t top = -o.pad; top <= o.pad && !matched; ++top)
      for (int64_t left = -o.pad; left <= o.pad && !matched; ++left)
        for (bool mirror : {false, true}) {
          bool same = true;
          for (int64_t y = 0; y < kHeight && same; ++y)
            for (int64_t x = 0; x < kWidth && same; ++x) {
              const int64_t sy = y + top, sx = (mirror ? kWidth - 1 - x : x) + left;
              const float want = sy >= 0 && sy < kHeight && sx >= 0 && sx < kWidth
                                     ? normalised(pixel(file_pos, sy, sx), o)
                                     : background;
              same = got[y][x].item<float>() == want;
            }
          if (same) {
            matched = true;
            shifted += top != 0 || left != 0;
            break;
          }
        }
    CHECK(matched);
  }
  CHECK(shifted > 0);

  // augment = "none" (or a request without augmentation) gives the evaluation transform.
  tailor::Batch plain = fetch(d, Split::kTrain, idx, false, 1234);
  IdxLt::Options off = o;
  off.augment = IdxLt::Options::Augment::kNone;
  CHECK(at::equal(fetch(IdxLt(off), Split::kTrain, idx, true, 1234).inputs, plain.inputs));

  // pad = 0, crop only: nothing changes.
  IdxLt::Options crop0 = o;
  crop0.augment = IdxLt::Options::Augment::kCrop;
  crop0.pad = 0;
  CHECK(at::equal(fetch(IdxLt(crop0), Split::kTrain, idx, true, 5).inputs, plain.inputs));

  // pad = 0 with flips: each sample is either itself or its mirror, and both occur.
  IdxLt::Options flip0 = o;
  flip0.pad = 0;
  const at::Tensor f = fetch(IdxLt(flip0), Split::kTrain, idx, true, 5).inputs;
  const at::Tensor mirrored = plain.inputs.flip({3});
  int mirrors = 0;
  for (int64_t k = 0; k < static_cast<int64_t>(idx.size()); ++k) {
    const bool is_plain = at::equal(f[k], plain.inputs[k]);
    const bool is_mirror = at::equal(f[k], mirrored[k]);
    CHECK((is_plain || is_mirror));
    mirrors += is_mirror && !is_plain;
  }
  CHECK(mirrors > 0);
  CHECK(mirrors < static_cast<int>(idx.size()));
}

TEST_CASE("idx_lt batched augmentation equals the per-sample one bit for bit", "[idx_lt]") {
  Fixture fx;
  IdxLt::Options o = fx.options();
  const std::vector<int64_t> idx = {0, 7, 3, 3, 12, 68, 1, 2};
  const auto gpu = tailor::test::gpu_if_present();
  if (!gpu) WARN("no GPU: the batched augmentation is checked on the CPU only");
  for (const char* augment : {"crop_flip", "crop", "none"}) {
    o.augment = o.kAugments.value(augment);
    IdxLt d(o);
    for (uint64_t seed : {1u, 1234u, 99u}) {
      const at::Tensor clean = fetch(d, Split::kTrain, idx, false, seed).inputs;
      const at::Tensor want = fetch(d, Split::kTrain, idx, true, seed).inputs;
      const tailor::BatchRequest r = tailor::test::batch_request(Split::kTrain, idx, true, seed);
      INFO("augment = " << augment << ", seed " << seed);
      CHECK(at::equal(d.augment_batch(r, clean), want));
      CHECK(at::equal(d.augment_batch(r, clean.contiguous(at::MemoryFormat::ChannelsLast)), want));
      if (gpu) CHECK(at::equal(d.augment_batch(r, clean.to(*gpu)).cpu(), want));
    }
  }
}

TEST_CASE("idx_lt batches are the same from concurrent threads", "[idx_lt]") {
  Fixture fx;
  IdxLt d(fx.options());
  std::vector<int64_t> idx(69);
  for (int64_t i = 0; i < 69; ++i) idx[i] = (i * 17) % 69;
  const at::Tensor serial = fetch(d, Split::kTrain, idx, true, 77).inputs;
  std::vector<at::Tensor> results(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < results.size(); ++t)
    threads.emplace_back([&, t] { results[t] = fetch(d, Split::kTrain, idx, true, 77).inputs; });
  for (auto& thread : threads) thread.join();
  for (const auto& r : results) CHECK(at::equal(r, serial));
}

TEST_CASE("idx_lt rejects out-of-range batch indices", "[idx_lt]") {
  Fixture fx;
  IdxLt d(fx.options());
  CHECK_THROWS_WITH(fetch(d, Split::kVal, {20}, false, 0),
                    Catch::Contains("index 20") && Catch::Contains("'val' of size 20"));
  CHECK_THROWS_AS(fetch(d, Split::kTest, {-1}, false, 0), tailor::Error);
}

TEST_CASE("idx_lt writes its selection manifest", "[idx_lt]") {
  Fixture fx;
  IdxLt d(fx.options());
  TempDir out;
  d.write_artifacts(out.str());
  CHECK_FALSE(fs::exists(out.path() / "idx_lt_selection.csv.tmp"));
  std::ifstream file(out.path() / "idx_lt_selection.csv");
  std::string line;
  REQUIRE(std::getline(file, line));
  CHECK(line == "split,index_in_file,label");
  std::vector<int64_t> train, val;
  while (std::getline(file, line)) {
    std::stringstream row(line);
    std::string split, index, label;
    std::getline(row, split, ',');
    std::getline(row, index, ',');
    std::getline(row, label, ',');
    CHECK(std::stoll(label) == std::stoll(index) % 10);
    (split == "train" ? train : val).push_back(std::stoll(index));
  }
  CHECK(train == d.train_file_indices());
  CHECK(val == d.val_file_indices());
}

TEST_CASE("idx_lt reports missing and malformed files", "[idx_lt]") {
  SECTION("missing file names the path") {
    Fixture fx;
    IdxLt::Options o = fx.options();
    o.test_labels = "nope-labels.gz";
    const std::string msg = error_of(o);
    CHECK_THAT(msg, Catch::Contains((fx.dir.path() / "nope-labels.gz").string()));
    CHECK_THAT(msg, Catch::Contains("test_labels not found"));
  }
  SECTION("missing file under the default root suggests the Debian package") {
    IdxLt::Options o;
    o.train_images = "no-such-file-idx3-ubyte.gz";
    CHECK_THAT(error_of(o), Catch::Contains("apt-get install dataset-fashion-mnist") &&
                                Catch::Contains("no-such-file-idx3-ubyte.gz"));
  }
  SECTION("wrong magic") {
    Fixture fx;
    const fs::path path = fx.dir.path() / "train-images-idx3-ubyte.gz";
    write_file(path, idx_bytes(2049, {200}, std::vector<uint8_t>(200, 0)), true);
    const std::string msg = error_of(fx.options());
    CHECK_THAT(msg, Catch::Contains(path.string()) && Catch::Contains("magic 2049") &&
                        Catch::Contains("expected 2051"));
  }
  SECTION("truncated data (complete gzip stream)") {
    Fixture fx;
    const fs::path path = fx.dir.path() / "t10k-images-idx3-ubyte.gz";
    write_file(path, idx_bytes(2051, {30, kHeight, kWidth}, images_of(29, 1000)), true);
    const std::string msg = error_of(fx.options());
    CHECK_THAT(msg, Catch::Contains(path.string()) && Catch::Contains("truncated") &&
                        Catch::Contains("900 data bytes") && Catch::Contains("found 870"));
    CHECK_THAT(msg, Catch::Contains("check the file"));
  }
  SECTION("a header declaring far more than the file holds") {
    // Found by fuzz_idx: the declared size (here 2^39 bytes) was allocated before anything
    // was read, so a damaged header ran the machine out of memory.
    Fixture fx;
    const fs::path path = fx.dir.path() / "train-images-idx3-ubyte.gz";
    write_file(path, idx_bytes(2051, {1u << 19, 1024, 1024}, std::vector<uint8_t>(10, 1)), true);
    CHECK_THAT(error_of(fx.options()),
               Catch::Contains(path.string()) && Catch::Contains("is truncated") &&
                   Catch::Contains("549755813888 data bytes") && Catch::Contains("found 10"));
  }
  SECTION("truncated gzip stream") {
    Fixture fx;
    const fs::path path = fx.dir.path() / "train-images-idx3-ubyte.gz";
    fs::resize_file(path, fs::file_size(path) / 2);
    CHECK_THAT(error_of(fx.options()), Catch::Contains(path.string()));
  }
  SECTION("truncated plain file") {
    Fixture fx(/*gz=*/false);
    const fs::path path = fx.dir.path() / "train-labels-idx1-ubyte";
    fs::resize_file(path, 8 + 150);
    CHECK_THAT(error_of(fx.options()), Catch::Contains(path.string()) &&
                                           Catch::Contains("truncated") &&
                                           Catch::Contains("found 150"));
  }
  SECTION("trailing bytes") {
    Fixture fx;
    std::vector<uint8_t> labels = fx.test_labels;
    labels.push_back(0);
    const fs::path path = fx.dir.path() / "t10k-labels-idx1-ubyte.gz";
    write_file(path, idx_bytes(2049, {30}, labels), true);
    CHECK_THAT(error_of(fx.options()),
               Catch::Contains(path.string()) && Catch::Contains("bytes after"));
  }
  SECTION("label out of range names the record") {
    Fixture fx;
    std::vector<uint8_t> labels = fx.train_labels;
    labels[7] = 12;
    const fs::path path = fx.dir.path() / "train-labels-idx1-ubyte.gz";
    write_file(path, idx_bytes(2049, {200}, labels), true);
    const std::string msg = error_of(fx.options());
    CHECK_THAT(msg, Catch::Contains(path.string()) && Catch::Contains("record 7") &&
                        Catch::Contains("label 12") && Catch::Contains("class_names"));
  }
  SECTION("image and label counts differ") {
    Fixture fx;
    const fs::path path = fx.dir.path() / "t10k-labels-idx1-ubyte.gz";
    write_file(path, idx_bytes(2049, {20}, std::vector<uint8_t>(20, 1)), true);
    CHECK_THAT(error_of(fx.options()), Catch::Contains("30 images") &&
                                           Catch::Contains("20 labels") &&
                                           Catch::Contains(path.string()));
  }
  SECTION("val_per_class too large") {
    Fixture fx;
    IdxLt::Options o = fx.options();
    o.val_per_class = 20;
    CHECK_THAT(error_of(o), Catch::Contains("val_per_class") && Catch::Contains("at least 21"));
  }
  SECTION("img_max above what remains") {
    Fixture fx;
    IdxLt::Options o = fx.options();
    o.img_max = 19;
    CHECK_THAT(error_of(o), Catch::Contains("asks for 19") && Catch::Contains("only 18 remain"));
  }
}

TEST_CASE("idx_lt on Debian's Fashion-MNIST", "[idx_lt][real]") {
  if (!fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")) {
    WARN("dataset-fashion-mnist is not installed; skipping");
    return;
  }
  IdxLt::Options o;
  o.val_per_class = 0;
  IdxLt d(o);
  CHECK(d.sample_shape() == std::vector<int64_t>{1, 28, 28});
  CHECK(d.class_counts(Split::kTrain) ==
        std::vector<int64_t>{6000, 3596, 2156, 1292, 774, 464, 278, 166, 100, 60});
  CHECK(d.size(Split::kTrain) == 14886);
  CHECK(d.size(Split::kTest) == 10000);
  const at::Tensor test = d.labels(Split::kTest);
  const std::vector<int64_t> first = {9, 2, 1, 1, 6, 1, 4, 6};
  for (int64_t i = 0; i < 8; ++i) CHECK(test[i].item<int64_t>() == first[i]);

  IdxLt defaults{IdxLt::Options{}};  // val_per_class 100: img_max 5900
  CHECK(defaults.class_counts(Split::kTrain) ==
        std::vector<int64_t>{5900, 3536, 2120, 1271, 762, 456, 273, 164, 98, 59});
  CHECK(defaults.class_counts(Split::kVal) == std::vector<int64_t>(10, 100));
  tailor::Batch b = fetch(defaults, Split::kTrain, {0, 1, 2, 3}, true, 7);
  CHECK(b.inputs.sizes() == at::IntArrayRef({4, 1, 28, 28}));
}

TEST_CASE("idx_lt README parameter table matches the options schema", "[idx_lt]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README, tailor::schema_of<IdxLt::Options>());
}
