// cifar_lt: CIFAR-10 / CIFAR-100 (binary version) with the LDAM-DRW or CDB-loss long tail.
#include "cifar_lt.hpp"

#include <ATen/ops/empty.h>

#include <tailor/plugin.hpp>  // tailor::log_info/log_warn only; the plugin entry is in cifar_lt_plugin.cpp

#include <tailor/artifacts.hpp>
#include <tailor/batch_augment.hpp>
#include <tailor/random.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

namespace tailor::plugins {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kPlane = CifarLt::kSide * CifarLt::kSide;
constexpr int64_t kPad = 4;  // RandomCrop(32, padding=4)

const std::vector<std::string> kCifar10Names = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                "dog",      "frog",       "horse", "ship", "truck"};

// fine_label_names.txt of cifar-100-binary, in label order.
const std::vector<std::string> kCifar100Names = {
    "apple",       "aquarium_fish", "baby",      "bear",       "beaver",       "bed",
    "bee",         "beetle",        "bicycle",   "bottle",     "bowl",         "boy",
    "bridge",      "bus",           "butterfly", "camel",      "can",          "castle",
    "caterpillar", "cattle",        "chair",     "chimpanzee", "clock",        "cloud",
    "cockroach",   "couch",         "crab",      "crocodile",  "cup",          "dinosaur",
    "dolphin",     "elephant",      "flatfish",  "forest",     "fox",          "girl",
    "hamster",     "house",         "kangaroo",  "keyboard",   "lamp",         "lawn_mower",
    "leopard",     "lion",          "lizard",    "lobster",    "man",          "maple_tree",
    "motorcycle",  "mountain",      "mouse",     "mushroom",   "oak_tree",     "orange",
    "orchid",      "otter",         "palm_tree", "pear",       "pickup_truck", "pine_tree",
    "plain",       "plate",         "poppy",     "porcupine",  "possum",       "rabbit",
    "raccoon",     "ray",           "road",      "rocket",     "rose",         "sea",
    "seal",        "shark",         "shrew",     "skunk",      "skyscraper",   "snail",
    "snake",       "spider",        "squirrel",  "streetcar",  "sunflower",    "sweet_pepper",
    "table",       "tank",          "telephone", "television", "tiger",        "tractor",
    "train",       "trout",         "tulip",     "turtle",     "wardrobe",     "whale",
    "willow_tree", "wolf",          "woman",     "worm"};

// What one variant's files look like on disk.
struct Layout {
  std::vector<std::string> train_files;
  std::string test_file;
  int64_t label_bytes;  // 1 (label) or 2 (coarse, fine); the last one is the class
  int64_t num_classes;
  const char* archive;  // where the files come from
  const char* folder;
};

using Variant = CifarLt::Options::Variant;

Variant other_variant(Variant variant) {
  return variant == Variant::kCifar10 ? Variant::kCifar100 : Variant::kCifar10;
}

Layout layout_of(Variant variant) {
  if (variant == Variant::kCifar100)
    return {{"train.bin"}, "test.bin", 2, 100, "cifar-100-binary.tar.gz", "cifar-100-binary"};
  return {{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
           "data_batch_5.bin"},
          "test_batch.bin",
          1,
          10,
          "cifar-10-binary.tar.gz",
          "cifar-10-batches-bin"};
}

// A file of whole records, checked for existence and size.
struct RecordFile {
  fs::path path;
  int64_t records = 0;
};

