// Tests of the egtea dataset on generated clips: real H.264 .mp4 files written with the ffmpeg
// tool and CDB-style JPEG frame folders, whose frames encode their index as a grey level.
#include "clip.hpp"
#include "egtea.hpp"

#include "common/testing.hpp"

#include <tailor/testing/readme_table.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

using tailor::Split;
using tailor::image::Image;
using tailor::image::testing::fetch;
using tailor::image::testing::TempDir;
using tailor::image::testing::write_bytes;
using tailor::plugins::Egtea;
namespace fs = std::filesystem;

namespace {

constexpr int kWidth = 64;
constexpr int kHeight = 48;

// Grey level of frame i of an n-frame clip: spread over 10..220 so that codec noise of a few
// levels never confuses two frames.
int level(int i, int n) {
  return 10 + 210 * i / (n - 1);
}
// The frame index whose level is nearest to v.
int index_of(float v, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i)
    if (std::abs(level(i, n) - v) < std::abs(level(best, n) - v)) best = i;
  return best;
}

struct ClipSpec {
  const char* name;
  int frames;
  const char* ids;  // "<action> <verb> <noun>..."
  bool split_edge;  // left half black
};
// Train lines 1-4, val line 1, test line 1. Lines 2 and 3 carry 2 and 3 nouns.
const ClipSpec kTrain[4] = {
    {"P01-R01-PastaSalad-1000-2000-F000024-F000048", 25, "1 1 1", false},
    {"P01-R01-PastaSalad-3000-4300-F000072-F000102", 31, "3 2 2 3", false},
    {"OP02-R03-BaconAndEggs-500-1500-F000012-F000036", 25, "4 3 4 5 6", false},
    {"OP02-R03-BaconAndEggs-2000-3000-F000048-F000072", 25, "2 1 7", true},
};
const ClipSpec kVal = {"P20-R01-PastaSalad-100-1100-F000002-F000026", 25, "3 2 2", false};
const ClipSpec kTest = {"P03-R02-Cheeseburger-0-500-F000000-F000012", 12, "4 3 4", false};

Image frame_image(const ClipSpec& c, int i) {
  Image img;
  img.resize(kWidth, kHeight);
  const auto v = static_cast<uint8_t>(level(i, c.frames));
  for (int y = 0; y < kHeight; ++y)
    for (int x = 0; x < kWidth; ++x)
      for (int ch = 0; ch < 3; ++ch) img.row(y)[x * 3 + ch] = c.split_edge && x < 32 ? 0 : v;
  return img;
}

bool have_ffmpeg() {
  return std::system("ffmpeg -version > /dev/null 2>&1") == 0;
}

// Encodes `frames` (RGB) as H.264 (lossless, yuv420p, header first) in an .mp4.
void write_video(const fs::path& path, const std::vector<Image>& frames) {
  fs::create_directories(path.parent_path());
  const fs::path raw = path.string() + ".rgb";
  std::string bytes;
  for (const Image& f : frames) bytes.append(f.pixels.begin(), f.pixels.end());
  write_bytes(raw, bytes);
  const std::string cmd =
      "ffmpeg -loglevel error -y -f rawvideo -pix_fmt rgb24 -s " + std::to_string(frames[0].width) +
      "x" + std::to_string(frames[0].height) + " -r 24 -i '" + raw.string() +
      "' -c:v libx264 -qp 0 -g 8 -pix_fmt yuv420p -movflags +faststart '" + path.string() + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  fs::remove(raw);
}

std::string session(const std::string& clip) {
  return tailor::plugins::session_of(clip);
}

struct Fixture {
  TempDir dir{"egtea"};

  explicit Fixture(bool videos = true) {
    write_bytes(dir / "action_annotation/verb_idx.txt", "Take 1\nPut down 2\r\nOpen 3\n");
    write_bytes(dir / "action_annotation/action_idx.txt",
                "Take bowl 1\nTake eating_utensil 2\nPut down bowl 3\nOpen fridge drawer 4\n");
    std::string train;
    for (const ClipSpec& c : kTrain) {
      add(c, videos);
      train += std::string(c.name) + " " + c.ids + "\n";
    }
    add(kVal, videos);
    add(kTest, videos);
    write_bytes(dir / "train_split.txt", train);
    write_bytes(dir / "val_split.txt", std::string(kVal.name) + " " + kVal.ids + "\n");
    write_bytes(dir / "test_split.txt", std::string(kTest.name) + " " + kTest.ids + "\n");
  }

