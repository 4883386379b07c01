// bench_image_pipeline: throughput of the JPEG decode + augmentation pipeline of the image
// dataset plugins, and load times of ImageNet-LT-sized lists and iNat-sized JSON.
//
//   bench_image_pipeline generate <dir> [count] [width] [height]
//   bench_image_pipeline pipeline <dir> [seconds] [--dump <file>] [--no-scaling]
//   bench_image_pipeline lists <dir>
//   bench_image_pipeline json <dir>
//
// `generate` writes <dir>/images/NNNNN.jpg (ImageNet-like: 500 x 375, quality 90, 4:2:0) and
// <dir>/files.txt. `pipeline` prints images/s on one thread for the training transform
// (RandomResizedCrop + flip + ColorJitter + normalise) and the evaluation transform, and
// with --dump writes the evaluation outputs of the first 16 images (float32) for bench_pil.py
// to compare; --no-scaling turns DCT-domain downscaling (training only) off. `lists` and
// `json` write synthetic files of the real sizes and time loading.
#include "common/image_list.hpp"
#include "common/jpeg.hpp"
#include "common/pipeline.hpp"
#include "common/samples.hpp"
#include "inaturalist/inaturalist.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace tailor::image;

namespace {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A photo-like image: smooth colour fields, a few hard-edged shapes and sensor noise, so
// that JPEG sizes resemble ImageNet's (about 100 KB at 500 x 375).
Image photo_like(int w, int h, uint64_t seed) {
  SampleRng rng(seed, 0);
  Image img;
  img.resize(w, h);
  double fx[3][3], fy[3][3], phase[3][3], amp[3][3];
  for (int c = 0; c < 3; ++c)
    for (int k = 0; k < 3; ++k) {
      fx[c][k] = rng.uniform(0.002, 0.05);
      fy[c][k] = rng.uniform(0.002, 0.05);
      phase[c][k] = rng.uniform(0.0, 6.28);
      amp[c][k] = rng.uniform(10.0, 50.0);
    }
  struct Box {
    int x0, y0, x1, y1;
    uint8_t rgb[3];
  };
  std::vector<Box> boxes(12);
  for (Box& b : boxes) {
    b.x0 = static_cast<int>(rng.below(static_cast<uint64_t>(w)));
    b.y0 = static_cast<int>(rng.below(static_cast<uint64_t>(h)));
    b.x1 = b.x0 + 20 + static_cast<int>(rng.below(150));
    b.y1 = b.y0 + 20 + static_cast<int>(rng.below(150));
    for (uint8_t& v : b.rgb) v = static_cast<uint8_t>(rng.below(256));
  }
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = img.row(y) + x * 3;
      for (int c = 0; c < 3; ++c) {
        double v = 128.0;
        for (int k = 0; k < 3; ++k)
          v += amp[c][k] * std::sin(fx[c][k] * x + fy[c][k] * y + phase[c][k]);
        v += rng.uniform(-40.0, 40.0);
        p[c] = static_cast<uint8_t>(std::clamp(v, 0.0, 255.0));
      }
      for (const Box& b : boxes)
        if (x >= b.x0 && x < b.x1 && y >= b.y0 && y < b.y1)
          for (int c = 0; c < 3; ++c) p[c] = static_cast<uint8_t>((p[c] + 3 * b.rgb[c]) / 4);
    }
  return img;
}

int generate(const fs::path& dir, int count, int w, int h) {
  fs::create_directories(dir / "images");
  std::ofstream files(dir / "files.txt");
  size_t bytes = 0;
  for (int i = 0; i < count; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "%05d.jpg", i);
    const std::vector<uint8_t> jpeg = encode_jpeg(photo_like(w, h, static_cast<uint64_t>(i)), 90);
    std::ofstream(dir / "images" / name, std::ios::binary)
        .write(reinterpret_cast<const char*>(jpeg.data()),
               static_cast<std::streamsize>(jpeg.size()));
    files << (dir / "images" / name).string() << "\n";
    bytes += jpeg.size();
  }
  std::printf("generated %d JPEGs of %dx%d in %s, mean %.1f KB\n", count, w, h,
              (dir / "images").c_str(), bytes / 1024.0 / count);
  return 0;
}

std::vector<std::string> file_list(const fs::path& dir) {
  std::vector<std::string> files;
  std::ifstream in(dir / "files.txt");
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) files.push_back(line);
  return files;
}

