// image_list.cpp: the list-file dataset engine behind the image list plugins.
#include "common/image_list.hpp"

#include "common/digest.hpp"

#include <ATen/ops/empty.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tailor/artifacts.hpp>
#include <tailor/log.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <utility>

namespace tailor::plugins {

namespace fs = std::filesystem;
using image::SampleTable;

namespace {

bool is_hex(std::string_view s, size_t length) {
  if (s.size() != length) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Reads a whole image file into `bytes` (reused between calls).
bool read_bytes(const std::string& path, std::vector<uint8_t>* bytes, std::string* error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = std::strerror(errno);
    return false;
  }
  struct stat st {};
  bool ok = ::fstat(fd, &st) == 0;
  size_t got = 0;
  if (ok) {
    bytes->resize(static_cast<size_t>(st.st_size));
    while (got < bytes->size()) {
      const ssize_t r = ::read(fd, bytes->data() + got, bytes->size() - got);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      got += static_cast<size_t>(r);
    }
    ok = got == bytes->size();
  }
  if (!ok) *error = errno != 0 ? std::strerror(errno) : "short read";
  ::close(fd);
  return ok;
}

// Parent folder name of a list path ("train/n01440764/x.JPEG" -> "n01440764"), or "".
std::string_view folder_of(std::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return {};
  const std::string_view dir = path.substr(0, slash);
  const size_t start = dir.rfind('/');
  return start == std::string_view::npos ? dir : dir.substr(start + 1);
}

// Class names from the train images' folders when folders and labels correspond one to one.
std::vector<std::string> names_from_folders(const SampleTable& train, int64_t num_classes) {
  std::vector<std::string_view> names(static_cast<size_t>(num_classes));
  for (size_t i = 0; i < train.size(); ++i) {
    const std::string_view folder = folder_of(train.path(i));
    if (folder.empty()) return {};
    std::string_view& name = names[static_cast<size_t>(train.labels[i])];
    if (name.empty()) {
      name = folder;
    } else if (name != folder) {
      return {};
    }
  }
  std::unordered_set<std::string_view> seen;
  for (const std::string_view& name : names)
    if (name.empty() || !seen.insert(name).second) return {};
  return std::vector<std::string>(names.begin(), names.end());
}

ImageSources load_lists(const ImageList::Options& o, const std::string& name) {
  ImageSources s;
  s.name = name;
  s.root = o.root;
  s.image = o.image;
  TAILOR_CHECK(!o.train_list.empty(), name,
               ": train_list is empty; set [dataset] train_list to the `<path> <label>` list of "
               "the train split");
  const std::string& list_dir = o.list_dir.empty() ? o.root : o.list_dir;
  s.train = read_list(name, "train_list", resolve_path(list_dir, o.train_list), "train",
                      o.train_list_sha256, &s);
  if (!o.val_list.empty())
    s.val = read_list(name, "val_list", resolve_path(list_dir, o.val_list), "val",
                      o.val_list_sha256, &s);
  if (!o.test_list.empty())
    s.test = read_list(name, "test_list", resolve_path(list_dir, o.test_list), "test",
                       o.test_list_sha256, &s);

  int64_t num_classes = o.num_classes;
  for (const SampleTable* t : {&s.train, &s.val, &s.test})
    for (size_t i = 0; i < t->size(); ++i) {
      const int64_t label = t->labels[i];
      TAILOR_CHECK(o.num_classes == 0 || label < o.num_classes, name, ": ", t->where(i), ": label ",
                   label, " is not below num_classes = ", o.num_classes,
                   "; fix the list or raise [dataset] num_classes");
      if (o.num_classes == 0) num_classes = std::max(num_classes, label + 1);
    }
  s.num_classes = num_classes;

  if (!o.class_names_file.empty()) {
    const std::string path = resolve_path(list_dir, o.class_names_file);
    std::ifstream file(path);
    TAILOR_CHECK(file.good(), name, ": class_names_file ", path,
                 " cannot be opened: ", std::strerror(errno));
    std::string line;
    while (std::getline(file, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      s.class_names.push_back(line);
    }
    while (!s.class_names.empty() && s.class_names.back().empty()) s.class_names.pop_back();
    TAILOR_CHECK(static_cast<int64_t>(s.class_names.size()) == num_classes, name,
                 ": class_names_file ", path, " has ", s.class_names.size(),
                 " names but the lists have ", num_classes,
                 " classes; give one name per line, in label order");
  }

  check_counts(name, "expected_train_counts", s.train, s.train.class_counts(num_classes),
               o.expected_train_counts);
  if (!s.val.empty())
    check_counts(name, "expected_val_counts", s.val, s.val.class_counts(num_classes),
                 o.expected_val_counts);
  if (!s.test.empty())
    check_counts(name, "expected_test_counts", s.test, s.test.class_counts(num_classes),
                 o.expected_test_counts);
  return s;
}

}  // namespace

image::TransformOptions ImageOptions::transform(const std::string& name) const {
  TAILOR_CHECK(mean.size() == 3 && std_dev.size() == 3, name,
               ": mean and std need 3 values (R, G, B), got ", mean.size(), " and ",
               std_dev.size());
  TAILOR_CHECK(resize >= image_size, name, ": resize (", resize, ") must be >= image_size (",
               image_size, "): the evaluation transform crops image_size from the resized image");
  TAILOR_CHECK(image_size <= 4096 && resize <= 8192, name, ": image_size ", image_size,
               " / resize ", resize, " are implausibly large");
  image::TransformOptions t;
  t.image_size = static_cast<int>(image_size);
  t.resize = static_cast<int>(resize);
  t.augment = augment;
  t.color_jitter = color_jitter;
  t.randaugment_n = static_cast<int>(randaugment_n);
  t.randaugment_m = static_cast<int>(randaugment_m);
  for (int c = 0; c < 3; ++c) {
    t.mean[c] = static_cast<float>(mean[static_cast<size_t>(c)]);
    t.std[c] = static_cast<float>(std_dev[static_cast<size_t>(c)]);
  }
  t.decode_scaling = decode_scaling;
  return t;
}

std::string resolve_path(const std::string& dir, const std::string& file) {
  if (dir.empty() || file.empty() || fs::path(file).is_absolute()) return file;
  return (fs::path(dir) / file).string();
}

void verify_digest(const std::string& name, const std::string& option, const std::string& path,
                   std::string_view content, const std::string& sha256,
                   const std::vector<std::string>& accepted) {
  if (accepted.empty()) return;
  std::string blob;  // computed only when an accepted entry is a git blob id
  std::string expected;
  for (const std::string& entry : accepted) {
    const std::string_view e(entry);
    expected += (expected.empty() ? "" : ", ") + entry;
    if (e.substr(0, 9) == "git-blob:") {
      TAILOR_CHECK(is_hex(e.substr(9), 40), name, ": ", option, "_sha256 entry \"", entry,
                   "\" is not \"git-blob:\" followed by 40 hex digits");
      if (blob.empty()) blob = image::git_blob_hex(content);
      if (lower(e.substr(9)) == blob) return;
    } else {
      TAILOR_CHECK(is_hex(e, 64), name, ": ", option, "_sha256 entry \"", entry,
                   "\" is neither a SHA-256 (64 hex digits) nor \"git-blob:<40 hex digits>\"");
      if (lower(e) == sha256) return;
    }
  }
  if (blob.empty()) blob = image::git_blob_hex(content);
  TAILOR_CHECK(false, name, ": ", option, " ", path, " is not the expected file: expected one of [",
               expected, "], found sha256 ", sha256, " (git-blob:", blob,
               "). Use the official list, or if this list is modified on purpose set [dataset] ",
               option, "_sha256 = [] to skip the check");
}

SampleTable read_list(const std::string& name, const std::string& option, const std::string& path,
                      const std::string& split, const std::vector<std::string>& accepted,
                      ImageSources* sources) {
  const std::string content = image::read_file(path, name + ": " + option);
  const std::string sha256 = image::sha256_hex(content);
  verify_digest(name, option, path, content, sha256, accepted);
  SampleTable table = image::parse_list(content, path, name + ": ");
  TAILOR_CHECK(!table.empty(), name, ": ", option, " ", path, " has no samples");
  sources->files.push_back({split, path, static_cast<int64_t>(table.size()), sha256});
  return table;
}

void check_counts(const std::string& name, const std::string& option, const SampleTable& table,
                  const std::vector<int64_t>& counts, const std::vector<int64_t>& expected) {
  if (expected.empty()) return;
  TAILOR_CHECK(expected.size() == 3, name, ": ", option,
               " needs 3 values [images, max per class, min per class], got ", expected.size());
  const auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
  const int64_t total = static_cast<int64_t>(table.size());
  const int64_t max = counts.empty() ? 0 : *hi, min = counts.empty() ? 0 : *lo;
  if (total == expected[0] && max == expected[1] && min == expected[2]) return;
  TAILOR_CHECK(
      false, name, ": ", table.source, " does not have the expected class-count profile: expected ",
      expected[0], " images, at most ", expected[1], " and at least ", expected[2],
      " per class; found ", total, " images, at most ", max, " (class ", hi - counts.begin(),
      ") and at least ", min, " (class ", lo - counts.begin(), ") per class over ", counts.size(),
      " classes. Use the official list, or if the change is on purpose set [dataset] ", option,
      " = [] to skip the check");
}

ImageList::ImageList(const Options& options, const std::string& name)
    : ImageList(load_lists(options, name)) {}

ImageList::ImageList(ImageSources sources) {
  init(std::move(sources));
}

void ImageList::init(ImageSources s) {
  name_ = s.name;
  root_ = s.root;
  image_options_ = s.image;
  pipeline_ = std::make_unique<image::ImagePipeline>(s.image.transform(name_));
  TAILOR_CHECK(!s.train.empty(), name_, ": the train split is empty (", s.train.source, ")");

  int64_t num_classes = s.num_classes;
  for (const SampleTable* t : {&s.train, &s.val, &s.test})
    for (size_t i = 0; i < t->size(); ++i) {
      TAILOR_CHECK(s.num_classes == 0 || t->labels[i] < s.num_classes, name_, ": ", t->where(i),
                   ": label ", t->labels[i], " is not below the ", s.num_classes, " classes");
      num_classes = std::max(num_classes, t->labels[i] + 1);
    }
  folder_names_ = names_from_folders(s.train, num_classes);
  if (!s.class_names.empty()) {
    TAILOR_ASSERT(static_cast<int64_t>(s.class_names.size()) == num_classes,
                  "class names do not match the number of classes");
    class_names_ = std::move(s.class_names);
  } else if (!folder_names_.empty()) {
    class_names_ = folder_names_;
  } else {
    for (int64_t c = 0; c < num_classes; ++c) class_names_.push_back(std::to_string(c));
  }
  files_ = std::move(s.files);

  const std::pair<SplitData*, SampleTable*> splits[] = {
      {&train_, &s.train}, {&val_, &s.val}, {&test_, &s.test}};
  for (const auto& [data, table] : splits) {
    data->samples = std::move(*table);
    data->labels = at::empty({static_cast<int64_t>(data->samples.size())}, at::kLong);
    std::copy(data->samples.labels.begin(), data->samples.labels.end(),
              data->labels.data_ptr<int64_t>());
  }
  probe_layout(&train_, "train");
  probe_layout(&val_, "val");
  probe_layout(&test_, "test");
  check_files(train_, "train");
  check_files(val_, "val");
  check_files(test_, "test");

  const std::vector<int64_t> counts = class_counts(Split::kTrain);
  const auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
  int64_t many = 0, medium = 0, few = 0;
  for (int64_t n : counts) (n > 100 ? many : n >= 20 ? medium : few) += 1;
  log_info(detail::concat(name_, ": ", num_classes, " classes; train ", train_.samples.size(),
                          " images (", *hi, " to ", *lo, " per class; ", many, "/", medium, "/",
                          few, " classes with >100 / 20-100 / <20), val ", val_.samples.size(),
                          ", test ", test_.samples.size(), "; images under ",
                          root_.empty() ? std::string("the working directory") : root_));
}

void ImageList::probe_layout(SplitData* split, const char* which) {
  if (split->samples.empty()) return;
  std::error_code ec;
  const auto exists = [&](const std::string& p) { return fs::is_regular_file(p, ec); };
  const std::string listed = file_of(*split, 0);
  if (exists(listed)) return;
  for (Layout layout : {Layout::kWithoutParent, Layout::kWithClassFolder}) {
    if (layout == Layout::kWithClassFolder && folder_names_.empty()) continue;
    split->layout = layout;
    const std::string other = file_of(*split, 0);
    if (other != listed && exists(other)) {
      log_info(detail::concat(name_, ": ", which, " images are laid out differently from ",
                              split->samples.source, ": using ", other, " for ", listed));
      return;
    }
  }
  split->layout = Layout::kAsListed;
  const std::string message = detail::concat(
      name_, ": the first ", which, " image ", listed, " (", split->samples.where(0),
      ") does not exist; set [dataset] root to the directory the list's paths are relative to");
  TAILOR_CHECK(image_options_.on_corrupt != ImageOptions::OnCorrupt::kError, message);
  log_warn(message);
}

// Every listed image must exist before training starts: a missing test image would
// otherwise surface only after a training epoch, which is then lost. One stat() per image;
// threads hide the latency of a network file system (ImageNet-LT lists 186k images).
void ImageList::check_files(const SplitData& split, const char* which) const {
  const size_t n = split.samples.size();
  if (n == 0) return;
  const size_t threads = std::clamp<size_t>(n / 4096, 1, 16);
  std::vector<std::vector<size_t>> missing(threads);
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      struct stat st {};
      for (size_t i = t; i < n; i += threads)
        if (::stat(file_of(split, i).c_str(), &st) != 0 || !S_ISREG(st.st_mode))
          missing[t].push_back(i);
    });
  for (auto& thread : pool) thread.join();
  std::vector<size_t> all;
  for (const auto& m : missing) all.insert(all.end(), m.begin(), m.end());
  if (all.empty()) return;
  std::sort(all.begin(), all.end());
  std::string examples;
  for (size_t k = 0; k < all.size() && k < 3; ++k)
    examples += (k ? "; " : "") + file_of(split, all[k]) + " (" + split.samples.where(all[k]) + ")";
  const std::string message = detail::concat(
      name_, ": ", all.size(), " of ", n, " ", which, " images do not exist, e.g. ", examples,
      all.size() > 3 ? "; ..." : "",
      ". Restore them, or set [dataset] root to the directory the list's paths are relative "
      "to; on_corrupt = \"black\" trains with black images in their place");
  TAILOR_CHECK(image_options_.on_corrupt != ImageOptions::OnCorrupt::kError, message);
  log_warn(message);
}

