// idx_lt: MNIST-family IDX files (Fashion-MNIST by default) with an artificial long tail.
#include "idx_lt.hpp"

#include "common/long_tail.hpp"

#include <ATen/ops/empty.h>
#include <zlib.h>

#include <tailor/artifacts.hpp>
#include <tailor/batch_augment.hpp>
#include <tailor/log.hpp>
#include <tailor/random.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <utility>

namespace tailor::plugins {

namespace fs = std::filesystem;

namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // uint8 elements, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // uint8 elements, 1 dimension
constexpr const char* kDefaultRoot = "/usr/share/datasets/fashion-mnist";

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// Where a file came from and what to do when it is bad; shared by every message about it.
struct Source {
  std::string path;
  std::string fix;
};

std::string fix_for(const std::string& root) {
  if (fs::path(root) == fs::path(kDefaultRoot))
    return "reinstall the dataset (apt-get install --reinstall dataset-fashion-mnist) or check "
           "the file";
  return "check the file (re-download or re-extract it) or point [dataset] root at good copies";
}

// `name` under `root`, as given or with the ".gz" suffix toggled; throws when neither exists.
std::string resolve(const std::string& root, const std::string& name, const char* option) {
  const fs::path given = fs::path(root) / name;
  const bool gz = name.size() > 3 && name.compare(name.size() - 3, 3, ".gz") == 0;
  const fs::path other = fs::path(root) / (gz ? name.substr(0, name.size() - 3) : name + ".gz");
  std::error_code ec;
  if (fs::is_regular_file(given, ec)) return given.string();
  if (fs::is_regular_file(other, ec)) return other.string();
  std::string fix;
  if (fs::path(root) == fs::path(kDefaultRoot))
    fix = "install Fashion-MNIST with `apt-get install dataset-fashion-mnist`";
  else
    fix = "set [dataset] root and " + std::string(option) + " to an existing IDX file";
  TAILOR_CHECK(false, "idx_lt: ", option, " not found: ", given.string(), " (also tried ",
               other.string(), "); ", fix);
  return {};
}

// Reads up to `n` bytes; returns how many arrived before the end of the (possibly
// truncated) stream. Other zlib errors (corrupt data) throw.
size_t read_some(gzFile f, void* dst, size_t n, const Source& src) {
  auto* out = static_cast<unsigned char*>(dst);
  size_t got = 0;
  while (got < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - got, size_t{1} << 30));
    const int r = gzread(f, out + got, chunk);
    if (r > 0) {
      got += static_cast<size_t>(r);
      continue;
    }
    if (r < 0) {
      int code = Z_OK;
      const char* message = gzerror(f, &code);
      // Z_BUF_ERROR is zlib's "unexpected end of file": a truncated .gz, reported by the caller.
      TAILOR_CHECK(code == Z_BUF_ERROR, "idx_lt: cannot decompress ", src.path, ": ",
                   message != nullptr ? message : "zlib error", "; ", src.fix);
    }
    break;
  }
  return got;
}

uint32_t big_endian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// "2051 (0x00000803: uint8, 3 dimensions)": what an IDX magic number declares.
std::string describe_magic(uint32_t magic) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08X", magic);
  constexpr std::pair<uint32_t, const char*> kTypes[] = {{0x08, "uint8"},   {0x09, "int8"},
                                                         {0x0B, "int16"},   {0x0C, "int32"},
                                                         {0x0D, "float32"}, {0x0E, "float64"}};
  std::string type = "unknown element type";
  for (const auto& [code, name] : kTypes)
    if (((magic >> 8) & 0xFF) == code) type = name;
  if ((magic >> 16) != 0) return std::to_string(magic) + " (" + hex + ": not an IDX header)";
  const uint32_t rank = magic & 0xFF;
  return std::to_string(magic) + " (" + hex + ": " + type + ", " + std::to_string(rank) +
         (rank == 1 ? " dimension)" : " dimensions)");
}