// Images per second of one transform on one thread, reading each file from disk (page cache)
// as a data loader does, over at least `min_seconds` and at least one pass.
double throughput(const ImagePipeline& pipe, const std::vector<std::string>& files, bool train,
                  double min_seconds) {
  std::vector<float> out(pipe.sample_floats());
  std::string error;
  size_t done = 0;
  const Clock::time_point start = Clock::now();
  while (done < files.size() || seconds_since(start) < min_seconds) {
    const std::string bytes = slurp(files[done % files.size()]);
    SampleRng rng(1234, done);
    if (!pipe.process(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), train, rng,
                      out.data(), &error)) {
      std::fprintf(stderr, "decode failed: %s\n", error.c_str());
      std::exit(1);
    }
    ++done;
  }
  return done / seconds_since(start);
}

int pipeline(const fs::path& dir, double min_seconds, const std::string& dump, bool scaling) {
  const std::vector<std::string> files = file_list(dir);
  if (files.empty()) {
    std::fprintf(stderr, "no files.txt in %s; run `generate` first\n", dir.c_str());
    return 1;
  }
  TransformOptions o;  // the ImageNet-LT recipe: 224, Resize(256), jitter 0.4
  o.decode_scaling = scaling;
  const ImagePipeline pipe(o);
  throughput(
      pipe,
      std::vector<std::string>(files.begin(), files.begin() + std::min<size_t>(files.size(), 20)),
      true, 0.0);  // warm-up
  const double train = throughput(pipe, files, true, min_seconds);
  const double eval = throughput(pipe, files, false, min_seconds);
  std::printf("cpp train %.1f img/s\ncpp eval %.1f img/s\n", train, eval);
  if (!dump.empty()) {
    std::ofstream out(dump, std::ios::binary);
    std::vector<float> values(pipe.sample_floats());
    std::string error;
    for (size_t i = 0; i < std::min<size_t>(16, files.size()); ++i) {
      const std::string bytes = slurp(files[i]);
      SampleRng rng(0, i);
      pipe.process(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), false, rng,
                   values.data(), &error);
      out.write(reinterpret_cast<const char*>(values.data()),
                static_cast<std::streamsize>(values.size() * sizeof(float)));
    }
  }
  return 0;
}

int lists(const fs::path& dir) {
  fs::create_directories(dir);
  // The ImageNet-LT line format: train/<wnid>/<wnid>_<n>.JPEG <label>, 115,846 lines.
  std::string train, val, test;
  for (int i = 0; i < 115846; ++i) {
    const int label = i % 1000;
    const std::string wnid = "n0" + std::to_string(1440764 + label * 97);
    train += "train/" + wnid + "/" + wnid + "_" + std::to_string(i * 7 + 3) + ".JPEG " +
             std::to_string(label) + "\n";
  }
  for (int i = 0; i < 20000; ++i) {
    const std::string wnid = "n0" + std::to_string(1440764 + (i % 1000) * 97);
    val += "train/" + wnid + "/" + wnid + "_" + std::to_string(900000 + i) + ".JPEG " +
           std::to_string(i % 1000) + "\n";
  }
  for (int i = 0; i < 50000; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "val/ILSVRC2012_val_%08d.JPEG %d\n", i + 1, i % 1000);
    test += name;
  }
  std::ofstream(dir / "ImageNet_LT_train.txt") << train;
  std::ofstream(dir / "ImageNet_LT_val.txt") << val;
  std::ofstream(dir / "ImageNet_LT_test.txt") << test;

  const int repeats = 5;
  double best_parse = 1e9;
  for (int r = 0; r < repeats; ++r) {
    const Clock::time_point start = Clock::now();
    const std::string content = read_file((dir / "ImageNet_LT_train.txt").string(), "bench");
    const SampleTable t = parse_list(content, "ImageNet_LT_train.txt", "");
    best_parse = std::min(best_parse, seconds_since(start));
    if (t.size() != 115846) return 1;
  }
  // The whole dataset load as a run does it: three lists, SHA-256, profile, class names.
  tailor::plugins::ImageList::Options o;
  o.root = dir.string();
  o.train_list = "ImageNet_LT_train.txt";
  o.val_list = "ImageNet_LT_val.txt";
  o.test_list = "ImageNet_LT_test.txt";
  o.num_classes = 1000;
  o.image.on_corrupt = "black";  // the images do not exist; the probe only warns
  double best_load = 1e9;
  for (int r = 0; r < repeats; ++r) {
    const Clock::time_point start = Clock::now();
    tailor::plugins::ImageList d(o, "bench");
    best_load = std::min(best_load, seconds_since(start));
  }
  std::printf("list parse (ImageNet_LT_train.txt, 115846 lines, %.1f MB): %.1f ms\n",
              train.size() / 1e6, best_parse * 1e3);
  std::printf("image_list load (train+val+test lists, 185846 lines, SHA-256, checks): %.1f ms\n",
              best_load * 1e3);
  return 0;
}

