// egtea: EGTEA Gaze+ action clips with the CDB-loss splits and clip pipeline (Sinha et al.,
// ACCV 2020): trimmed .mp4 clips decoded with FFmpeg, or CDB's extracted JPEG frame folders.
#pragma once

#include "common/samples.hpp"

#include <ATen/Tensor.h>

#include <tailor/components.hpp>
#include <tailor/options.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tailor::plugins {

/// Train verb counts of CDB's train_split.txt (EGTEA_train.py hard-codes the same array).
constexpr std::array<int64_t, 19> kCdbTrainVerbCounts = {
    429, 779, 1421, 822, 129, 1335, 130, 308, 223, 249, 54, 54, 139, 42, 78, 117, 26, 15, 22};
/// Lines of CDB's train_split.txt.
constexpr int64_t kCdbTrainLines = 6372;

/// One line of a split file: `<clip> <action> <verb> <noun> [<noun>...]`, ids 1-based.
struct SplitEntry {
  std::string clip;
  int64_t action = 0;
  int64_t verb = 0;
  std::vector<int64_t> nouns;
  uint32_t line = 0;
};

/// Parses an EGTEA/CDB split file. A line with fewer than four fields, or an id that is not
/// a positive integer, throws tailor::Error "<prefix><source>:<line>: ..." quoting the line.
std::vector<SplitEntry> parse_split(std::string_view content, const std::string& source,
                                    const std::string& prefix);

/// Parses an `action_idx.txt` / `verb_idx.txt` / `noun_idx.txt` file: `<name tokens...> <id>`,
/// the 1-based id last. Returns the names by id - 1; ids must be 1..N, each once.
std::vector<std::string> parse_index(std::string_view content, const std::string& source,
                                     const std::string& prefix);

/// The recording session of a clip: its first three dash-separated fields
/// (OP01-R01-PastaSalad-1002316-... -> OP01-R01-PastaSalad); "" when it has fewer.
std::string session_of(std::string_view clip);

class Egtea : public Dataset {
 public:
  struct Options {
    enum class Source { kVideo, kFrames };
    static constexpr auto kSources =
        choice<Source>({{"video", Source::kVideo}, {"frames", Source::kFrames}});
    enum class LabelSet { kVerb, kAction };
    static constexpr auto kLabelSets =
        choice<LabelSet>({{"verb", LabelSet::kVerb}, {"action", LabelSet::kAction}});
    enum class ChannelOrder { kBgr, kRgb };
    static constexpr auto kChannelOrders =
        choice<ChannelOrder>({{"bgr", ChannelOrder::kBgr}, {"rgb", ChannelOrder::kRgb}});
    enum class OnBadClip { kError, kSkip };
    static constexpr auto kOnBadClips =
        choice<OnBadClip>({{"error", OnBadClip::kError}, {"skip", OnBadClip::kSkip}});
    enum class CountCheck { kError, kWarn, kOff };
    static constexpr auto kCountChecks = choice<CountCheck>(
        {{"error", CountCheck::kError}, {"warn", CountCheck::kWarn}, {"off", CountCheck::kOff}});

    std::string root;
    Source source = Source::kVideo;
    std::string clips_dir;
    std::string annotation_dir;
    std::string split_dir;
    std::string train_split = "train_split.txt";
    std::string val_split = "val_split.txt";
    std::string test_split = "test_split.txt";
    LabelSet label_set = LabelSet::kVerb;
    int64_t frames_per_clip = 10;
    int64_t crop_size = 480;
    int64_t size = 224;
    double rotate_degrees = 10.0;
    bool flip = true;
    ChannelOrder channel_order = ChannelOrder::kBgr;
    double value_scale = 1.0;
    std::vector<double> mean = {0.0, 0.0, 0.0};
    std::vector<double> std_dev = {1.0, 1.0, 1.0};
    OnBadClip on_bad_clip = OnBadClip::kError;
    CountCheck count_check = CountCheck::kError;