// One IDX file of uint8 elements, fully read and validated, as a tensor of the file's shape.
at::Tensor read_idx(const Source& src, uint32_t magic, const char* kind) {
  GzFile file(gzopen(src.path.c_str(), "rb"));
  TAILOR_CHECK(file != nullptr, "idx_lt: cannot open ", src.path, ": ", std::strerror(errno), "; ",
               src.fix);
  gzbuffer(file.get(), 1u << 18);

  unsigned char head[4];
  size_t got = read_some(file.get(), head, 4, src);
  TAILOR_CHECK(got == 4, "idx_lt: ", src.path,
               " is truncated: expected a 4-byte IDX header, found ", got, " bytes; ", src.fix);
  const uint32_t found = big_endian32(head);
  const int rank = static_cast<int>(magic & 0xFF);
  TAILOR_CHECK(found == magic, "idx_lt: ", src.path, " is not an IDX ", kind, " file: magic ",
               describe_magic(found), ", expected ", describe_magic(magic), "; ", src.fix);

  std::vector<unsigned char> raw_dims(static_cast<size_t>(rank) * 4);
  got = read_some(file.get(), raw_dims.data(), raw_dims.size(), src);
  TAILOR_CHECK(got == raw_dims.size(), "idx_lt: ", src.path, " is truncated: expected ",
               4 + raw_dims.size(), " header bytes, found ", 4 + got, "; ", src.fix);
  std::vector<int64_t> dims(rank);
  uint64_t count = 1;
  std::string shape;
  for (int d = 0; d < rank; ++d) {
    dims[d] = big_endian32(&raw_dims[static_cast<size_t>(d) * 4]);
    shape += (d ? " x " : "") + std::to_string(dims[d]);
    count *= static_cast<uint64_t>(dims[d]);
    TAILOR_CHECK(count < (uint64_t{1} << 40), "idx_lt: ", src.path,
                 " declares an implausible size (", shape, "...); ", src.fix);
  }

  // Read in bounded chunks before allocating the tensor: a damaged header may declare far
  // more than the file holds, which must be reported as truncation, not allocated. Chunks
  // start at 1 MiB and double up to 64 MiB, so a short file costs little memory and time.
  std::vector<uint8_t> bytes;
  constexpr uint64_t kFirstChunk = uint64_t{1} << 20, kMaxChunk = uint64_t{64} << 20;
  while (bytes.size() < count) {
    const size_t at = bytes.size();
    const uint64_t chunk = std::clamp<uint64_t>(at, kFirstChunk, kMaxChunk);
    const auto want = static_cast<size_t>(std::min<uint64_t>(chunk, count - at));
    bytes.resize(at + want);
    const size_t n = read_some(file.get(), bytes.data() + at, want, src);
    bytes.resize(at + n);
    if (n < want) break;
  }
  got = bytes.size();
  const size_t header = 4 + raw_dims.size();
  TAILOR_CHECK(got == count, "idx_lt: ", src.path, " is truncated: the header declares ", shape,
               " = ", count, " data bytes (", header + count, " bytes in all), found ", got,
               " data bytes; ", src.fix);
  unsigned char extra = 0;
  TAILOR_CHECK(read_some(file.get(), &extra, 1, src) == 0, "idx_lt: ", src.path,
               " has bytes after the ", header + count, " bytes its header declares (", shape,
               "); ", src.fix);
  at::Tensor data = at::empty(dims, at::kByte);
  std::copy(bytes.begin(), bytes.end(), data.data_ptr<uint8_t>());
  return data;
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

// RandomCrop(padding=pad) + RandomHorizontalFlip(0.5) when `flip`: the draw batch() and
// augment_batch() share, so that both consume a sample's stream alike.
CropFlipDraw draw_crop_flip(SampleRng& rng, int64_t pad, bool flip) {
  const uint64_t span = static_cast<uint64_t>(2 * pad + 1);
  CropFlipDraw d;
  d.top = static_cast<int64_t>(rng.next() % span) - pad;
  d.left = static_cast<int64_t>(rng.next() % span) - pad;
  d.mirror = flip && (rng.next() & 1u) != 0;
  return d;
}

}  // namespace

