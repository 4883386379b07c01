// bench_dataset_scale: how long constructing the imagenet_lt and inaturalist dataset classes
// takes on split files of the real sizes, as a `tailor run` constructs them.
//
//   bench_dataset_scale imagenet_lt <dir> [repeats]
//   bench_dataset_scale inaturalist <dir> [repeats]
//
// Each command writes synthetic files into <dir> (no images; the first-image probe of every
// split only warns, on_corrupt = "black") and prints the best of `repeats` constructions:
//   imagenet_lt  ImageNet_LT_{train,val,test}.txt: 115,846 / 20,000 / 50,000 "path label"
//                lines, train counts 1280 .. 5 per class as the real list has them.
//   inaturalist  train2018.json (437,513 images, 8,142 categories, 1000 .. 2 per class) and
//                val2018.json (24,426 images, 3 per class) with the official schema.
// The checksum options are cleared (the synthetic files are not the published ones); the
// SHA-256 of every file is still computed, as in a real run.
#include "imagenet_lt/imagenet_lt.hpp"
#include "inaturalist/inaturalist.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Per-class counts from `hi` down to `lo` (power-law decay) summing to exactly `total`.
std::vector<int64_t> profile(int64_t classes, int64_t hi, int64_t lo, int64_t total) {
  const double p = static_cast<double>((hi - lo) * (classes - 1)) /
                       static_cast<double>(total - lo * classes) - 1.0;
  std::vector<int64_t> n(static_cast<size_t>(classes));
  int64_t sum = 0;
  for (int64_t c = 0; c < classes; ++c) {
    const double t = static_cast<double>(classes - 1 - c) / static_cast<double>(classes - 1);
    n[static_cast<size_t>(c)] = lo + std::llround((hi - lo) * std::pow(t, p));
    sum += n[static_cast<size_t>(c)];
  }
  // Spread the rounding residue over the middle classes, keeping the extremes exact.
  for (int64_t c = 1; sum != total; c = c % (classes - 2) + 1) {
    auto& v = n[static_cast<size_t>(c)];
    const int64_t step = sum < total ? 1 : -1;
    if (v + step > lo && v + step < hi) {
      v += step;
      sum += step;
    }
  }
  return n;
}

std::string wnid(int64_t c) { return "n" + std::to_string(1440764 + c * 97); }

template <class Make>
double best_of(int repeats, Make make) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto start = Clock::now();
    make();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - start).count());
  }
  return best;
}

int imagenet_lt(const fs::path& dir, int repeats) {
  fs::create_directories(dir);
  const std::vector<int64_t> counts = profile(1000, 1280, 5, 115846);
  std::ofstream train(dir / "ImageNet_LT_train.txt"), val(dir / "ImageNet_LT_val.txt"),
      test(dir / "ImageNet_LT_test.txt");
  int64_t serial = 0;
  for (int64_t c = 0; c < 1000; ++c) {
    for (int64_t i = 0; i < counts[static_cast<size_t>(c)]; ++i)
      train << "train/" << wnid(c) << "/" << wnid(c) << "_" << ++serial << ".JPEG " << c << "\n";
    for (int64_t i = 0; i < 20; ++i)
      val << "train/" << wnid(c) << "/" << wnid(c) << "_" << ++serial << ".JPEG " << c << "\n";
  }
  for (int64_t i = 0; i < 50000; ++i) {
    char line[64];
    std::snprintf(line, sizeof line, "val/ILSVRC2012_val_%08lld.JPEG %lld\n",
                  static_cast<long long>(i + 1), static_cast<long long>(i % 1000));
    test << line;
  }
  train.close();
  val.close();
  test.close();

  tailor::plugins::ImagenetLt::Options o;
  o.root = dir.string();
  o.train_list_sha256.clear();
  o.val_list_sha256.clear();
  o.test_list_sha256.clear();
  o.image.on_corrupt = "black";
  int64_t size = 0;
  const double t = best_of(repeats, [&] {
    tailor::plugins::ImagenetLt d(o);
    size = d.size(tailor::Split::kTrain) + d.size(tailor::Split::kVal) + d.size(tailor::Split::kTest);
  });
  std::printf("imagenet_lt construction (train+val+test lists, %lld lines, %.1f MB train list): "
              "%.3f s\n",
              static_cast<long long>(size), fs::file_size(dir / "ImageNet_LT_train.txt") / 1e6, t);
  return 0;
}

