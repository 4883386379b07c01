// bench_image_pipeline: throughput of the JPEG decode + augmentation pipeline of the image
// dataset plugins, and load times of ImageNet-LT-sized lists and iNat-sized JSON.
//
//   bench_image_pipeline generate <dir> [count] [width] [height]
//   bench_image_pipeline imagenet_lt <dir> [count] [sizes] [threads]
//   bench_image_pipeline pipeline <dir> [seconds] [--dump <file>] [--no-scaling]
//   bench_image_pipeline stages <dir> [seconds]
//   bench_image_pipeline scaling <dir> [seconds] [--threads 1,2] [--batch 32] [--no-scaling]
//   bench_image_pipeline lists <dir>
//   bench_image_pipeline json <dir>
//
// `generate` writes <dir>/images/NNNNN.jpg (ImageNet-like: 500 x 375, quality 90, 4:2:0) and
// <dir>/files.txt. `imagenet_lt` writes the same kind of JPEGs as an ImageNet-LT tree,
// <dir>/train/<wnid>/<wnid>_<i>.JPEG, sizes cycling through `sizes` (default
// 500x375,800x600), classes drawn from an exponential long-tail profile over 1,000 classes,
// and the list <dir>/ImageNet_LT_train.txt in the official line format (plus files.txt).
// `pipeline` prints images/s on one thread for the training transform (RandomResizedCrop +
// flip + ColorJitter + normalise) and the evaluation transform, and with --dump writes the
// evaluation outputs of the first 16 images (float32) for bench_pil.py to compare;
// --no-scaling turns DCT-domain downscaling (training only) off. `stages` times the parts of
// the training transform on one thread (decode alone, full and at 1/2 scale; crop + resize +
// flip without jitter; with jitter), with and without decode scaling. `scaling` prints the
// images/s of the image_list plugin's batch() called from 1, 2, ... threads at once, as
// tailor's loader threads call it. `lists` and `json` write synthetic files of the real sizes
// and time loading.
#include "common/image_list.hpp"
#include "common/jpeg.hpp"
#include "common/pipeline.hpp"
#include "common/samples.hpp"
#include "inaturalist/inaturalist.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
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

std::string wnid(int label) {
  return "n0" + std::to_string(1440764 + label * 97);  // sorted as the labels: n01440764 = 0
}

// "500x375,800x600" -> {{500, 375}, {800, 600}}.
std::vector<std::pair<int, int>> parse_sizes(const std::string& text) {
  std::vector<std::pair<int, int>> sizes;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    const size_t x = item.find('x');
    if (x == std::string::npos) {
      std::fprintf(stderr, "sizes: '%s' is not WIDTHxHEIGHT\n", item.c_str());
      std::exit(2);
    }
    sizes.emplace_back(std::stoi(item.substr(0, x)), std::stoi(item.substr(x + 1)));
  }
  return sizes;
}