IdxLt::IdxLt(const Options& options) : options_(options), class_names_(options.class_names) {
  if (class_names_.empty())
    for (int d = 0; d < 10; ++d) class_names_.push_back(std::to_string(d));
  const int64_t num_classes = static_cast<int64_t>(class_names_.size());
  TAILOR_CHECK(num_classes <= 256, "idx_lt: class_names has ", num_classes,
               " entries but IDX labels are uint8 (at most 256 classes)");

  const std::string fix = fix_for(options.root);
  const Source train_images{resolve(options.root, options.train_images, "train_images"), fix};
  const Source train_labels{resolve(options.root, options.train_labels, "train_labels"), fix};
  const Source test_images{resolve(options.root, options.test_images, "test_images"), fix};
  const Source test_labels{resolve(options.root, options.test_labels, "test_labels"), fix};

  train_file_images_ = read_idx(train_images, kImagesMagic, "images");
  const at::Tensor train_file_labels = read_idx(train_labels, kLabelsMagic, "labels");
  test_images_ = read_idx(test_images, kImagesMagic, "images");
  const at::Tensor test_file_labels = read_idx(test_labels, kLabelsMagic, "labels");

  TAILOR_CHECK(train_file_images_.size(0) == train_file_labels.size(0),
               "idx_lt: ", train_images.path, " holds ", train_file_images_.size(0), " images but ",
               train_labels.path, " holds ", train_file_labels.size(0),
               " labels; use the matching pair of files");
  TAILOR_CHECK(test_images_.size(0) == test_file_labels.size(0), "idx_lt: ", test_images.path,
               " holds ", test_images_.size(0), " images but ", test_labels.path, " holds ",
               test_file_labels.size(0), " labels; use the matching pair of files");
  height_ = train_file_images_.size(1);
  width_ = train_file_images_.size(2);
  TAILOR_CHECK(height_ > 0 && width_ > 0, "idx_lt: ", train_images.path, " has empty images (",
               height_, " x ", width_, "); ", fix);
  TAILOR_CHECK(test_images_.size(1) == height_ && test_images_.size(2) == width_,
               "idx_lt: ", test_images.path, " has ", test_images_.size(1), " x ",
               test_images_.size(2), " images but ", train_images.path, " has ", height_, " x ",
               width_, "; use files of the same dataset");

  // Validates every label and converts to int64; `by_class` gets file positions per class.
  auto check_labels = [&](const at::Tensor& raw, const Source& src,
                          std::vector<std::vector<int64_t>>* by_class) {
    const uint8_t* p = raw.data_ptr<uint8_t>();
    std::vector<int64_t> out(static_cast<size_t>(raw.size(0)));
    for (int64_t i = 0; i < raw.size(0); ++i) {
      TAILOR_CHECK(p[i] < num_classes, "idx_lt: ", src.path, " record ", i, " has label ",
                   int{p[i]}, " but only ", num_classes,
                   " classes are configured (labels must be < the number of class_names); give "
                   "one name per class in class_names, or ",
                   src.fix);
      out[static_cast<size_t>(i)] = p[i];
      if (by_class != nullptr) (*by_class)[p[i]].push_back(i);
    }
    return out;
  };
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(num_classes));
  const std::vector<int64_t> file_labels = check_labels(train_file_labels, train_labels, &by_class);
  test_labels_ = to_long_tensor(check_labels(test_file_labels, test_labels, nullptr));

  // Balanced val split: the last val_per_class images of each class in file order, held out
  // before the long-tail selection (the CDB-loss protocol).
  const size_t hold = static_cast<size_t>(options.val_per_class);
  std::vector<int64_t> available(static_cast<size_t>(num_classes));
  for (int64_t c = 0; c < num_classes; ++c) {
    auto& idx = by_class[static_cast<size_t>(c)];
    TAILOR_CHECK(idx.size() > hold, "idx_lt: class ", c, " '", class_names_[c], "' has ",
                 idx.size(), " images in ", train_labels.path, "; val_per_class = ", hold,
                 " needs at least ", hold + 1, "; lower val_per_class");
    val_index_.insert(val_index_.end(), idx.end() - static_cast<std::ptrdiff_t>(hold), idx.end());
    idx.resize(idx.size() - hold);
    available[static_cast<size_t>(c)] = static_cast<int64_t>(idx.size());
  }

  const int64_t img_max =
      options.img_max > 0 ? options.img_max : *std::max_element(available.begin(), available.end());
  using Profile = Options::Profile;
  const std::vector<int64_t> counts =
      options.profile == Profile::kNone
          ? available
          : image::long_tail_counts(
                options.profile == Profile::kStep ? image::LongTailProfile::kStep
                                                  : image::LongTailProfile::kExp,
                static_cast<double>(img_max), options.imbalance_ratio, num_classes);
  NumpyRandomState rng(static_cast<uint32_t>(options.seed));
  for (int64_t c = 0; c < num_classes; ++c) {
    auto& idx = by_class[static_cast<size_t>(c)];
    const int64_t n = counts[static_cast<size_t>(c)];
    TAILOR_CHECK(n <= static_cast<int64_t>(idx.size()), "idx_lt: the ",
                 Options::kProfiles.name(options.profile), " profile (img_max ", img_max,
                 ", imbalance_ratio ", options.imbalance_ratio, ") asks for ", n,
                 " images of class ", c, " '", class_names_[c], "' but only ", idx.size(),
                 " remain after holding out ", hold,
                 " for val; lower img_max (0 = the largest class) or val_per_class");
    // One engine across all classes, nothing else drawn in between (LDAM-DRW's selection).
    if (options.selection == Options::Selection::kShuffle) rng.shuffle(idx);
    train_index_.insert(train_index_.end(), idx.begin(), idx.begin() + n);
  }

  auto gather = [&](const std::vector<int64_t>& positions) {
    std::vector<int64_t> out;
    out.reserve(positions.size());
    for (int64_t p : positions) out.push_back(file_labels[static_cast<size_t>(p)]);
    return to_long_tensor(out);
  };
  train_labels_ = gather(train_index_);
  val_labels_ = gather(val_index_);

  for (int v = 0; v < 256; ++v)
    lut_[v] = static_cast<float>((v / 255.0 - options.mean) / options.std_dev);

  log_info(detail::concat(
      "train ", train_index_.size(), " images, per class: ", join(class_counts(Split::kTrain)),
      " (", Options::kProfiles.name(options.profile), " profile, rho ", options.imbalance_ratio,
      ", img_max ", img_max, ", ", Options::kSelections.name(options.selection),
      " selection, seed ", options.seed, "); val ", val_index_.size(), " images (", hold,
      " per class); test ", test_images_.size(0), " images"));
}

