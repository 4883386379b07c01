// egtea: EGTEA Gaze+ action clips with the CDB-loss splits and clip pipeline.
#include "egtea.hpp"

#include "clip.hpp"
#include "common/jpeg.hpp"
#include "common/random.hpp"
#include "video.hpp"

#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>

#include <tailor/artifacts.hpp>
#include <tailor/log.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace tailor::plugins {

namespace fs = std::filesystem;

namespace {

constexpr const char* kName = "egtea";

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    const size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

bool positive_int(std::string_view s, int64_t* value) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *value);
  return ec == std::errc() && end == s.data() + s.size() && *value >= 1;
}

// Calls f(line_number, line) for every non-blank line (BOM, CR and surrounding space removed).
template <class F>
void for_each_line(std::string_view content, F&& f) {
  if (content.substr(0, 3) == "\xEF\xBB\xBF") content.remove_prefix(3);
  uint32_t number = 0;
  while (!content.empty()) {
    const size_t end = content.find('\n');
    const std::string_view raw = content.substr(0, end);
    content = end == std::string_view::npos ? std::string_view() : content.substr(end + 1);
    ++number;
    const std::string_view line = trim(raw);
    if (!line.empty()) f(number, line);
  }
}

std::string resolve(const std::string& root, const std::string& path, const char* fallback) {
  const std::string p = path.empty() ? fallback : path;
  if (p.empty()) return root;
  return fs::path(p).is_absolute() || root.empty() ? p : (fs::path(root) / p).string();
}

bool read_bytes(const std::string& path, std::vector<uint8_t>* bytes) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return false;
  bytes->assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  return !file.bad();
}

std::string frame_name(int64_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06lld.jpg", static_cast<long long>(index));
  return buf;
}

// Images named *.jpg in a frame folder; -1 when it is not a readable directory.
int64_t count_frames(const fs::path& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return -1;
  int64_t n = 0;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return -1;
    const std::string name = it->path().filename().string();
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".jpg") == 0) ++n;
  }
  return n;
}

}  // namespace

std::vector<SplitEntry> parse_split(std::string_view content, const std::string& source,
                                    const std::string& prefix) {
  std::vector<SplitEntry> out;
  for_each_line(content, [&](uint32_t number, std::string_view line) {
    const std::vector<std::string_view> f = fields_of(line);
    TAILOR_CHECK(f.size() >= 4, prefix, source, ":", number,
                 ": expected `<clip> <action_id> "
                 "<verb_id> <noun_id> [<noun_id>...]`, found ",
                 f.size(), " field", f.size() == 1 ? "" : "s", " in \"", line,
                 "\"; fix the line or point the split option at an EGTEA/CDB split file");
    SplitEntry e;
    e.clip = std::string(f[0]);
    e.line = number;
    int64_t ids[3] = {0, 0, 0};
    const char* what[3] = {"action", "verb", "noun"};
    for (size_t i = 1; i < f.size(); ++i) {
      int64_t id = 0;
      TAILOR_CHECK(positive_int(f[i], &id), prefix, source, ":", number, ": ",
                   what[std::min<size_t>(i - 1, 2)], " id \"", f[i],
                   "\" is not a positive integer (ids are 1-based) in \"", line, "\"");
      if (i <= 3) ids[i - 1] = id;
      if (i >= 3) e.nouns.push_back(id);
    }
    e.action = ids[0];
    e.verb = ids[1];
    out.push_back(std::move(e));
  });
  return out;
}

std::vector<std::string> parse_index(std::string_view content, const std::string& source,
                                     const std::string& prefix) {
  std::vector<std::pair<int64_t, std::string>> items;
  std::vector<uint32_t> lines;
  for_each_line(content, [&](uint32_t number, std::string_view line) {
    const size_t space = line.find_last_of(" \t");
    int64_t id = 0;
    TAILOR_CHECK(space != std::string_view::npos && positive_int(line.substr(space + 1), &id),
                 prefix, source, ":", number,
                 ": expected `<name> <1-based id>` with the id "
                 "last, found \"",
                 line, "\"");
    items.emplace_back(id, std::string(trim(line.substr(0, space))));
    lines.push_back(number);
  });
  std::vector<std::string> names(items.size());
  std::vector<bool> seen(items.size(), false);
  for (size_t i = 0; i < items.size(); ++i) {
    const int64_t id = items[i].first;
    TAILOR_CHECK(id <= static_cast<int64_t>(items.size()) && !seen[static_cast<size_t>(id - 1)],
                 prefix, source, ":", lines[i], ": id ", id,
                 id <= static_cast<int64_t>(items.size()) ? " appears twice"
                                                          : " is larger than the number of lines",
                 "; ids must number the ", items.size(), " entries 1..", items.size(),
                 " once each");
    seen[static_cast<size_t>(id - 1)] = true;
    names[static_cast<size_t>(id - 1)] = items[i].second;
  }
  return names;
}