RecordFile check_file(const std::string& root, const std::string& name, const Layout& layout,
                      Variant variant) {
  const int64_t record_bytes = layout.label_bytes + CifarLt::kPixels;
  RecordFile f{fs::path(root) / name, 0};
  std::error_code ec;
  if (!fs::is_regular_file(f.path, ec)) {
    const Layout other = layout_of(other_variant(variant));
    const bool other_present = fs::is_regular_file(fs::path(root) / other.test_file, ec);
    TAILOR_CHECK(
        false, "cifar_lt: ", f.path.string(), " not found; ",
        other_present
            ? std::string("the directory holds the other CIFAR: set [dataset] variant = \"") +
                  CifarLt::Options::kVariants.name(other_variant(variant)) + "\""
            : std::string("set [dataset] root to the ") + layout.folder +
                  " directory extracted from " + layout.archive +
                  " (the binary version; the Python pickle version is not read)");
  }
  const auto bytes = static_cast<int64_t>(fs::file_size(f.path, ec));
  TAILOR_CHECK(!ec, "cifar_lt: cannot read the size of ", f.path.string(), ": ", ec.message());
  TAILOR_CHECK(bytes > 0 && bytes % record_bytes == 0, "cifar_lt: ", f.path.string(), " has ",
               bytes, " bytes, not a positive multiple of the ", record_bytes, "-byte record (",
               layout.label_bytes == 1 ? "1 label byte" : "coarse and fine label bytes",
               " + 3072 pixel bytes); the file is truncated or not the binary version. "
               "Re-extract ",
               layout.archive, " and check [dataset] variant");
  f.records = bytes / record_bytes;
  return f;
}

}  // namespace

std::string CifarLt::check_record_counts(const std::vector<FileRecords>& train,
                                         const FileRecords& test, int64_t num_classes) {
  const bool c10 = num_classes == 10;
  const int64_t official_train = c10 ? 10000 : 50000, official_test = 10000;
  const std::string archive = c10 ? "cifar-10-binary.tar.gz" : "cifar-100-binary.tar.gz";
  const std::string fix = "; the file is truncated: re-extract " + archive;
  for (const FileRecords& f : train)
    TAILOR_CHECK(f.records == train.front().records, "cifar_lt: ", f.path, " holds ", f.records,
                 " records, ", train.front().path, " holds ", train.front().records,
                 " (the train files of a release hold the same number, ", official_train,
                 " in the official one)", fix);
  const bool train_official = train.front().records == official_train;
  TAILOR_CHECK(!train_official || test.records == official_test, "cifar_lt: ", test.path, " holds ",
               test.records, " records, not the official ", official_test,
               " (the train files are complete)", fix);
  TAILOR_CHECK(train_official || test.records != official_test, "cifar_lt: ", train.front().path,
               " holds ", train.front().records, " records, not the official ", official_train,
               " (the test file is complete)", fix);
  if (train_official) return "";
  return detail::concat("cifar_lt: ", train.size() * train.front().records, " train and ",
                        test.records, " test records, fewer than the official ",
                        train.size() * official_train, " and ", official_test,
                        ": a subset or a test fixture, read as it is");
}