  void add(const ClipSpec& c, bool videos) {
    std::vector<Image> frames;
    for (int i = 0; i < c.frames; ++i) {
      frames.push_back(frame_image(c, i));
      const auto jpeg = tailor::image::encode_jpeg(frames.back(), 95, /*subsample=*/false);
      write_bytes(frame_dir(c.name) /
                      (std::string(6 - std::to_string(i).size(), '0') + std::to_string(i) + ".jpg"),
                  std::string(jpeg.begin(), jpeg.end()));
    }
    if (videos) write_video(video(c.name), frames);
  }

  fs::path frame_dir(const std::string& clip) const {
    return dir / ("extracted_frames/" + session(clip) + "/" + clip);
  }
  fs::path video(const std::string& clip) const {
    return dir / ("cropped_clips/" + session(clip) + "/" + clip + ".mp4");
  }

  Egtea::Options options(const char* source) const {
    Egtea::Options o;
    o.root = dir.str();
    o.source = source;
    o.frames_per_clip = 4;
    o.crop_size = 40;
    o.size = 16;
    return o;
  }
};

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const tailor::Error& e) {
    return e.what();
  }
  FAIL("expected tailor::Error");
  return {};
}

}  // namespace

TEST_CASE("egtea parses split and index files", "[egtea]") {
  const auto entries = tailor::plugins::parse_split(
      "\xEF\xBB\xBF"
      "A-B-C-1 1 2 3\r\n\nA-B-C-2 10 3 4 5\nA-B-C-3 7 1 2 3 4\n",
      "s.txt", "egtea: ");
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].clip == "A-B-C-1");
  CHECK(entries[0].action == 1);
  CHECK(entries[0].verb == 2);
  CHECK(entries[0].nouns == std::vector<int64_t>{3});
  CHECK(entries[1].line == 3);
  CHECK(entries[1].nouns == std::vector<int64_t>{4, 5});
  CHECK(entries[2].nouns == std::vector<int64_t>{2, 3, 4});

  CHECK_THROWS_WITH(tailor::plugins::parse_split("A 1 2 3\nB 1 2\n", "s.txt", "egtea: "),
                    Catch::Contains("egtea: s.txt:2") && Catch::Contains("found 3 fields") &&
                        Catch::Contains("<verb_id>"));
  CHECK_THROWS_WITH(tailor::plugins::parse_split("A 1 0 3\n", "s.txt", "egtea: "),
                    Catch::Contains("s.txt:1") && Catch::Contains("verb id \"0\""));

  const auto names =
      tailor::plugins::parse_index("Open fridge drawer 2\nTake 1\n", "verb_idx.txt", "");
  CHECK(names == std::vector<std::string>{"Take", "Open fridge drawer"});
  CHECK_THROWS_WITH(tailor::plugins::parse_index("Take 1\nPut 1\n", "v.txt", ""),
                    Catch::Contains("v.txt:2") && Catch::Contains("appears twice"));
  CHECK_THROWS_WITH(tailor::plugins::parse_index("Take\n", "v.txt", ""),
                    Catch::Contains("v.txt:1"));

  CHECK(session("OP01-R01-PastaSalad-1002316-1004005-F024051-F024101") == "OP01-R01-PastaSalad");
  CHECK(session("OP01-R01") == "");
}