std::string session_of(std::string_view clip) {
  size_t pos = 0;
  for (int dashes = 0; dashes < 3; ++dashes) {
    pos = clip.find('-', pos);
    if (pos == std::string_view::npos) return {};
    if (dashes < 2) ++pos;
  }
  return std::string(clip.substr(0, pos));
}

Egtea::Egtea(const Options& options) : options_(options) {
  const Options& o = options_;
  TAILOR_CHECK(!o.root.empty(), kName,
               ": root is empty; set [dataset] root to the EGTEA Gaze+ directory (the one "
               "holding cropped_clips/ or extracted_frames/)");
  TAILOR_CHECK(!o.train_split.empty(), kName,
               ": train_split is empty; set [dataset] train_split to CDB's train_split.txt");
  TAILOR_CHECK(o.mean.size() == 3 && o.std_dev.size() == 3, kName,
               ": mean and std need 3 values each (one per channel), got ", o.mean.size(), " and ",
               o.std_dev.size());
  const bool video = o.source == Options::Source::kVideo;
  clips_root_ = resolve(o.root, o.clips_dir, video ? "cropped_clips" : "extracted_frames");

  const std::string index_file =
      (fs::path(resolve(o.root, o.annotation_dir, "action_annotation")) /
       (o.label_set == Options::LabelSet::kVerb ? "verb_idx.txt" : "action_idx.txt"))
          .string();
  TAILOR_CHECK(fs::is_regular_file(index_file), kName, ": class index file ", index_file,
               " not found; set [dataset] annotation_dir to the folder holding EGTEA's "
               "verb_idx.txt and action_idx.txt (action_annotation/ of the official download)");
  class_names_ = parse_index(image::read_file(index_file, std::string(kName) + ": class index"),
                             index_file, std::string(kName) + ": ");
  const auto num_classes = static_cast<int64_t>(class_names_.size());

  const std::string split_dir = resolve(o.root, o.split_dir, "");
  load_split(resolve(split_dir, o.train_split, ""), "train", num_classes, &train_);
  if (!o.val_split.empty())
    load_split(resolve(split_dir, o.val_split, ""), "val", num_classes, &val_);
  if (!o.test_split.empty())
    load_split(resolve(split_dir, o.test_split, ""), "test", num_classes, &test_);

  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v)
      lut_[c][v] = static_cast<float>((v * o.value_scale - o.mean[static_cast<size_t>(c)]) /
                                      o.std_dev[static_cast<size_t>(c)]);
}

