// inaturalist: iNaturalist 2018 from the official JSON annotations or from list files.
#include "inaturalist.hpp"

#include "common/digest.hpp"

#include <simdjson.h>

#include <tailor/log.hpp>

#include <algorithm>
#include <unordered_map>
#include <utility>

namespace tailor::plugins {

namespace ondemand = simdjson::ondemand;
using image::SampleTable;

namespace {

constexpr const char* kName = "inaturalist";

// Names a JSON entry in messages ("images[2].id"); the text is built only on failure, since
// the official files have 900k entries.
struct Where {
  const char* array = nullptr;  // nullptr: the top level
  size_t index = 0;
  const char* field = nullptr;

  std::string text() const {
    if (array == nullptr) return "the top-level object";
    std::string s = detail::concat(array, "[", index, "]");
    if (field != nullptr) s += std::string(".") + field;
    return s;
  }
  Where with(const char* f) const { return Where{array, index, f}; }
};

// Turns simdjson errors into messages with the file, line:column and byte offset.
class JsonReader {
 public:
  JsonReader(const simdjson::padded_string& json, const std::string& path,
             const std::string& prefix)
      : json_(json), path_(path), prefix_(prefix) {}

  void attach(ondemand::document* doc) { doc_ = doc; }

  [[noreturn]] void fail(const std::string& problem) const {
    size_t offset = json_.size();
    const char* here = nullptr;
    if (doc_ != nullptr && doc_->current_location().get(here) == simdjson::SUCCESS &&
        here >= json_.data() && here <= json_.data() + json_.size())
      offset = static_cast<size_t>(here - json_.data());
    size_t line = 1, column = 1;
    for (size_t i = 0; i < offset; ++i) {
      if (json_.data()[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    throw Error(detail::concat(
        prefix_, path_, ":", line, ":", column, " (byte ", offset,
        offset == json_.size() ? ", the end of the file" : "", "): ", problem,
        "; the file is damaged or not a COCO-style iNaturalist annotation file (re-download or "
        "re-extract it)"));
  }
  // `what` follows the entry's name: "is not an integer", ...
  void check(simdjson::error_code e, const Where& where, const char* what) const {
    if (e != simdjson::SUCCESS) fail(where.text() + " " + what + ": " + simdjson::error_message(e));
  }

 private:
  const simdjson::padded_string& json_;
  const std::string& path_;
  const std::string& prefix_;
  ondemand::document* doc_ = nullptr;
};

struct Annotation {
  int64_t image_id;
  int64_t category_id;
};

// Calls body(key, value) for every field of `object`.
template <typename Body>
void for_fields(ondemand::object object, const JsonReader& reader, const Where& where,
                Body&& body) {
  for (auto item : object) {
    ondemand::field field;
    reader.check(std::move(item).get(field), where, "could not be read");
    body(field.key(), field.value());
  }
}

int64_t int_of(ondemand::value value, const JsonReader& reader, const Where& where) {
  int64_t v = 0;
  reader.check(value.get_int64().get(v), where, "is not an integer");
  return v;
}

// Calls body(object, where) for every element of the array `value` named `name`.
template <typename Body>
void for_objects(ondemand::value value, const char* name, const JsonReader& reader, Body&& body) {
  ondemand::array array;
  reader.check(value.get_array().get(array), Where{name, 0, nullptr}, "is not an array");
  size_t index = 0;
  for (auto item : array) {
    const Where where{name, index, nullptr};
    ondemand::object object;
    reader.check(item.get_object().get(object), where, "is not an object");
    body(object, where);
    ++index;
  }
}

}  // namespace

ImageOptions inat_image_defaults() {
  ImageOptions o;
  o.color_jitter = 0.0;
  o.mean = {0.466, 0.471, 0.380};
  o.std_dev = {0.195, 0.194, 0.192};
  return o;
}

InatAnnotations read_inat_json(const std::string& path, const std::string& prefix) {
  simdjson::padded_string json;
  const simdjson::error_code load_error = simdjson::padded_string::load(path).get(json);
  TAILOR_CHECK(load_error == simdjson::SUCCESS, prefix, path,
               " cannot be read: ", simdjson::error_message(load_error));
  JsonReader reader(json, path, prefix);
  ondemand::parser parser;
  ondemand::document doc;
  reader.check(parser.iterate(json).get(doc), Where{}, "is not valid JSON");
  reader.attach(&doc);
  ondemand::object top;
  reader.check(doc.get_object().get(top), Where{}, "is not a JSON object");

  InatAnnotations out;
  out.sha256 = image::sha256_hex(std::string_view(json.data(), json.size()));
  SampleTable& samples = out.samples;
  samples.source = path;
  samples.origin_is_line = false;
  std::vector<int64_t> image_ids;
  std::vector<Annotation> annotations;
  bool has_images = false, has_annotations = false;

  for_fields(top, reader, Where{}, [&](ondemand::raw_json_string key, ondemand::value value) {
    if (key == "images") {
      has_images = true;
      for_objects(value, "images", reader, [&](ondemand::object object, const Where& where) {
        int64_t id = -1;
        bool has_id = false, has_file = false;
        for_fields(object, reader, where, [&](auto k, ondemand::value v) {
          if (k == "id") {
            id = int_of(v, reader, where.with("id"));
            has_id = true;
          } else if (k == "file_name") {
            std::string_view file;
            reader.check(v.get_string().get(file), where.with("file_name"), "is not a string");
            samples.add(file, -1, static_cast<uint32_t>(where.index));
            has_file = true;
          }
        });
        if (!has_id || !has_file)
          reader.fail(where.text() + " has no \"" + (has_id ? "file_name" : "id") + "\"");
        image_ids.push_back(id);
      });
    } else if (key == "annotations") {
      has_annotations = true;
      for_objects(value, "annotations", reader, [&](ondemand::object object, const Where& where) {
        Annotation a{-1, -1};
        bool has_image = false, has_category = false;
        for_fields(object, reader, where, [&](auto k, ondemand::value v) {
          if (k == "image_id") {
            a.image_id = int_of(v, reader, where.with("image_id"));
            has_image = true;
          } else if (k == "category_id") {
            a.category_id = int_of(v, reader, where.with("category_id"));
            has_category = true;
          }
        });
        if (!has_image || !has_category)
          reader.fail(where.text() + " has no \"" + (has_image ? "category_id" : "image_id") +
                      "\"");
        annotations.push_back(a);
      });
    } else if (key == "categories") {
      for_objects(value, "categories", reader, [&](ondemand::object object, const Where& where) {
        int64_t id = -1;
        std::string name;
        bool has_id = false;
        for_fields(object, reader, where, [&](auto k, ondemand::value v) {
          if (k == "id") {
            id = int_of(v, reader, where.with("id"));
            has_id = true;
          } else if (k == "name") {
            std::string_view text;
            reader.check(v.get_string().get(text), where.with("name"), "is not a string");
            name = std::string(text);
          }
        });
        if (!has_id) reader.fail(where.text() + " has no \"id\"");
        out.category_ids.push_back(id);
        out.category_names.push_back(name.empty() ? std::to_string(id) : name);
      });
    }
  });
  reader.attach(nullptr);

  TAILOR_CHECK(has_images && has_annotations, prefix, path, " has no \"",
               has_images ? "annotations" : "images",
               "\" array; the official train2018.json / val2018.json have both (test2018.json "
               "has no labels and cannot be used)");
  TAILOR_CHECK(!image_ids.empty(), prefix, path, " lists no images");

  // Join annotations to images. The official files keep the two arrays aligned.
  std::vector<int64_t>& labels = samples.labels;
  bool aligned = annotations.size() == image_ids.size();
  for (size_t i = 0; aligned && i < image_ids.size(); ++i)
    aligned = annotations[i].image_id == image_ids[i];
  if (aligned) {
    for (size_t i = 0; i < annotations.size(); ++i) labels[i] = annotations[i].category_id;
  } else {
    std::unordered_map<int64_t, size_t> position;
    position.reserve(image_ids.size());
    for (size_t i = 0; i < image_ids.size(); ++i)
      TAILOR_CHECK(position.emplace(image_ids[i], i).second, prefix, path, ": ",
                   Where{"images", i}.text(), " repeats image id ", image_ids[i]);
    for (size_t k = 0; k < annotations.size(); ++k) {
      const auto it = position.find(annotations[k].image_id);
      TAILOR_CHECK(it != position.end(), prefix, path, ": ", Where{"annotations", k}.text(),
                   " refers to image id ", annotations[k].image_id, ", which is not in \"images\"");
      TAILOR_CHECK(labels[it->second] < 0, prefix, path, ": image id ", annotations[k].image_id,
                   " (", Where{"images", it->second}.text(), ") has more than one annotation (",
                   Where{"annotations", k}.text(), ")");
      labels[it->second] = annotations[k].category_id;
    }
    for (size_t i = 0; i < labels.size(); ++i)
      TAILOR_CHECK(labels[i] >= 0, prefix, path, ": image id ", image_ids[i], " (",
                   Where{"images", i}.text(), ") has no annotation");
  }
  return out;
}

namespace {

// The label of category id c is its rank among the train file's category ids.
struct CategoryMap {
  std::vector<int64_t> ids;  // ascending
  int64_t label_of(int64_t id) const {
    const auto it = std::lower_bound(ids.begin(), ids.end(), id);
    return it != ids.end() && *it == id ? it - ids.begin() : -1;
  }
};

void relabel(SampleTable* table, const CategoryMap& map, const std::string& prefix) {
  for (size_t i = 0; i < table->size(); ++i) {
    const int64_t label = map.label_of(table->labels[i]);
    TAILOR_CHECK(label >= 0, prefix, table->where(i), ": category_id ", table->labels[i],
                 " is not among the train file's categories");
    table->labels[i] = label;
  }
}

ImageSources load(const Inaturalist::Options& o) {
  const std::string prefix = std::string(kName) + ": ";
  TAILOR_CHECK(!o.root.empty(), kName,
               ": set [dataset] root to the directory holding train_val2018/ (the image paths "
               "are relative to it), and annotation_dir to the folder of the ",
               o.format == Inaturalist::Options::Format::kJson ? "JSON" : "list",
               " files if they are elsewhere");
  ImageSources s;
  s.name = kName;
  s.root = o.root;
  s.image = o.image;
  const std::string& dir = o.annotation_dir.empty() ? o.root : o.annotation_dir;

  SampleTable train, official_val;
  if (o.format == Inaturalist::Options::Format::kJson) {
    const std::string train_path = resolve_path(dir, o.train_json);
    const std::string val_path = resolve_path(dir, o.val_json);
    InatAnnotations t = read_inat_json(train_path, prefix);
    InatAnnotations v = read_inat_json(val_path, prefix);
    CategoryMap map;
    std::vector<std::pair<int64_t, std::string>> categories;
    for (size_t i = 0; i < t.category_ids.size(); ++i)
      categories.emplace_back(t.category_ids[i], t.category_names[i]);
    if (categories.empty())  // no "categories": the ids the annotations use
      for (int64_t id : t.samples.labels) categories.emplace_back(id, std::to_string(id));
    std::sort(categories.begin(), categories.end());
    categories.erase(std::unique(categories.begin(), categories.end(),
                                 [](const auto& a, const auto& b) { return a.first == b.first; }),
                     categories.end());
    for (auto& [id, name] : categories) {
      map.ids.push_back(id);
      s.class_names.push_back(std::move(name));
    }
    TAILOR_CHECK(o.num_classes == 0 || static_cast<int64_t>(map.ids.size()) == o.num_classes, kName,
                 ": ", train_path, " has ", map.ids.size(),
                 " categories, expected num_classes = ", o.num_classes,
                 "; use the official train2018.json or set [dataset] num_classes = 0");
    const bool identity =
        map.ids.front() == 0 && map.ids.back() == static_cast<int64_t>(map.ids.size()) - 1;
    if (!identity)
      log_info(detail::concat(kName, ": category ids are not 0..", map.ids.size() - 1,
                              "; labels are their ranks in ascending id order"));
    relabel(&t.samples, map, prefix);
    relabel(&v.samples, map, prefix);
    train = std::move(t.samples);
    official_val = std::move(v.samples);
    s.files.push_back({"train", train_path, static_cast<int64_t>(train.size()), t.sha256});
    s.files.push_back({"test", val_path, static_cast<int64_t>(official_val.size()), v.sha256});
  } else {
    train = read_list(kName, "train_list", resolve_path(dir, o.train_list), "train",
                      o.train_list_sha256, &s);
    official_val =
        read_list(kName, "val_list", resolve_path(dir, o.val_list), "test", o.val_list_sha256, &s);
    for (const SampleTable* t : {&train, &official_val})
      for (size_t i = 0; i < t->size(); ++i)
        TAILOR_CHECK(o.num_classes == 0 || t->labels[i] < o.num_classes, kName, ": ", t->where(i),
                     ": label ", t->labels[i], " is not below num_classes = ", o.num_classes);
  }

  const int64_t num_classes =
      o.format == Inaturalist::Options::Format::kJson ? static_cast<int64_t>(s.class_names.size())
      : o.num_classes > 0                             ? o.num_classes
                          : 1 + *std::max_element(train.labels.begin(), train.labels.end());
  s.num_classes = num_classes;
  check_counts(kName, "expected_train_counts", train, train.class_counts(num_classes),
               o.expected_train_counts);
  check_counts(kName, "expected_test_counts", official_val, official_val.class_counts(num_classes),
               o.expected_test_counts);

  if (o.val_split == Inaturalist::Options::ValSplit::kHoldout) {
    // The last val_per_class images of each class, in file order, become val.
    std::vector<int64_t> left = train.class_counts(num_classes);
    for (size_t c = 0; c < left.size(); ++c)
      TAILOR_CHECK(left[c] > o.val_per_class, kName, ": class ", c, " has ", left[c],
                   " train images; holding out val_per_class = ", o.val_per_class,
                   " would leave none. Lower val_per_class or set val_split = \"none\"");
    std::vector<char> held(train.size(), 0);
    std::vector<int64_t> taken(static_cast<size_t>(num_classes), 0);
    for (size_t i = train.size(); i-- > 0;) {
      int64_t& t = taken[static_cast<size_t>(train.labels[i])];
      if (t < o.val_per_class) {
        held[i] = 1;
        ++t;
      }
    }
    SampleTable kept, val;
    for (SampleTable* t : {&kept, &val}) {
      t->source = train.source;
      t->origin_is_line = train.origin_is_line;
    }
    for (size_t i = 0; i < train.size(); ++i)
      (held[i] ? val : kept).add(train.path(i), train.labels[i], train.origins[i]);
    s.train = std::move(kept);
    s.val = std::move(val);
  } else {
    s.train = std::move(train);
    if (o.val_split == Inaturalist::Options::ValSplit::kOfficial) {
      log_warn(detail::concat(kName,
                              ": val_split = \"official\": val is the official val2018, the same "
                              "images as test; model selection on it tunes on the test set (the "
                              "protocol of the published results)"));
      s.val = official_val;
    }
  }
  s.test = std::move(official_val);
  return s;
}

}  // namespace

Inaturalist::Inaturalist(const Options& options) : ImageList(load(options)) {}

}  // namespace tailor::plugins
