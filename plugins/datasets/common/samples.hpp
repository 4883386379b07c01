// samples.hpp: the samples of one split (image paths and labels) and the `<path> <label>`
// list-file parser that fills them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tailor::image {

/// Paths and labels of one split, with where each sample was declared. Paths are stored
/// back to back in one buffer: 437k iNaturalist paths cost one allocation, not 437k.
struct SampleTable {
  std::string source;                ///< the file the samples were read from
  bool origin_is_line = true;        ///< origins are 1-based line numbers, else "images[i]" indices
  std::string chars;                 ///< all paths, concatenated
  std::vector<uint64_t> offsets{0};  ///< path i is chars[offsets[i], offsets[i + 1])
  std::vector<int64_t> labels;
  std::vector<uint32_t> origins;

  size_t size() const { return labels.size(); }
  bool empty() const { return labels.empty(); }
  std::string_view path(size_t i) const {
    return std::string_view(chars).substr(offsets[i], offsets[i + 1] - offsets[i]);
  }
  void add(std::string_view path, int64_t label, uint32_t origin) {
    chars.append(path);
    offsets.push_back(chars.size());
    labels.push_back(label);
    origins.push_back(origin);
  }
  /// Where sample i was declared: "file line 17" or "file images[16]".
  std::string where(size_t i) const;
  /// Samples per class, for labels in [0, num_classes).
  std::vector<int64_t> class_counts(int64_t num_classes) const;
};

/// The whole content of `path`. Throws tailor::Error naming `what` (e.g. "image_list:
/// train_list") and the path when it cannot be read.
std::string read_file(const std::string& path, const std::string& what);

/// Parses a list of `<path> <label>` lines: the label is the last whitespace-separated field
/// (so paths may contain spaces), surrounding whitespace and a trailing CR are ignored, blank
/// lines are skipped. A line without a label, or with a label that is not a non-negative
/// decimal integer, throws tailor::Error "<prefix><source>:<line>: ..." quoting the line.
SampleTable parse_list(std::string_view content, const std::string& source,
                       const std::string& prefix);

/// `s` as one CSV field: quoted (with doubled quotes) when it holds a comma, quote or newline.
std::string csv_field(const std::string& s);

/// The `<dataset>_classes.csv` artefact: a `label,name,train,val,test` header, then one row
/// per class with its sample count in each split.
std::string class_counts_csv(const std::vector<std::string>& names,
                             const std::vector<int64_t>& train, const std::vector<int64_t>& val,
                             const std::vector<int64_t>& test);

}  // namespace tailor::image