void Egtea::load_split(const std::string& file, const char* split, int64_t num_classes,
                       SplitData* out) {
  const Options& o = options_;
  const std::string prefix = std::string(kName) + ": ";
  const std::vector<SplitEntry> entries =
      parse_split(image::read_file(file, prefix + split + "_split"), file, prefix);
  TAILOR_CHECK(!entries.empty(), kName, ": ", split, " split file ", file,
               " has no clips; point [dataset] ", split, "_split at a non-empty split file");

  if (std::string(split) == "train" && static_cast<int64_t>(entries.size()) == kCdbTrainLines &&
      o.count_check != Options::CountCheck::kOff) {
    std::vector<int64_t> verbs(kCdbTrainVerbCounts.size(), 0);
    for (const SplitEntry& e : entries)
      if (e.verb <= static_cast<int64_t>(verbs.size())) ++verbs[static_cast<size_t>(e.verb - 1)];
    if (!std::equal(verbs.begin(), verbs.end(), kCdbTrainVerbCounts.begin())) {
      std::string found, expected;
      for (size_t c = 0; c < verbs.size(); ++c) {
        found += (c ? ", " : "") + std::to_string(verbs[c]);
        expected += (c ? ", " : "") + std::to_string(kCdbTrainVerbCounts[c]);
      }
      const std::string what = detail::concat(
          kName, ": ", file, " has CDB's ", kCdbTrainLines,
          " lines but not its train verb counts:\n  expected [", expected, "]\n  found    [", found,
          "]\nUse CDB-loss's EGTEA/data/train_split.txt (sha256 d6bfde5d...c37c) to compare "
          "with published results, or set [dataset] count_check = \"warn\" or \"off\"");
      TAILOR_CHECK(o.count_check != Options::CountCheck::kError, what);
      log_warn(what);
    }
  }

  const bool video = o.source == Options::Source::kVideo;
  const int64_t min_frames = std::string(split) == "train" ? o.frames_per_clip + 1 : 1;
  std::vector<std::string> bad;
  out->clips.source = file;
  for (const SplitEntry& e : entries) {
    const int64_t id = o.label_set == Options::LabelSet::kVerb ? e.verb : e.action;
    const char* label_set = Options::kLabelSets.name(o.label_set);
    TAILOR_CHECK(id <= num_classes, kName, ": ", file, ":", e.line, ": ", label_set, " id ", id,
                 " is above the ", num_classes, " classes of the ", label_set,
                 " index file; use the index files that belong to these splits");
    const std::string session = session_of(e.clip);
    TAILOR_CHECK(!session.empty(), kName, ": ", file, ":", e.line, ": clip name \"", e.clip,
                 "\" lacks the <participant>-<recipe id>-<recipe>- prefix that names its "
                 "session folder (e.g. OP01-R01-PastaSalad-1002316-1004005-F024051-F024101)");
    const fs::path path = fs::path(clips_root_) / session / (video ? e.clip + ".mp4" : e.clip);
    std::string problem;
    int64_t frames = 0;
    if (video) {
      std::error_code ec;
      if (!fs::is_regular_file(path, ec))
        problem = "video file not found";
      else if (fs::file_size(path, ec) == 0)
        problem = "video file is empty";
    } else {
      frames = count_frames(path);
      if (frames < 0)
        problem = "frame folder not found";
      else if (frames < min_frames)
        problem = detail::concat("frame folder has ", frames, " .jpg frames, fewer than the ",
                                 min_frames, " a ", split, " clip needs (frames_per_clip",
                                 min_frames > 1 ? " + 1" : "", ")");
    }
    if (!problem.empty()) {
      bad.push_back(detail::concat(path.string(), " (", file, ":", e.line, "): ", problem));
      continue;
    }
    out->clips.add(e.clip, id - 1, e.line);
    out->frame_count.push_back(frames);
  }
  if (!bad.empty()) {
    std::string list;
    for (size_t i = 0; i < bad.size() && i < 5; ++i) list += "\n  " + bad[i];
    if (bad.size() > 5) list += "\n  ...";
    const std::string what = detail::concat(kName, ": ", bad.size(), " of ", entries.size(), " ",
                                            split, " clips cannot be used:", list);
    TAILOR_CHECK(o.on_bad_clip != Options::OnBadClip::kError, what,
                 "\nCheck [dataset] root, source and clips_dir (",
                 video ? "videos are read from " : "frame folders are read from ", clips_root_,
                 "/<session>/), or set [dataset] on_bad_clip = \"skip\" to drop these clips");
    log_warn(detail::concat(what, "\nDropped (on_bad_clip = \"skip\")."));
    dropped_ += static_cast<int64_t>(bad.size());
    TAILOR_CHECK(!out->clips.empty(), kName, ": every clip of ", file,
                 " was dropped; fix [dataset] root / clips_dir");
  }
  out->labels = at::from_blob(out->clips.labels.data(),
                              {static_cast<int64_t>(out->clips.labels.size())}, at::kLong)
                    .clone();
}

const Egtea::SplitData& Egtea::split_data(Split split) const {
  switch (split) {
    case Split::kTrain:
      return train_;
    case Split::kVal:
      return val_;
    case Split::kTest:
      return test_;
  }
  return train_;
}

std::vector<int64_t> Egtea::sample_shape() const {
  return {3, options_.frames_per_clip, options_.size, options_.size};
}

int64_t Egtea::size(Split split) const {
  return static_cast<int64_t>(split_data(split).clips.size());
}

at::Tensor Egtea::labels(Split split) const {
  const SplitData& s = split_data(split);
  return s.labels.defined() ? s.labels : at::empty({0}, at::kLong);
}

std::vector<int64_t> Egtea::class_counts(Split split) const {
  return split_data(split).clips.class_counts(static_cast<int64_t>(class_names_.size()));
}

std::string Egtea::clip_path(Split split, int64_t index) const {
  const std::string clip(split_data(split).clips.path(static_cast<size_t>(index)));
  const fs::path dir = fs::path(clips_root_) / session_of(clip);
  return (dir / (options_.source == Options::Source::kVideo ? clip + ".mp4" : clip)).string();
}

std::string Egtea::where(Split split, int64_t index) const {
  return split_data(split).clips.where(static_cast<size_t>(index));
}