TEST_CASE("egtea TSN sampling follows CDB's linspace segments", "[egtea]") {
  using tailor::clip::tsn_indices;
  // Expected values printed by numpy for CDB's formulas.
  CHECK(tsn_indices(25, 4, nullptr) == std::vector<int64_t>{3, 9, 15, 21});
  CHECK(tsn_indices(103, 10, nullptr) ==
        std::vector<int64_t>{5, 15, 25, 35, 45, 56, 66, 76, 86, 96});
  CHECK(tsn_indices(12, 10, nullptr) == std::vector<int64_t>{0, 1, 2, 3, 4, 6, 7, 8, 9, 10});
  const std::vector<std::pair<int64_t, int64_t>> segments = {{0, 10},  {10, 20}, {20, 30}, {30, 40},
                                                             {40, 51}, {51, 61}, {61, 71}, {71, 81},
                                                             {81, 91}, {91, 102}};
  std::vector<int> hits(103, 0);
  for (uint64_t seed = 0; seed < 400; ++seed) {
    tailor::image::SampleRng rng(seed, 3);
    const auto idx = tsn_indices(103, 10, &rng);
    for (size_t i = 0; i < idx.size(); ++i) {
      CHECK(idx[i] >= segments[i].first);
      CHECK(idx[i] < segments[i].second);
      ++hits[static_cast<size_t>(idx[i])];
    }
  }
  CHECK(hits[0] > 0);
  CHECK(hits[50] > 0);  // the upper end of the wider segment [40, 51)
  CHECK(hits[101] > 0);
  CHECK(hits[102] == 0);  // never the last frame: the range is half open
}

TEST_CASE("egtea loads labels, class names and counts for both label sets", "[egtea]") {
  Fixture fx(/*videos=*/false);
  Egtea verbs(fx.options("frames"));
  CHECK(verbs.modality() == tailor::Modality::kVideo);
  CHECK(verbs.sample_shape() == std::vector<int64_t>{3, 4, 16, 16});
  CHECK(verbs.class_names() == std::vector<std::string>{"Take", "Put down", "Open"});
  CHECK(verbs.size(Split::kTrain) == 4);
  CHECK(verbs.size(Split::kVal) == 1);
  CHECK(verbs.size(Split::kTest) == 1);
  CHECK(verbs.class_counts(Split::kTrain) == std::vector<int64_t>{2, 1, 1});
  const at::Tensor labels = verbs.labels(Split::kTrain);
  CHECK(labels.scalar_type() == at::kLong);
  CHECK(std::vector<int64_t>(labels.data_ptr<int64_t>(), labels.data_ptr<int64_t>() + 4) ==
        std::vector<int64_t>{0, 1, 2, 0});
  CHECK(verbs.where(Split::kTrain, 2) == (fx.dir / "train_split.txt").string() + " line 3");
  CHECK(verbs.clip_path(Split::kTrain, 2) == fx.frame_dir(kTrain[2].name).string());

  Egtea::Options o = fx.options("frames");
  o.label_set = "action";
  Egtea actions(o);
  CHECK(actions.class_names().size() == 4);
  CHECK(actions.class_names()[3] == "Open fridge drawer");
  const at::Tensor a = actions.labels(Split::kTrain);
  CHECK(std::vector<int64_t>(a.data_ptr<int64_t>(), a.data_ptr<int64_t>() + 4) ==
        std::vector<int64_t>{0, 2, 3, 1});
  CHECK(actions.labels(Split::kTest)[0].item<int64_t>() == 3);
  CHECK(fetch(actions, Split::kVal, {0}, false, 0).targets[0].item<int64_t>() == 2);
}

TEST_CASE("egtea frame folders: eval frames and pixels are exact", "[egtea]") {
  Fixture fx(/*videos=*/false);
  Egtea d(fx.options("frames"));
  const tailor::Batch b = fetch(d, Split::kTrain, {0, 1, 3}, /*augment=*/false, 0);
  REQUIRE(b.inputs.sizes() == at::IntArrayRef({3, 3, 4, 16, 16}));
  // Clip 0 (25 frames): frames 3, 9, 15, 21; clip 1 (31 frames): 3, 11, 18, 26.
  const std::vector<std::vector<int>> expected = {{3, 9, 15, 21}, {3, 11, 18, 26}};
  for (int k = 0; k < 2; ++k)
    for (int t = 0; t < 4; ++t)
      for (int c = 0; c < 3; ++c) {
        const at::Tensor plane = b.inputs[k][c][t];
        const float v = static_cast<float>(level(expected[k][t], kTrain[k].frames));
        CHECK(plane.min().item<float>() == v);
        CHECK(plane.max().item<float>() == v);
      }
  // Clip 3 has a black left half: centre crop 40 of 64 starts at x = 12, so the resized
  // columns 0..7 read frame columns < 32 (black) and 8..15 columns >= 32.
  const at::Tensor edge = b.inputs[2][0][1];
  const float v = static_cast<float>(level(9, 25));
  for (int x = 0; x < 16; ++x) {
    CHECK(edge.select(1, x).min().item<float>() == (x < 8 ? 0.0f : v));
    CHECK(edge.select(1, x).max().item<float>() == (x < 8 ? 0.0f : v));
  }
}

