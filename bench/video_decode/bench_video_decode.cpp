// bench_video_decode: clips per second of the egtea plugin's video path on one thread.
//   bench_video_decode <clip dir> <seconds> [frames_per_clip]
// For every .mp4 in the folder, round robin: "decode" = TSN frame selection (eval: segment
// middles; train: a random frame per segment) + FFmpeg decode up to the last picked frame +
// RGB conversion of the picked frames, as egtea's batch() does; "clip" = the same plus the
// CDB clip transform (random 480 crop, rotation, flip, resize to 224) into floats.
#include "clip.hpp"
#include "video.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double run(const std::vector<std::string>& clips, double seconds, int64_t nf, bool train,
           bool transform) {
  std::vector<tailor::image::Image> frames;
  tailor::clip::Scratch scratch;
  tailor::image::Image out;
  std::vector<float> floats(3 * 224 * 224 * static_cast<size_t>(nf));
  int64_t done = 0;
  uint64_t seed = 1;
  const auto start = Clock::now();
  double elapsed = 0;
  while (elapsed < seconds) {
    for (const std::string& path : clips) {
      tailor::image::SampleRng rng(seed++, 0);
      int64_t count = 0;
      std::string error;
      auto pick = [&](int64_t n) {
        return tailor::clip::tsn_indices(n, nf, train ? &rng : nullptr);
      };
      if (!tailor::video::decode_frames(path, pick, nf + 1, false, &frames, &count, &error)) {
        std::fprintf(stderr, "%s: %s\n", path.c_str(), error.c_str());
        std::exit(1);
      }
      if (transform) {
        const auto g = train ? tailor::clip::train_geometry(frames[0].width, frames[0].height, 480,
                                                            10.0, true, rng)
                             : tailor::clip::eval_geometry(frames[0].width, frames[0].height, 480);
        for (size_t t = 0; t < frames.size(); ++t) {
          tailor::clip::render(frames[t], g, 224, &scratch, &out);
          for (size_t i = 0; i < out.pixels.size(); ++i)
            floats[(i % 3) * frames.size() * 224 * 224 + t * 224 * 224 + i / 3] = out.pixels[i];
        }
      }
      ++done;
    }
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return static_cast<double>(done) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <clip dir> <seconds> [frames_per_clip]\n", argv[0]);
    return 2;
  }
  std::vector<std::string> clips;
  for (const auto& e : std::filesystem::directory_iterator(argv[1]))
    if (e.path().extension() == ".mp4") clips.push_back(e.path().string());
  std::sort(clips.begin(), clips.end());
  if (clips.empty()) {
    std::fprintf(stderr, "no .mp4 files in %s\n", argv[1]);
    return 1;
  }
  const double seconds = std::atof(argv[2]);
  const int64_t nf = argc > 3 ? std::atoll(argv[3]) : 10;
  std::printf("cpp decode eval %.2f clips/s\n", run(clips, seconds, nf, false, false));
  std::printf("cpp decode train %.2f clips/s\n", run(clips, seconds, nf, true, false));
  std::printf("cpp clip train %.2f clips/s\n", run(clips, seconds, nf, true, true));
  return 0;
}