    template <class V>
    void visit(V& v) {
      v("root", root, "EGTEA Gaze+ directory (holds cropped_clips/ or extracted_frames/).",
        required());
      v("source", source,
        "video: <clips_dir>/<session>/<clip>.mp4 decoded with FFmpeg; frames: CDB's "
        "<clips_dir>/<session>/<clip>/%06d.jpg folders.",
        kSources);
      v("clips_dir", clips_dir,
        "Clip directory, relative to root unless absolute. Empty: cropped_clips (video) or "
        "extracted_frames (frames).");
      v("annotation_dir", annotation_dir,
        "Directory of verb_idx.txt / action_idx.txt, relative to root unless absolute. Empty: "
        "action_annotation.");
      v("split_dir", split_dir,
        "Directory of the split files, relative to root unless absolute. "
        "Empty: root.");
      v("train_split", train_split, "Train split file (CDB's train_split.txt). Required.");
      v("val_split", val_split, "Held-out val split file; empty: no val split.");
      v("test_split", test_split, "Test split file; empty: no test split.");
      v("label_set", label_set,
        "verb: 19 verb classes (the CDB protocol); action: 106 action classes.", kLabelSets);
      v("frames_per_clip", frames_per_clip, "TSN segments, one frame sampled from each.",
        at_least(1.0));
      v("crop_size", crop_size,
        "Square crop taken from every frame (random in training, centre in evaluation); "
        "clamped to the frame size.",
        at_least(1.0));
      v("size", size, "Side of the square output frames (resize after the crop).", at_least(1.0));
      v("rotate_degrees", rotate_degrees,
        "Training: rotation angle uniform in [-d, d] per clip; 0 disables it.", range(0.0, 180.0));
      v("flip", flip, "Training: horizontal flip of the whole clip with probability 0.5.");
      v("channel_order", channel_order,
        "Channel order of the samples: bgr (as cv2.imread, the CDB code) or rgb.", kChannelOrders);
      v("value_scale", value_scale,
        "Pixel values v in 0..255 become (v * value_scale - mean) / std.", greater_than(0.0));
      v("mean", mean, "Per-channel mean, in channel_order, subtracted after value_scale.");
      v("std", std_dev, "Per-channel divisor, in channel_order.", greater_than(0.0));
      v("on_bad_clip", on_bad_clip,
        "A missing clip or one with too few frames (found at load), or an undecodable or "
        "truncated one (found at batch time): error stops with the file, split line and fix; "
        "skip drops the clips found at load and zero-fills the others, with counted warnings.",
        kOnBadClips);
      v("count_check", count_check,
        "When the train split has CDB's 6372 lines, compare its verb counts with CDB's "
        "profile: error, warn or off.",
        kCountChecks);
    }
  };

  explicit Egtea(const Options& options);

  const std::vector<std::string>& class_names() const override { return class_names_; }
  std::vector<int64_t> sample_shape() const override;
  int64_t size(Split split) const override;
  at::Tensor labels(Split split) const override;
  Batch batch(const BatchRequest& request) const override;
  Modality modality() const override { return Modality::kVideo; }
  void write_artifacts(const std::string& dir) const override;

  /// Samples per class of `split`.
  std::vector<int64_t> class_counts(Split split) const;
  /// The clip file (video) or frame folder (frames) of sample `index` of `split`.
  std::string clip_path(Split split, int64_t index) const;
  /// "<split file> line <n>" of sample `index` of `split`.
  std::string where(Split split, int64_t index) const;
  /// Clips dropped at load (on_bad_clip = "skip").
  int64_t dropped_clips() const { return dropped_; }
  /// Clips zero-filled at batch time so far (on_bad_clip = "skip").
  int64_t zero_filled_clips() const { return zero_filled_.load(); }

 private:
  struct SplitData {
    image::SampleTable clips;          // path = clip name, label, origin = split-file line
    std::vector<int64_t> frame_count;  // frames source: images in the folder; video: 0
    at::Tensor labels;
  };

  void load_split(const std::string& file, const char* split, int64_t num_classes, SplitData* out);
  const SplitData& split_data(Split split) const;
  bool read_clip(const SplitData& split, size_t index, bool train, uint64_t seed, uint64_t position,
                 float* out, std::string* error) const;

  Options options_;
  std::string clips_root_;
  std::vector<std::string> class_names_;
  SplitData train_, val_, test_;
  float lut_[3][256];  // output channel c, 8-bit value -> normalised float
  int64_t dropped_ = 0;
  mutable std::atomic<int64_t> zero_filled_{0};  // a diagnostic counter, not batch state
};

}  // namespace tailor::plugins