// COCO-style iNaturalist 2018 annotations: images, annotations (aligned) and categories.
void write_inat_json(const fs::path& path, const std::vector<int64_t>& counts,
                     int64_t first_id) {
  std::string s = "{\"info\": {\"year\": 2018, \"version\": \"1.0\"}, \"images\": [";
  int64_t id = first_id;
  for (size_t c = 0; c < counts.size(); ++c)
    for (int64_t i = 0; i < counts[c]; ++i, ++id) {
      char image[256];
      std::snprintf(image, sizeof image,
                    "%s{\"license\": 1, \"file_name\": \"train_val2018/Plantae/%zu/"
                    "%016llx%016llx.jpg\", \"rights_holder\": \"someone\", \"height\": 600, "
                    "\"width\": 800, \"id\": %lld}",
                    id == first_id ? "" : ", ", c,
                    static_cast<unsigned long long>(id * 0x9E3779B97F4A7C15ULL),
                    static_cast<unsigned long long>(id), static_cast<long long>(id));
      s += image;
    }
  s += "], \"annotations\": [";
  id = first_id;
  for (size_t c = 0; c < counts.size(); ++c)
    for (int64_t i = 0; i < counts[c]; ++i, ++id)
      s += std::string(id == first_id ? "" : ", ") + "{\"id\": " + std::to_string(id) +
           ", \"image_id\": " + std::to_string(id) + ", \"category_id\": " + std::to_string(c) +
           "}";
  s += "], \"categories\": [";
  for (size_t c = 0; c < counts.size(); ++c)
    s += std::string(c ? ", " : "") + "{\"supercategory\": \"Plantae\", \"kingdom\": " +
         "\"Plantae\", \"name\": \"Species " + std::to_string(c) + "\", \"id\": " +
         std::to_string(c) + "}";
  s += "], \"licenses\": [{\"id\": 1, \"name\": \"CC BY\", \"url\": \"u\"}]}";
  std::ofstream(path, std::ios::binary) << s;
}

int inaturalist(const fs::path& dir, int repeats) {
  fs::create_directories(dir);
  write_inat_json(dir / "train2018.json", profile(8142, 1000, 2, 437513), 0);
  write_inat_json(dir / "val2018.json", std::vector<int64_t>(8142, 3), 437513);

  tailor::plugins::Inaturalist::Options o;
  o.root = dir.string();
  o.image.on_corrupt = "black";
  int64_t size = 0;
  const double t = best_of(repeats, [&] {
    tailor::plugins::Inaturalist d(o);
    size = d.size(tailor::Split::kTrain) + d.size(tailor::Split::kVal) + d.size(tailor::Split::kTest);
  });
  std::printf("inaturalist construction (train2018.json %.1f MB + val2018.json, %lld samples): "
              "%.3f s\n",
              fs::file_size(dir / "train2018.json") / 1e6, static_cast<long long>(size), t);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  const int repeats = args.size() > 2 ? std::stoi(args[2]) : 3;
  try {
    if (args.size() >= 2 && args[0] == "imagenet_lt") return imagenet_lt(args[1], repeats);
    if (args.size() >= 2 && args[0] == "inaturalist") return inaturalist(args[1], repeats);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_dataset_scale: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr,
               "usage: bench_dataset_scale imagenet_lt <dir> [repeats]\n"
               "       bench_dataset_scale inaturalist <dir> [repeats]\n");
  return 2;
}