std::string ImageList::file_of(const SplitData& split, size_t index) const {
  std::string_view path = split.samples.path(index);
  std::string out;
  if (!root_.empty()) {
    while (!path.empty() && path.front() == '/') path.remove_prefix(1);
    out.reserve(root_.size() + path.size() + 32);
    out = root_;
    if (out.back() != '/') out += '/';
  }
  const size_t slash = path.rfind('/');
  const std::string_view dir =
      slash == std::string_view::npos ? std::string_view() : path.substr(0, slash + 1);
  const std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  switch (split.layout) {
    case Layout::kAsListed:
      out += path;
      break;
    case Layout::kWithoutParent: {  // val/n01440764/x.JPEG -> val/x.JPEG
      const std::string_view parent = dir.empty() ? dir : dir.substr(0, dir.size() - 1);
      const size_t up = parent.rfind('/');
      out += up == std::string_view::npos ? std::string_view() : parent.substr(0, up + 1);
      out += base;
      break;
    }
    case Layout::kWithClassFolder:  // val/x.JPEG -> val/n01440764/x.JPEG
      out += dir;
      out += folder_names_[static_cast<size_t>(split.samples.labels[index])];
      out += '/';
      out += base;
      break;
  }
  return out;
}

const ImageList::SplitData& ImageList::split_data(Split split) const {
  switch (split) {
    case Split::kTrain:
      return train_;
    case Split::kVal:
      return val_;
    case Split::kTest:
      return test_;
  }
  TAILOR_CHECK(false, name_, ": unknown split ", static_cast<int>(split));
  return test_;
}