TEST_CASE("egtea training samples frames per segment, deterministically", "[egtea]") {
  Fixture fx(/*videos=*/false);
  Egtea d(fx.options("frames"));
  const std::vector<int64_t> idx = {1, 1, 0, 1, 2};
  const tailor::Batch a = fetch(d, Split::kTrain, idx, /*augment=*/true, 77);
  CHECK(at::equal(a.inputs, fetch(d, Split::kTrain, idx, true, 77).inputs));
  CHECK_FALSE(at::equal(a.inputs, fetch(d, Split::kTrain, idx, true, 78).inputs));
  CHECK_FALSE(at::equal(a.inputs[0], a.inputs[1]));  // same clip, other position
  // The centre pixel survives crop, rotation and flip: its level names the frame.
  for (size_t k = 0; k < idx.size(); ++k) {
    const int n = kTrain[idx[k]].frames;
    const double step = (n - 1) / 4.0;
    for (int t = 0; t < 4; ++t) {
      const float v = a.inputs[k][0][t][8][8].item<float>();
      const int frame = index_of(v, n);
      CHECK(v == static_cast<float>(level(frame, n)));
      CHECK(frame >= static_cast<int>(t * step));
      CHECK(frame < static_cast<int>((t + 1) * step));
    }
  }
  // Concurrent callers get the same batch.
  std::vector<at::Tensor> results(3);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < results.size(); ++t)
    threads.emplace_back([&, t] { results[t] = fetch(d, Split::kTrain, idx, true, 77).inputs; });
  for (auto& thread : threads) thread.join();
  for (const auto& r : results) CHECK(at::equal(r, a.inputs));
}

TEST_CASE("egtea channel order and normalisation", "[egtea]") {
  Fixture fx(/*videos=*/false);
  // A colour frame folder in place of the val clip (25 frames of R, G, B = 200, 30, 60).
  Image img;
  img.resize(kWidth, kHeight);
  for (size_t i = 0; i < img.pixels.size(); i += 3) {
    img.pixels[i] = 200;
    img.pixels[i + 1] = 30;
    img.pixels[i + 2] = 60;
  }
  const auto jpeg = tailor::image::encode_jpeg(img, 95, /*subsample=*/false);
  for (int i = 0; i < 25; ++i)
    write_bytes(fx.frame_dir(kVal.name) /
                    ("0000" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ".jpg"),
                std::string(jpeg.begin(), jpeg.end()));
  Egtea bgr(fx.options("frames"));
  const at::Tensor x = fetch(bgr, Split::kVal, {0}, false, 0).inputs[0];
  CHECK(x[0].mean().item<float>() == Approx(60).margin(2));  // B first, as cv2.imread
  CHECK(x[1].mean().item<float>() == Approx(30).margin(2));
  CHECK(x[2].mean().item<float>() == Approx(200).margin(2));

  Egtea::Options o = fx.options("frames");
  o.channel_order = "rgb";
  o.value_scale = 1.0 / 255;
  o.mean = {0.485, 0.456, 0.406};
  o.std_dev = {0.229, 0.224, 0.225};
  Egtea rgb(o);
  const at::Tensor y = fetch(rgb, Split::kVal, {0}, false, 0).inputs[0];
  CHECK(y[0].mean().item<float>() == Approx((200 / 255.0 - 0.485) / 0.229).margin(0.04));
  CHECK(y[2].mean().item<float>() == Approx((60 / 255.0 - 0.406) / 0.225).margin(0.04));
}