// An ImageNet-LT-shaped train split of `count` photo-like JPEGs: the official path layout and
// list format, sizes cycling through `sizes_text`, and labels over 1,000 classes following an
// exponential profile from the head class to the tail with ImageNet-LT's ratio (1,280 / 5),
// head classes first. Generated on `threads` threads; the files depend only on their index.
int imagenet_lt(const fs::path& dir_arg, int count, const std::string& sizes_text, int threads) {
  const fs::path dir = fs::absolute(dir_arg);
  const std::vector<std::pair<int, int>> sizes = parse_sizes(sizes_text);
  const int classes = 1000;
  const double rho = 1280.0 / 5.0;
  std::vector<double> cumulative(classes);
  double total = 0.0;
  for (int c = 0; c < classes; ++c) {
    total += std::pow(rho, -static_cast<double>(c) / (classes - 1));
    cumulative[static_cast<size_t>(c)] = total;
  }
  std::vector<int> labels(static_cast<size_t>(count));
  std::vector<std::string> paths(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    const double q = (i + 0.5) / count * total;
    const int label = static_cast<int>(std::lower_bound(cumulative.begin(), cumulative.end(), q) -
                                       cumulative.begin());
    labels[static_cast<size_t>(i)] = std::min(label, classes - 1);
    const std::string w = wnid(labels[static_cast<size_t>(i)]);
    paths[static_cast<size_t>(i)] = "train/" + w + "/" + w + "_" + std::to_string(i) + ".JPEG";
    fs::create_directories(dir / "train" / w);
  }
  std::atomic<int> next{0};
  std::atomic<size_t> bytes{0};
  auto work = [&] {
    for (int i; (i = next++) < count;) {
      const auto [w, h] = sizes[static_cast<size_t>(i) % sizes.size()];
      const std::vector<uint8_t> jpeg = encode_jpeg(photo_like(w, h, static_cast<uint64_t>(i)), 90);
      std::ofstream(dir / paths[static_cast<size_t>(i)], std::ios::binary)
          .write(reinterpret_cast<const char*>(jpeg.data()),
                 static_cast<std::streamsize>(jpeg.size()));
      bytes += jpeg.size();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < std::max(1, threads); ++t) pool.emplace_back(work);
  for (std::thread& t : pool) t.join();
  std::ofstream list(dir / "ImageNet_LT_train.txt");
  std::ofstream files(dir / "files.txt");
  for (int i = 0; i < count; ++i) {
    list << paths[static_cast<size_t>(i)] << " " << labels[static_cast<size_t>(i)] << "\n";
    files << (dir / paths[static_cast<size_t>(i)]).string() << "\n";
  }
  const int distinct = static_cast<int>(std::unique(labels.begin(), labels.end()) -
                                        labels.begin());  // labels are sorted
  std::printf("generated %d ImageNet-LT-shaped JPEGs (%s) in %s, %d classes, mean %.1f KB\n", count,
              sizes_text.c_str(), (dir / "train").c_str(), distinct, bytes.load() / 1024.0 / count);
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

// Images per second of `fn(i)` over the images i = 0, 1, ... (cycling), on this thread, over
// at least `min_seconds` and at least one pass.
template <class Fn>
double rate(size_t images, double min_seconds, Fn&& fn) {
  size_t done = 0;
  const Clock::time_point start = Clock::now();
  while (done < images || seconds_since(start) < min_seconds) fn(done++ % images);
  return done / seconds_since(start);
}

// The training transform in parts, on one thread, on JPEGs already in memory (no file reads):
// what a loader thread spends on decoding, on the crop + resize + flip, and on the jitter.
int stages(const fs::path& dir, double min_seconds) {
  const std::vector<std::string> files = file_list(dir);
  if (files.empty()) {
    std::fprintf(stderr, "no files.txt in %s; run `generate` first\n", dir.c_str());
    return 1;
  }
  std::vector<std::string> jpegs;
  for (const std::string& f : files) jpegs.push_back(slurp(f));
  auto data = [&](size_t i) { return reinterpret_cast<const uint8_t*>(jpegs[i].data()); };
  JpegDecoder decoder;
  Image image;
  auto decode = [&](size_t i, int eighths) {
    Rect decoded;
    if (!decoder.open(data(i), jpegs[i].size()) ||
        !decoder.decode(eighths,
                        Rect{0, 0, scaled_size(decoder.width(), eighths),
                             scaled_size(decoder.height(), eighths)},
                        &image, &decoded)) {
      std::fprintf(stderr, "decode failed: %s\n", decoder.error().c_str());
      std::exit(1);
    }
  };
  auto transform = [&](double jitter, bool scaling) {
    TransformOptions o;
    o.color_jitter = jitter;
    o.decode_scaling = scaling;
    const ImagePipeline pipe(o);
    std::vector<float> out(pipe.sample_floats());
    std::string error;
    return [&jpegs, data, pipe, out, error](size_t i) mutable {
      SampleRng rng(1234, i);
      if (!pipe.process(data(i), jpegs[i].size(), true, rng, out.data(), &error)) {
        std::fprintf(stderr, "decode failed: %s\n", error.c_str());
        std::exit(1);
      }
    };
  };
  rate(std::min<size_t>(jpegs.size(), 20), 0.0, transform(0.4, true));  // warm-up
  const double full = rate(jpegs.size(), min_seconds, [&](size_t i) { decode(i, 8); });
  const double half = rate(jpegs.size(), min_seconds, [&](size_t i) { decode(i, 4); });
  std::printf("stage decode whole image, full scale %.1f img/s\n", full);
  std::printf("stage decode whole image, 1/2 scale %.1f img/s\n", half);
  for (const bool scaling : {true, false}) {
    const char* label = scaling ? "decode_scaling on" : "decode_scaling off";
    const double crop = rate(jpegs.size(), min_seconds, transform(0.0, scaling));
    const double train = rate(jpegs.size(), min_seconds, transform(0.4, scaling));
    std::printf("stage train without jitter (%s) %.1f img/s\n", label, crop);
    std::printf("stage train with jitter (%s) %.1f img/s\n", label, train);
  }
  return 0;
}

// Images per second of the image_list plugin's batch() (training transform) called from
// `threads` threads at once, each taking the next batch of `batch` samples, as tailor's
// loader threads do (without the pinned-memory copy a CUDA run adds).
double loader_rate(const tailor::plugins::ImageList& d, int threads, int batch, double seconds) {
  const int64_t n = d.size(tailor::Split::kTrain);
  std::atomic<int64_t> next{0};
  std::atomic<bool> stop{false};
  std::vector<int64_t> done(static_cast<size_t>(threads), 0);
  auto work = [&](int t) {
    std::vector<int64_t> indices(static_cast<size_t>(batch));
    while (!stop.load()) {
      const int64_t k = next++;
      for (int j = 0; j < batch; ++j) indices[static_cast<size_t>(j)] = (k * batch + j) % n;
      tailor::BatchRequest request;
      request.split = tailor::Split::kTrain;
      request.augment = true;
      request.indices = indices.data();
      request.count = indices.size();
      request.seed = static_cast<uint64_t>(k);
      d.batch(request);
      done[static_cast<size_t>(t)] += batch;
    }
  };
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(work, t);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (std::thread& t : pool) t.join();
  int64_t images = 0;
  for (int64_t v : done) images += v;
  return images / seconds_since(start);
}

int scaling(const fs::path& dir, double seconds, const std::string& threads_text, int batch,
            bool decode_scaling) {
  const std::vector<std::string> files = file_list(dir);
  if (files.empty()) {
    std::fprintf(stderr, "no files.txt in %s; run `generate` first\n", dir.c_str());
    return 1;
  }
  {
    std::ofstream list(dir / "scaling_list.txt");
    for (const std::string& f : files) list << f << " 0\n";
  }
  tailor::plugins::ImageList::Options o;
  o.train_list = (fs::absolute(dir) / "scaling_list.txt").string();
  o.image.decode_scaling = decode_scaling;
  const tailor::plugins::ImageList d(o, "bench");
  std::stringstream in(threads_text);
  for (std::string item; std::getline(in, item, ',');) {
    const int threads = std::stoi(item);
    loader_rate(d, threads, batch, std::min(1.0, seconds));  // warm-up: per-thread decoders
    std::printf("loader %d threads %.1f img/s\n", threads, loader_rate(d, threads, batch, seconds));
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
  if (args.size() >= 2 && args[0] == "imagenet_lt")
    return imagenet_lt(args[1], args.size() > 2 ? std::stoi(args[2]) : 2000,
                       args.size() > 3 ? args[3] : "500x375,800x600",
                       args.size() > 4 ? std::stoi(args[4])
                                       : static_cast<int>(std::thread::hardware_concurrency()));
  if (args.size() >= 2 && args[0] == "stages")
    return stages(args[1], args.size() > 2 ? std::stod(args[2]) : 5.0);
  if (args.size() >= 2 && args[0] == "scaling") {
    double seconds = 5.0;
    std::string threads = "1,2";
    int batch = 32;
    bool decode_scaling = true;
    for (size_t i = 2; i < args.size(); ++i) {
      if (args[i] == "--threads" && i + 1 < args.size()) {
        threads = args[++i];
      } else if (args[i] == "--batch" && i + 1 < args.size()) {
        batch = std::stoi(args[++i]);
      } else if (args[i] == "--no-scaling") {
        decode_scaling = false;
      } else {
        seconds = std::stod(args[i]);
      }
    }
    return scaling(args[1], seconds, threads, batch, decode_scaling);
  }
  if (args.size() >= 2 && args[0] == "lists") return lists(args[1]);
  if (args.size() >= 2 && args[0] == "json") return json(args[1]);
  std::fprintf(stderr,
               "usage: bench_image_pipeline generate <dir> [count] [width] [height]\n"
               "       bench_image_pipeline imagenet_lt <dir> [count] [sizes] [threads]\n"
               "       bench_image_pipeline pipeline <dir> [seconds] [--dump file] [--no-scaling]\n"
               "       bench_image_pipeline stages <dir> [seconds]\n"
               "       bench_image_pipeline scaling <dir> [seconds] [--threads 1,2] [--batch 32]"
               " [--no-scaling]\n"
               "       bench_image_pipeline lists <dir>\n"
               "       bench_image_pipeline json <dir>\n");
  return 2;
}