namespace {

// Reads `files` into images[offset...] and appends their class labels, validating each label.
void read_records(const std::vector<RecordFile>& files, const Layout& layout, uint8_t* images,
                  std::vector<int64_t>& labels) {
  const int64_t record_bytes = layout.label_bytes + CifarLt::kPixels;
  constexpr int64_t kChunk = 1000;  // records per read
  std::vector<char> buffer(static_cast<size_t>(kChunk * record_bytes));
  for (const RecordFile& f : files) {
    std::ifstream in(f.path, std::ios::binary);
    TAILOR_CHECK(in.good(), "cifar_lt: cannot open ", f.path.string(), "; check its permissions");
    for (int64_t first = 0; first < f.records; first += kChunk) {
      const int64_t count = std::min(kChunk, f.records - first);
      in.read(buffer.data(), static_cast<std::streamsize>(count * record_bytes));
      TAILOR_CHECK(in.gcount() == count * record_bytes, "cifar_lt: reading ", f.path.string(),
                   " failed at record ", first, "; the file changed while being read?");
      for (int64_t r = 0; r < count; ++r) {
        const auto* rec = reinterpret_cast<const uint8_t*>(buffer.data() + r * record_bytes);
        if (layout.label_bytes == 2)
          TAILOR_CHECK(rec[0] < 20, "cifar_lt: ", f.path.string(), " record ", first + r,
                       " has coarse label ", int{rec[0]},
                       ", expected 0..19: the file is corrupt or not CIFAR-100; re-extract ",
                       layout.archive, " or check [dataset] variant");
        const int64_t label = rec[layout.label_bytes - 1];
        TAILOR_CHECK(label < layout.num_classes, "cifar_lt: ", f.path.string(), " record ",
                     first + r, " has ", layout.label_bytes == 2 ? "fine label " : "label ", label,
                     ", expected 0..", layout.num_classes - 1, ": the file is corrupt or not ",
                     layout.num_classes == 10 ? "CIFAR-10" : "CIFAR-100", "; re-extract ",
                     layout.archive, " or check [dataset] variant");
        labels.push_back(label);
        std::copy(rec + layout.label_bytes, rec + record_bytes, images);
        images += CifarLt::kPixels;
      }
    }
  }
}

at::Tensor load_images(const std::vector<RecordFile>& files, const Layout& layout,
                       std::vector<int64_t>& labels) {
  int64_t total = 0;
  for (const auto& f : files) total += f.records;
  at::Tensor images = at::empty({total, 3, CifarLt::kSide, CifarLt::kSide}, at::kByte);
  labels.reserve(static_cast<size_t>(total));
  read_records(files, layout, images.data_ptr<uint8_t>(), labels);
  return images;
}

at::Tensor to_long_tensor(const std::vector<int64_t>& values) {
  at::Tensor t = at::empty({static_cast<int64_t>(values.size())}, at::kLong);
  std::copy(values.begin(), values.end(), t.data_ptr<int64_t>());
  return t;
}

std::string join(const std::vector<int64_t>& values) {
  std::string s;
  for (size_t i = 0; i < values.size(); ++i) s += (i ? " " : "") + std::to_string(values[i]);
  return s;
}

// RandomCrop(32, padding=4) + RandomHorizontalFlip(0.5): the draw batch() and augment_batch()
// share, so that both consume a sample's stream alike.
CropFlipDraw draw_crop_flip(SampleRng& rng) {
  CropFlipDraw d;
  d.top = rng.below(2 * kPad + 1) - kPad;
  d.left = rng.below(2 * kPad + 1) - kPad;
  d.mirror = (rng.next() & 1u) != 0;
  return d;
}

// DeVries & Taylor's Cutout box: centre uniform over the image, rows/columns
// [centre - L/2, centre + L/2) clipped to the image.
CutoutBox draw_cutout(SampleRng& rng, int64_t length) {
  constexpr int64_t side = CifarLt::kSide;
  const int64_t cy = rng.below(side), cx = rng.below(side);
  return {
      std::clamp(cy - length / 2, int64_t{0}, side), std::clamp(cy + length / 2, int64_t{0}, side),
      std::clamp(cx - length / 2, int64_t{0}, side), std::clamp(cx + length / 2, int64_t{0}, side)};
}

}  // namespace

bool CifarLt::holds_out_val(const Options& options) {
  return options.val_split == Options::ValSplit::kHoldout ||
         (options.val_split == Options::ValSplit::kAuto &&
          options.protocol == Options::Protocol::kCdb);
}