bool Egtea::read_clip(const SplitData& split, size_t index, bool train, uint64_t seed,
                      uint64_t position, float* out, std::string* error) const {
  struct Scratch {
    std::vector<image::Image> frames;
    std::vector<uint8_t> bytes;
    image::JpegDecoder jpeg;
    clip::Scratch render;
    image::Image rendered;
  };
  thread_local Scratch s;
  const Options& o = options_;
  const int64_t nf = o.frames_per_clip;
  image::SampleRng rng(seed, position);
  const int64_t min_frames = train ? nf + 1 : 1;
  auto pick = [&](int64_t n) { return clip::tsn_indices(n, nf, train ? &rng : nullptr); };

  const std::string clip(split.clips.path(index));
  const fs::path dir = fs::path(clips_root_) / session_of(clip);
  if (o.source == Options::Source::kVideo) {
    int64_t count = 0;
    if (!video::decode_frames((dir / (clip + ".mp4")).string(), pick, min_frames,
                              /*bgr=*/false, &s.frames, &count, error))
      return false;
  } else {
    const int64_t count = split.frame_count[index];
    if (count < min_frames) {
      *error = detail::concat("has ", count, " frames, fewer than the ", min_frames, " needed");
      return false;
    }
    const std::vector<int64_t> wanted = pick(count);
    s.frames.resize(wanted.size());
    for (size_t t = 0; t < wanted.size(); ++t) {
      const std::string file = (dir / clip / frame_name(wanted[t])).string();
      if (!read_bytes(file, &s.bytes)) {
        *error = "cannot read frame " + file;
        return false;
      }
      if (!s.jpeg.open(s.bytes.data(), s.bytes.size()) || !s.jpeg.decode(&s.frames[t])) {
        *error = "cannot decode frame " + file + ": " + s.jpeg.error();
        return false;
      }
    }
  }

  const image::Image& first = s.frames.front();
  for (const image::Image& f : s.frames)
    if (f.width != first.width || f.height != first.height) {
      *error = "frames differ in size";
      return false;
    }
  const clip::Geometry g =
      train ? clip::train_geometry(first.width, first.height, static_cast<int>(o.crop_size),
                                   o.rotate_degrees, o.flip, rng)
            : clip::eval_geometry(first.width, first.height, static_cast<int>(o.crop_size));
  const auto size = static_cast<size_t>(o.size);
  const size_t plane = size * size;
  const bool bgr = o.channel_order == Options::ChannelOrder::kBgr;
  for (size_t t = 0; t < s.frames.size(); ++t) {
    clip::render(s.frames[t], g, static_cast<int>(o.size), &s.render, &s.rendered);
    const uint8_t* px = s.rendered.pixels.data();
    for (int c = 0; c < 3; ++c) {
      const int source = bgr ? 2 - c : c;  // images are RGB
      const float* lut = lut_[c];
      float* dst = out + (static_cast<size_t>(c) * s.frames.size() + t) * plane;
      for (size_t i = 0; i < plane; ++i) dst[i] = lut[px[i * 3 + static_cast<size_t>(source)]];
    }
  }
  return true;
}

Batch Egtea::batch(const BatchRequest& request) const {
  const SplitData& split = split_data(request.split);
  const int64_t n = static_cast<int64_t>(request.count);
  const std::vector<int64_t> shape = sample_shape();
  Batch out;
  out.inputs = at::empty({n, shape[0], shape[1], shape[2], shape[3]}, at::kFloat);
  out.targets = at::empty({n}, at::kLong);
  float* inputs = out.inputs.data_ptr<float>();
  int64_t* targets = out.targets.data_ptr<int64_t>();
  const size_t sample = static_cast<size_t>(shape[0] * shape[1] * shape[2] * shape[3]);
  const int64_t split_size = size(request.split);
  for (int64_t k = 0; k < n; ++k) {
    const int64_t index = request.indices[k];
    TAILOR_CHECK(index >= 0 && index < split_size, kName, ": index ", index,
                 " is out of range for split '", split_name(request.split), "' of size ",
                 split_size);
    targets[k] = split.clips.labels[static_cast<size_t>(index)];
    float* dst = inputs + static_cast<size_t>(k) * sample;
    std::string error;
    if (read_clip(split, static_cast<size_t>(index), request.augment, request.seed,
                  request.position + static_cast<uint64_t>(k), dst, &error))
      continue;
    const std::string what =
        detail::concat(kName, ": cannot use clip ", clip_path(request.split, index), " (",
                       where(request.split, index), "): ", error);
    TAILOR_CHECK(options_.on_bad_clip != Options::OnBadClip::kError, what,
                 "; replace or re-extract the clip, remove its line from the split file, or "
                 "set [dataset] on_bad_clip = \"skip\" to train on a zero clip in its place");
    const int64_t filled = ++zero_filled_;
    if (filled <= 10 || filled % 1000 == 0)
      log_warn(detail::concat(what, "; using a zero clip (on_bad_clip = \"skip\"), ", filled,
                              " so far"));
    std::fill(dst, dst + sample, 0.0f);
  }
  return out;
}

void Egtea::write_artifacts(const std::string& dir) const {
  const std::string classes =
      image::class_counts_csv(class_names_, class_counts(Split::kTrain), class_counts(Split::kVal),
                              class_counts(Split::kTest));
  write_artifact(kName, fs::path(dir) / "egtea_classes.csv", classes);
}

}  // namespace tailor::plugins