int64_t IdxLt::size(Split split) const {
  return labels_of(split).size(0);
}

at::Tensor IdxLt::labels(Split split) const {
  return labels_of(split).clone();
}

const at::Tensor& IdxLt::labels_of(Split split) const {
  switch (split) {
    case Split::kTrain:
      return train_labels_;
    case Split::kVal:
      return val_labels_;
    case Split::kTest:
      return test_labels_;
  }
  TAILOR_CHECK(false, "idx_lt: unknown split ", static_cast<int>(split));
  return test_labels_;
}

std::vector<int64_t> IdxLt::class_counts(Split split) const {
  std::vector<int64_t> counts(class_names_.size(), 0);
  const at::Tensor& labels = labels_of(split);
  const int64_t* p = labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < labels.size(0); ++i) ++counts[static_cast<size_t>(p[i])];
  return counts;
}

Batch IdxLt::batch(const BatchRequest& request) const {
  const at::Tensor& labels = labels_of(request.split);
  const int64_t split_size = labels.size(0);
  const int64_t n = static_cast<int64_t>(request.count);
  const int64_t h = height_, w = width_, plane = height_ * width_;
  const bool is_test = request.split == Split::kTest;
  const std::vector<int64_t>* positions =
      request.split == Split::kTrain ? &train_index_ : &val_index_;
  const uint8_t* pixels = (is_test ? test_images_ : train_file_images_).data_ptr<uint8_t>();
  const int64_t* label_data = labels.data_ptr<int64_t>();

  const bool crop = request.augment && options_.augment != Options::Augment::kNone;
  const bool flip = request.augment && options_.augment == Options::Augment::kCropFlip;
  const int64_t pad = options_.pad;
  const float background = lut_[0];

  Batch out;
  out.inputs = at::empty({n, 1, h, w}, at::kFloat);
  out.targets = at::empty({n}, at::kLong);
  float* dst = out.inputs.data_ptr<float>();
  int64_t* targets = out.targets.data_ptr<int64_t>();

  for (int64_t k = 0; k < n; ++k, dst += plane) {
    const int64_t index = request.indices[k];
    TAILOR_CHECK(index >= 0 && index < split_size, "idx_lt: index ", index,
                 " is out of range for split '", split_name(request.split), "' of size ",
                 split_size);
    targets[k] = label_data[index];
    const uint8_t* src = pixels + (is_test ? index : (*positions)[index]) * plane;
    if (!crop) {
      for (int64_t i = 0; i < plane; ++i) dst[i] = lut_[src[i]];
      continue;
    }
    // Per-sample stream from (batch seed, position): RandomCrop(h, w, padding=pad) with zero
    // fill in pixel space, then RandomHorizontalFlip(0.5), as torchvision orders them.
    SampleRng rng(request.seed, request.position + static_cast<uint64_t>(k));
    const CropFlipDraw d = draw_crop_flip(rng, pad, flip);
    for (int64_t y = 0; y < h; ++y) {
      float* row = dst + y * w;
      const int64_t sy = y + d.top;
      if (sy < 0 || sy >= h) {
        std::fill(row, row + w, background);
        continue;
      }
      const uint8_t* src_row = src + sy * w;
      for (int64_t x = 0; x < w; ++x) {
        const int64_t sx = (d.mirror ? w - 1 - x : x) + d.left;
        row[x] = sx >= 0 && sx < w ? lut_[src_row[sx]] : background;
      }
    }
  }
  return out;
}

at::Tensor IdxLt::augment_batch(const BatchRequest& request, const at::Tensor& inputs) const {
  const int64_t n = static_cast<int64_t>(request.count);
  TAILOR_CHECK(inputs.dim() == 4 && inputs.size(0) == n, "idx_lt: augment_batch got inputs of ",
               inputs.sizes(), " for ", n, " samples");
  const bool crop = request.augment && options_.augment != Options::Augment::kNone;
  const bool flip = request.augment && options_.augment == Options::Augment::kCropFlip;
  if (!crop) return inputs;
  std::vector<CropFlipDraw> draws(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    SampleRng rng(request.seed, request.position + static_cast<uint64_t>(k));
    draws[static_cast<size_t>(k)] = draw_crop_flip(rng, options_.pad, flip);
  }
  return crop_flip_batch(inputs, draws, options_.pad, {lut_[0]});
}

void IdxLt::write_artifacts(const std::string& dir) const {
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
  write_artifact("idx_lt", fs::path(dir) / "idx_lt_selection.csv", csv.str());
}

}  // namespace tailor::plugins