CifarLt::Selection CifarLt::select(const std::vector<int64_t>& labels, int64_t num_classes,
                                   const Options& options) {
  TAILOR_CHECK(!(options.protocol == Options::Protocol::kCdb &&
                 options.val_split == Options::ValSplit::kNone),
               "cifar_lt: protocol \"cdb\" defines its train split after holding out the last ",
               options.val_per_class,
               " images of each class as val; set val_split = \"holdout\" (or \"auto\"), or use "
               "protocol \"ldam\"");
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(num_classes));
  for (size_t i = 0; i < labels.size(); ++i) {
    TAILOR_ASSERT(labels[i] >= 0 && labels[i] < num_classes, "label ", labels[i]);
    by_class[static_cast<size_t>(labels[i])].push_back(static_cast<int64_t>(i));
  }

  Selection s;
  const int64_t hold = holds_out_val(options) ? options.val_per_class : 0;
  for (int64_t c = 0; c < num_classes; ++c) {
    auto& idx = by_class[static_cast<size_t>(c)];
    TAILOR_CHECK(static_cast<int64_t>(idx.size()) > hold, "cifar_lt: class ", c, " has ",
                 idx.size(), " train images; holding out val_per_class = ", hold,
                 " needs at least ", hold + 1, "; lower val_per_class");
    s.val.insert(s.val.end(), idx.end() - hold, idx.end());
    idx.resize(idx.size() - static_cast<size_t>(hold));
  }
  if (options.protocol == Options::Protocol::kNone) {
    for (const auto& idx : by_class) s.train.insert(s.train.end(), idx.begin(), idx.end());
    return s;
  }

  // LDAM-DRW: img_max = len(train) / C (a float), 5000 or 500 on the real files; minus the
  // hold-out, which gives CDB-loss's 475 for CIFAR-100.
  const double img_max = static_cast<double>(labels.size()) / static_cast<double>(num_classes) -
                         static_cast<double>(hold);
  const std::vector<int64_t> counts =
      image::long_tail_counts(options.profile, img_max, options.imbalance_ratio, num_classes);
  // One RandomState across all classes; nothing else is drawn from it in between.
  NumpyRandomState rng(static_cast<uint32_t>(options.seed));
  for (int64_t c = 0; c < num_classes; ++c) {
    auto& idx = by_class[static_cast<size_t>(c)];
    const int64_t n = counts[static_cast<size_t>(c)];
    TAILOR_CHECK(n <= static_cast<int64_t>(idx.size()), "cifar_lt: the ",
                 Options::kProfiles.name(options.profile), " profile (img_max ", img_max,
                 ", imbalance_ratio ", options.imbalance_ratio, ") asks for ", n,
                 " images of class ", c, " but the train file has ", idx.size(),
                 hold > 0 ? " after the val hold-out" : "",
                 "; the train file is not a complete CIFAR train set (check [dataset] root)");
    if (options.protocol == Options::Protocol::kLdam) rng.shuffle(idx);
    s.train.insert(s.train.end(), idx.begin(), idx.begin() + n);
  }
  return s;
}

CifarLt::CifarLt(const Options& options) : options_(options) {
  const Layout layout = layout_of(options.variant);
  class_names_ = options.variant == Variant::kCifar100 ? kCifar100Names : kCifar10Names;
  TAILOR_ASSERT(static_cast<int64_t>(class_names_.size()) == layout.num_classes, "class names");
  TAILOR_CHECK(!options.root.empty(), "cifar_lt: [dataset] root is not set; point it at the ",
               layout.folder, " directory extracted from ", layout.archive);
  TAILOR_CHECK(options.mean.size() == 3 && options.std_dev.size() == 3,
               "cifar_lt: mean and std need 3 values (R, G, B), got ", options.mean.size(), " and ",
               options.std_dev.size());

  std::vector<RecordFile> train_files;
  for (const auto& name : layout.train_files)
    train_files.push_back(check_file(options.root, name, layout, options.variant));
  const RecordFile test_file = check_file(options.root, layout.test_file, layout, options.variant);
  std::vector<FileRecords> train_records;
  for (const RecordFile& f : train_files) train_records.push_back({f.path.string(), f.records});
  const std::string note = check_record_counts(
      train_records, {test_file.path.string(), test_file.records}, layout.num_classes);
  if (!note.empty()) log_warn(note);

  std::vector<int64_t> file_labels;
  train_file_images_ = load_images(train_files, layout, file_labels);
  std::vector<int64_t> test_labels;
  test_images_ = load_images({test_file}, layout, test_labels);
  test_labels_ = to_long_tensor(test_labels);

  Selection s = select(file_labels, layout.num_classes, options);
  train_index_ = std::move(s.train);
  val_index_ = std::move(s.val);
  auto gather = [&](const std::vector<int64_t>& positions) {
    std::vector<int64_t> out;
    out.reserve(positions.size());
    for (int64_t p : positions) out.push_back(file_labels[static_cast<size_t>(p)]);
    return to_long_tensor(out);
  };
  train_labels_ = gather(train_index_);
  val_labels_ = gather(val_index_);

  // ToTensor then Normalize in float32, as torchvision computes them: (v / 255 - mean) / std.
  for (size_t c = 0; c < 3; ++c) {
    const float mean = static_cast<float>(options.mean[c]);
    const float std_dev = static_cast<float>(options.std_dev[c]);
    for (int v = 0; v < 256; ++v)
      lut_[c][static_cast<size_t>(v)] = (static_cast<float>(v) / 255.0f - mean) / std_dev;
  }
  if (options.autoaugment) auto_augment_ = std::make_unique<AutoAugmentCifar10>(kSide, kSide);

  const std::vector<int64_t> counts = class_counts(Split::kTrain);
  int64_t many = 0, medium = 0, few = 0;
  for (int64_t n : counts) (n > 100 ? many : n >= 20 ? medium : few) += 1;
  log_info(detail::concat(
      Options::kVariants.name(options.variant), " (", options.root, "): train ",
      train_index_.size(), " of ", file_labels.size(), " images, per class: ", join(counts),
      " (protocol ", Options::kProtocols.name(options.protocol), ", ",
      Options::kProfiles.name(options.profile), " profile, rho ", options.imbalance_ratio,
      ", seed ", options.seed, "); many/medium/few classes (>100, 20..100, <20 images): ", many,
      "/", medium, "/", few, "; val ", val_index_.size(), " images; test ", test_labels.size(),
      " images"));
}