std::vector<int64_t> ImageList::sample_shape() const {
  return {3, image_options_.image_size, image_options_.image_size};
}

int64_t ImageList::size(Split split) const {
  return static_cast<int64_t>(split_data(split).samples.size());
}

at::Tensor ImageList::labels(Split split) const {
  return split_data(split).labels.clone();
}

std::vector<int64_t> ImageList::class_counts(Split split) const {
  return split_data(split).samples.class_counts(static_cast<int64_t>(class_names_.size()));
}

const SampleTable& ImageList::samples(Split split) const {
  return split_data(split).samples;
}

std::string ImageList::image_path(Split split, int64_t index) const {
  return file_of(split_data(split), static_cast<size_t>(index));
}

Batch ImageList::batch(const BatchRequest& request) const {
  const SplitData& split = split_data(request.split);
  const int64_t split_size = static_cast<int64_t>(split.samples.size());
  const int64_t n = static_cast<int64_t>(request.count);
  const int64_t side = image_options_.image_size;
  const size_t plane = pipeline_->sample_floats();

  Batch out;
  out.inputs = at::empty({n, 3, side, side}, at::kFloat);
  out.targets = at::empty({n}, at::kLong);
  float* inputs = out.inputs.data_ptr<float>();
  int64_t* targets = out.targets.data_ptr<int64_t>();
  const int64_t* labels = split.labels.data_ptr<int64_t>();

  thread_local std::vector<uint8_t> bytes;
  std::string error;
  for (int64_t k = 0; k < n; ++k) {
    const int64_t index = request.indices[k];
    TAILOR_CHECK(index >= 0 && index < split_size, name_, ": index ", index,
                 " is out of range for split '", split_name(request.split), "' of size ",
                 split_size);
    targets[k] = labels[index];
    float* dst = inputs + static_cast<size_t>(k) * plane;
    const std::string file = file_of(split, static_cast<size_t>(index));
    image::SampleRng rng(request.seed, request.position + static_cast<uint64_t>(k));
    if (read_bytes(file, &bytes, &error) &&
        pipeline_->process(bytes.data(), bytes.size(), request.augment, rng, dst, &error))
      continue;
    const std::string what =
        detail::concat(name_, ": cannot use image ", file, " (",
                       split.samples.where(static_cast<size_t>(index)), "): ", error);
    TAILOR_CHECK(image_options_.on_corrupt != ImageOptions::OnCorrupt::kError, what,
                 "; replace the file, or set [dataset] on_corrupt = \"black\" to train on a "
                 "black image in its place");
    const int64_t replaced = ++replaced_;
    if (replaced <= 10 || replaced % 1000 == 0)
      log_warn(detail::concat(what, "; using a black image (on_corrupt = \"black\"), ", replaced,
                              " replaced so far"));
    pipeline_->fill(dst, 0, 0, 0);
  }
  return out;
}

void ImageList::write_artifacts(const std::string& dir) const {
  const std::string classes =
      image::class_counts_csv(class_names_, class_counts(Split::kTrain), class_counts(Split::kVal),
                              class_counts(Split::kTest));
  write_artifact(name_, fs::path(dir) / (name_ + "_classes.csv"), classes);

  std::string sources = "split,path,samples,sha256\n";
  for (const SourceFile& f : files_)
    sources +=
        detail::concat(f.split, ",", image::csv_field(f.path), ",", f.samples, ",", f.sha256, "\n");
  write_artifact(name_, fs::path(dir) / (name_ + "_sources.csv"), sources);
}

}  // namespace tailor::plugins