int json(const fs::path& dir) {
  fs::create_directories(dir);
  // The train2018.json schema and size: 437,513 images, 8,142 categories, aligned arrays.
  const char* supers[] = {"Plantae",   "Insecta",   "Aves",     "Actinopterygii", "Fungi",
                          "Reptilia",  "Mollusca",  "Mammalia", "Animalia",       "Amphibia",
                          "Arachnida", "Chromista", "Protozoa", "Bacteria"};
  const int images = 437513, categories = 8142;
  std::string s;
  s.reserve(110u << 20);
  s += "{\"info\": {\"year\": 2018, \"version\": \"1.0\", \"description\": \"synthetic\", "
       "\"contributor\": \"bench\", \"url\": \"u\", \"date_created\": \"2018-01-01\"}, "
       "\"images\": [";
  SampleRng rng(5, 0);
  std::vector<int> category(static_cast<size_t>(images));
  for (int i = 0; i < images; ++i) {
    category[static_cast<size_t>(i)] = i < categories ? i : static_cast<int>(rng.below(categories));
    char md5[33];
    std::snprintf(md5, sizeof md5, "%016llx%016llx", static_cast<unsigned long long>(rng.next()),
                  static_cast<unsigned long long>(rng.next()));
    const int c = category[static_cast<size_t>(i)];
    s += std::string(i ? ", " : "") + "{\"license\": " + std::to_string(i % 6 + 1) +
         ", \"file_name\": \"train_val2018/" + supers[c % 14] + "/" + std::to_string(c) + "/" +
         md5 + ".jpg\", \"rights_holder\": \"Some Photographer\", \"height\": 600, " +
         "\"width\": 800, \"id\": " + std::to_string(i) + "}";
  }
  s += "], \"categories\": [";
  for (int c = 0; c < categories; ++c)
    s += std::string(c ? ", " : "") + "{\"supercategory\": \"" + supers[c % 14] +
         "\", \"kingdom\": \"Plantae\", \"phylum\": \"Tracheophyta\", \"class\": "
         "\"Magnoliopsida\", \"order\": \"Asterales\", \"family\": \"Asteraceae\", \"genus\": "
         "\"Genus" +
         std::to_string(c) + "\", \"name\": \"" + std::to_string(c) +
         "\", \"id\": " + std::to_string(c) + "}";
  s += "], \"annotations\": [";
  for (int i = 0; i < images; ++i)
    s += std::string(i ? ", " : "") + "{\"id\": " + std::to_string(i) +
         ", \"image_id\": " + std::to_string(i) +
         ", \"category_id\": " + std::to_string(category[static_cast<size_t>(i)]) + "}";
  s += "], \"licenses\": [{\"id\": 1, \"name\": \"CC\", \"url\": \"u\"}]}";
  const fs::path path = dir / "train2018.json";
  std::ofstream(path, std::ios::binary) << s;

  double best = 1e9;
  size_t n = 0;
  for (int r = 0; r < 3; ++r) {
    const Clock::time_point start = Clock::now();
    const tailor::plugins::InatAnnotations a = tailor::plugins::read_inat_json(path.string(), "");
    best = std::min(best, seconds_since(start));
    n = a.samples.size();
  }
  std::printf("iNat JSON parse (%zu images, %d categories, %.1f MB): %.1f ms\n", n, categories,
              s.size() / 1e6, best * 1e3);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() >= 2 && args[0] == "generate")
    return generate(args[1], args.size() > 2 ? std::stoi(args[2]) : 200,
                    args.size() > 3 ? std::stoi(args[3]) : 500,
                    args.size() > 4 ? std::stoi(args[4]) : 375);
  if (args.size() >= 2 && args[0] == "pipeline") {
    double seconds = 5.0;
    std::string dump;
    bool scaling = true;
    for (size_t i = 2; i < args.size(); ++i) {
      if (args[i] == "--dump" && i + 1 < args.size()) {
        dump = args[++i];
      } else if (args[i] == "--no-scaling") {
        scaling = false;
      } else {
        seconds = std::stod(args[i]);
      }
    }
    return pipeline(args[1], seconds, dump, scaling);
  }
  if (args.size() >= 2 && args[0] == "lists") return lists(args[1]);
  if (args.size() >= 2 && args[0] == "json") return json(args[1]);
  std::fprintf(stderr,
               "usage: bench_image_pipeline generate <dir> [count] [width] [height]\n"
               "       bench_image_pipeline pipeline <dir> [seconds] [--dump file] [--no-scaling]\n"
               "       bench_image_pipeline lists <dir>\n"
               "       bench_image_pipeline json <dir>\n");
  return 2;
}