int64_t CifarLt::size(Split split) const {
  return labels_of(split).size(0);
}

at::Tensor CifarLt::labels(Split split) const {
  return labels_of(split).clone();
}

const at::Tensor& CifarLt::labels_of(Split split) const {
  switch (split) {
    case Split::kTrain:
      return train_labels_;
    case Split::kVal:
      return val_labels_;
    case Split::kTest:
      return test_labels_;
  }
  TAILOR_CHECK(false, "cifar_lt: unknown split ", static_cast<int>(split));
  return test_labels_;
}

const uint8_t* CifarLt::image_of(Split split, int64_t index) const {
  if (split == Split::kTest) return test_images_.data_ptr<uint8_t>() + index * kPixels;
  const auto& positions = split == Split::kTrain ? train_index_ : val_index_;
  return train_file_images_.data_ptr<uint8_t>() + positions[static_cast<size_t>(index)] * kPixels;
}

std::vector<int64_t> CifarLt::class_counts(Split split) const {
  std::vector<int64_t> counts(class_names_.size(), 0);
  const at::Tensor& labels = labels_of(split);
  const int64_t* p = labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < labels.size(0); ++i) ++counts[static_cast<size_t>(p[i])];
  return counts;
}

Batch CifarLt::batch(const BatchRequest& request) const {
  const at::Tensor& labels = labels_of(request.split);
  const int64_t split_size = labels.size(0);
  const int64_t n = static_cast<int64_t>(request.count);
  const int64_t* label_data = labels.data_ptr<int64_t>();
  const bool crop_flip = request.augment && options_.augment == Options::Augment::kStandard;
  const bool autoaugment = request.augment && auto_augment_ != nullptr;
  const int64_t cutout = request.augment ? options_.cutout : 0;

  Batch out;
  out.inputs = at::empty({n, 3, kSide, kSide}, at::kFloat);
  out.targets = at::empty({n}, at::kLong);
  float* dst = out.inputs.data_ptr<float>();
  int64_t* targets = out.targets.data_ptr<int64_t>();
  std::array<uint8_t, kPixels> work;

  for (int64_t k = 0; k < n; ++k, dst += kPixels) {
    const int64_t index = request.indices[k];
    TAILOR_CHECK(index >= 0 && index < split_size, "cifar_lt: index ", index,
                 " is out of range for split '", split_name(request.split), "' of size ",
                 split_size);
    targets[k] = label_data[index];
    const uint8_t* image = image_of(request.split, index);
    // Draw order per sample: crop top, crop left, flip, AutoAugment (sub-policy, 2 uniforms,
    // 2 signs), Cutout centre y, x.
    SampleRng rng(request.seed, request.position + static_cast<uint64_t>(k));
    if (crop_flip) {
      // RandomCrop(32, padding=4) with zero fill, then RandomHorizontalFlip(0.5).
      const CropFlipDraw d = draw_crop_flip(rng);
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t y = 0; y < kSide; ++y) {
          uint8_t* row = work.data() + c * kPlane + y * kSide;
          const int64_t sy = y + d.top;
          if (sy < 0 || sy >= kSide) {
            std::fill(row, row + kSide, uint8_t{0});
            continue;
          }
          const uint8_t* src_row = image + c * kPlane + sy * kSide;
          for (int64_t x = 0; x < kSide; ++x) {
            const int64_t sx = (d.mirror ? kSide - 1 - x : x) + d.left;
            row[x] = sx >= 0 && sx < kSide ? src_row[sx] : uint8_t{0};
          }
        }
      image = work.data();
    }
    if (autoaugment) {
      if (image != work.data()) std::copy(image, image + kPixels, work.data());
      AutoAugmentDraw draw;
      draw.sub_policy = static_cast<int>(rng.below(static_cast<int64_t>(cifar10_policy().size())));
      draw.uniform = {rng.uniform(), rng.uniform()};
      draw.negate = {(rng.next() & 1u) == 0, (rng.next() & 1u) == 0};
      auto_augment_->apply(work.data(), draw);
      image = work.data();
    }
    for (int64_t c = 0; c < 3; ++c) {
      const auto& lut = lut_[static_cast<size_t>(c)];
      for (int64_t i = 0; i < kPlane; ++i) dst[c * kPlane + i] = lut[image[c * kPlane + i]];
    }
    if (cutout > 0) {
      // Cutout on the normalised tensor: the box set to 0.
      const CutoutBox b = draw_cutout(rng, cutout);
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t y = b.y0; y < b.y1; ++y)
          std::fill(dst + c * kPlane + y * kSide + b.x0, dst + c * kPlane + y * kSide + b.x1, 0.0f);
    }
  }
  return out;
}