TEST_CASE("egtea decodes .mp4 clips with FFmpeg", "[egtea][video]") {
  if (!have_ffmpeg()) {
    WARN("the ffmpeg tool is not installed (scripts/install-deps.sh installs it); skipped");
    return;
  }
  Fixture fx;
  Egtea video(fx.options("video"));
  Egtea frames(fx.options("frames"));
  CHECK(video.clip_path(Split::kTrain, 0) == fx.video(kTrain[0].name).string());
  const std::vector<int64_t> idx = {0, 1, 2, 3};
  const tailor::Batch v = fetch(video, Split::kTrain, idx, false, 0);
  const tailor::Batch f = fetch(frames, Split::kTrain, idx, false, 0);
  // H.264 (yuv420p) round trip: within a few levels of the exact frame folders.
  CHECK((v.inputs - f.inputs).abs().max().item<float>() <= 3.0f);
  CHECK(at::equal(v.targets, f.targets));
  // Training draws the same frames and geometry from either source.
  const tailor::Batch vt = fetch(video, Split::kTrain, idx, true, 5);
  const tailor::Batch ft = fetch(frames, Split::kTrain, idx, true, 5);
  for (size_t k = 0; k < idx.size(); ++k)
    for (int t = 0; t < 4; ++t) {
      const int n = kTrain[idx[k]].frames;
      CHECK(index_of(vt.inputs[k][0][t][8][8].item<float>(), n) ==
            index_of(ft.inputs[k][0][t][8][8].item<float>(), n));
    }
  // The 12-frame test clip: eval frames 1, 4, 6, 9.
  const at::Tensor test = fetch(video, Split::kTest, {0}, false, 0).inputs[0];
  const int expected[4] = {1, 4, 6, 9};
  for (int t = 0; t < 4; ++t) CHECK(index_of(test[1][t].mean().item<float>(), 12) == expected[t]);
}

TEST_CASE("egtea reports missing clips, short folders and bad split lines", "[egtea]") {
  Fixture fx(/*videos=*/false);
  const std::string train = (fx.dir / "train_split.txt").string();
  fs::remove_all(fx.frame_dir(kTrain[2].name));
  for (int i = 3; i < 25; ++i)
    fs::remove(fx.frame_dir(kTrain[3].name) /
               ("0000" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ".jpg"));
  std::string msg = error_of([&] { Egtea d(fx.options("frames")); });
  CHECK_THAT(msg, Catch::Contains("2 of 4 train clips") &&
                      Catch::Contains(fx.frame_dir(kTrain[2].name).string()) &&
                      Catch::Contains(train + ":3): frame folder not found") &&
                      Catch::Contains(train + ":4): frame folder has 3 .jpg frames") &&
                      Catch::Contains("on_bad_clip = \"skip\""));

  Egtea::Options o = fx.options("frames");
  o.on_bad_clip = "skip";
  Egtea skipped(o);
  CHECK(skipped.size(Split::kTrain) == 2);
  CHECK(skipped.dropped_clips() == 2);
  CHECK(skipped.where(Split::kTrain, 1) == train + " line 2");

  // Missing videos, found at load.
  msg = error_of([&] { Egtea d(fx.options("video")); });
  CHECK_THAT(msg, Catch::Contains("4 of 4 train clips") &&
                      Catch::Contains(fx.video(kTrain[0].name).string()) &&
                      Catch::Contains("video file not found"));

  // Split lines with too few fields, and ids above the index.
  write_bytes(fx.dir / "bad_split.txt",
              std::string(kTrain[0].name) + " 1 1 1\n" + kTrain[1].name + " 3 2\n");
  o = fx.options("frames");
  o.train_split = "bad_split.txt";
  msg = error_of([&] { Egtea d(o); });
  CHECK_THAT(msg, Catch::Contains((fx.dir / "bad_split.txt").string() + ":2") &&
                      Catch::Contains("found 3 fields"));
  write_bytes(fx.dir / "bad_split.txt", std::string(kTrain[0].name) + " 1 9 1\n");
  msg = error_of([&] { Egtea d(o); });
  CHECK_THAT(msg, Catch::Contains("bad_split.txt:1") && Catch::Contains("verb id 9"));

  o = fx.options("frames");
  o.annotation_dir = "nowhere";
  msg = error_of([&] { Egtea d(o); });
  CHECK_THAT(msg, Catch::Contains("verb_idx.txt") && Catch::Contains("annotation_dir"));
}