at::Tensor CifarLt::augment_batch(const BatchRequest& request, const at::Tensor& inputs) const {
  TAILOR_CHECK(auto_augment_ == nullptr,
               "cifar_lt: autoaugment = true has no batched form; set [train] augment_on = "
               "\"loader\" or [dataset] autoaugment = false");
  const int64_t n = static_cast<int64_t>(request.count);
  TAILOR_CHECK(inputs.dim() == 4 && inputs.size(0) == n, "cifar_lt: augment_batch got inputs of ",
               inputs.sizes(), " for ", n, " samples");
  const bool crop_flip = request.augment && options_.augment == Options::Augment::kStandard;
  const int64_t cutout = request.augment ? options_.cutout : 0;
  std::vector<CropFlipDraw> draws(static_cast<size_t>(n));
  std::vector<CutoutBox> boxes(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    // The draw order of batch(), minus AutoAugment.
    SampleRng rng(request.seed, request.position + static_cast<uint64_t>(k));
    if (crop_flip) draws[static_cast<size_t>(k)] = draw_crop_flip(rng);
    if (cutout > 0) boxes[static_cast<size_t>(k)] = draw_cutout(rng, cutout);
  }
  at::Tensor out = inputs;
  if (crop_flip) out = crop_flip_batch(out, draws, kPad, {lut_[0][0], lut_[1][0], lut_[2][0]});
  if (cutout > 0) out = cutout_batch(crop_flip ? out : out.clone(), boxes);
  return out;
}

void CifarLt::write_artifacts(const std::string& dir) const {
  std::ostringstream csv;
  csv << "split,index_in_file,label\n";
  auto rows = [&](const char* split, const std::vector<int64_t>& positions,
                  const at::Tensor& labels) {
    const int64_t* l = labels.data_ptr<int64_t>();
    for (size_t i = 0; i < positions.size(); ++i)
      csv << split << ',' << positions[i] << ',' << l[i] << '\n';
  };
  rows("train", train_index_, train_labels_);
  rows("val", val_index_, val_labels_);
  write_artifact("cifar_lt", fs::path(dir) / "cifar_lt_selection.csv", csv.str());
}

}  // namespace tailor::plugins