TEST_CASE("egtea reports truncated and corrupt videos at batch time", "[egtea][video]") {
  if (!have_ffmpeg()) {
    WARN("the ffmpeg tool is not installed; skipped");
    return;
  }
  Fixture fx;
  auto cut = [&](const fs::path& path, double keep) {
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    write_bytes(path, bytes.substr(0, static_cast<size_t>(bytes.size() * keep)));
  };
  cut(fx.video(kTrain[1].name), 0.5);                      // header first: frames missing
  write_bytes(fx.video(kTrain[2].name), "not a video\n");  // not a container at all
  const std::string train = (fx.dir / "train_split.txt").string();

  Egtea strict(fx.options("video"));
  std::string msg = error_of([&] { fetch(strict, Split::kTrain, {0, 1}, false, 0); });
  CHECK_THAT(msg, Catch::Contains(fx.video(kTrain[1].name).string()) &&
                      Catch::Contains(train + " line 2") && Catch::Contains("truncated") &&
                      Catch::Contains("on_bad_clip"));
  msg = error_of([&] { fetch(strict, Split::kTrain, {2}, true, 0); });
  CHECK_THAT(msg,
             Catch::Contains(fx.video(kTrain[2].name).string()) && Catch::Contains("cannot open"));
  CHECK_THROWS_WITH(fetch(strict, Split::kVal, {1}, false, 0),
                    Catch::Contains("index 1") && Catch::Contains("'val' of size 1"));

  Egtea::Options o = fx.options("video");
  o.on_bad_clip = "skip";
  Egtea lenient(o);
  const tailor::Batch b = fetch(lenient, Split::kTrain, {0, 1, 2, 3}, true, 1);
  CHECK(lenient.zero_filled_clips() == 2);
  CHECK(b.inputs[1].abs().max().item<float>() == 0.0f);
  CHECK(b.inputs[2].abs().max().item<float>() == 0.0f);
  CHECK(b.inputs[0].max().item<float>() > 0.0f);
  CHECK(b.targets[2].item<int64_t>() == 2);  // the label stays
}

TEST_CASE("egtea checks CDB's train verb profile", "[egtea]") {
  TempDir dir("egtea_counts");
  std::string verbs;
  for (int v = 1; v <= 19; ++v)
    verbs += "verb" + std::to_string(v) + " " + std::to_string(v) + "\n";
  write_bytes(dir / "action_annotation/verb_idx.txt", verbs);
  const std::string clip = "P01-R01-PastaSalad-1000-2000-F000024-F000048";
  for (int i = 0; i < 12; ++i)
    tailor::image::testing::write_jpeg(
        dir / ("extracted_frames/P01-R01-PastaSalad/" + clip + "/0000" + (i < 10 ? "0" : "") +
               std::to_string(i) + ".jpg"),
        100, 100, 100, 16, 16);
  auto write_split = [&](int64_t moved) {
    std::string text;
    for (size_t v = 0; v < tailor::plugins::kCdbTrainVerbCounts.size(); ++v) {
      int64_t n = tailor::plugins::kCdbTrainVerbCounts[v];
      if (v == 0) n -= moved;
      if (v == 1) n += moved;
      for (int64_t i = 0; i < n; ++i) text += clip + " 1 " + std::to_string(v + 1) + " 1\n";
    }
    write_bytes(dir / "train_split.txt", text);
  };
  Egtea::Options o;
  o.root = dir.str();
  o.source = "frames";
  o.val_split = o.test_split = "";
  write_split(0);
  Egtea cdb(o);
  CHECK(cdb.size(Split::kTrain) == tailor::plugins::kCdbTrainLines);
  CHECK(cdb.class_counts(Split::kTrain)[2] == 1421);

  write_split(1);
  const std::string msg = error_of([&] { Egtea d(o); });
  CHECK_THAT(msg, Catch::Contains("train_split.txt has CDB's 6372 lines") &&
                      Catch::Contains("expected [429, 779, 1421") &&
                      Catch::Contains("found    [428, 780, 1421") &&
                      Catch::Contains("count_check"));
  o.count_check = "warn";
  CHECK(Egtea(o).class_counts(Split::kTrain)[0] == 428);
}

TEST_CASE("egtea README parameter table matches the options schema", "[egtea]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README, tailor::schema_of<Egtea::Options>());
}
