// samples.cpp: sample tables and the `<path> <label>` list-file parser.
#include "samples.hpp"

#include <tailor/error.hpp>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>

namespace tailor::image {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

// The line as it should appear in a message: at most 120 characters.
std::string quote(std::string_view line) {
  if (line.size() > 120) return "\"" + std::string(line.substr(0, 117)) + "...\"";
  return "\"" + std::string(line) + "\"";
}

}  // namespace

std::string SampleTable::where(size_t i) const {
  if (origin_is_line) return source + " line " + std::to_string(origins[i]);
  return source + " images[" + std::to_string(origins[i]) + "]";
}

std::vector<int64_t> SampleTable::class_counts(int64_t num_classes) const {
  std::vector<int64_t> counts(static_cast<size_t>(num_classes), 0);
  for (int64_t label : labels)
    if (label >= 0 && label < num_classes) ++counts[static_cast<size_t>(label)];
  return counts;
}

std::string read_file(const std::string& path, const std::string& what) {
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> file(std::fopen(path.c_str(), "rb"));
  TAILOR_CHECK(file != nullptr, what, " ", path, " cannot be opened: ", std::strerror(errno));
  std::string content;
  char buffer[1 << 16];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) content.append(buffer, got);
  TAILOR_CHECK(std::ferror(file.get()) == 0, what, " ", path,
               " could not be read: ", std::strerror(errno));
  return content;
}

SampleTable parse_list(std::string_view content, const std::string& source,
                       const std::string& prefix) {
  SampleTable table;
  table.source = source;
  // ~40 bytes per line in the official lists; reserving avoids regrowth on 437k lines.
  const size_t estimate = content.size() / 32 + 16;
  table.chars.reserve(content.size());
  table.offsets.reserve(estimate);
  table.labels.reserve(estimate);
  table.origins.reserve(estimate);
  if (content.substr(0, 3) == "\xEF\xBB\xBF") content.remove_prefix(3);  // UTF-8 BOM

  uint32_t line_number = 0;
  size_t pos = 0;
  while (pos < content.size()) {
    ++line_number;
    const char* begin = content.data() + pos;
    const void* nl = std::memchr(begin, '\n', content.size() - pos);
    const size_t length =
        nl != nullptr ? static_cast<const char*>(nl) - begin : content.size() - pos;
    pos += length + 1;
    std::string_view line(begin, length);
    while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
    while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
    if (line.empty()) continue;

    size_t cut = line.size();
    while (cut > 0 && !is_space(line[cut - 1])) --cut;
    TAILOR_CHECK(cut > 0, prefix, source, ":", line_number,
                 ": expected \"<image path> <label>\", found ", quote(line),
                 " (no label after the path)");
    const std::string_view label_text = line.substr(cut);
    std::string_view path = line.substr(0, cut);
    while (!path.empty() && is_space(path.back())) path.remove_suffix(1);

    int64_t label = -1;
    const auto [end, ec] =
        std::from_chars(label_text.data(), label_text.data() + label_text.size(), label);
    TAILOR_CHECK(ec == std::errc() && end == label_text.data() + label_text.size(), prefix, source,
                 ":", line_number, ": the label \"", label_text,
                 "\" is not a decimal integer (line ", quote(line), ")");
    TAILOR_CHECK(label >= 0 && label < (int64_t{1} << 31), prefix, source, ":", line_number,
                 ": label ", label, " is out of range; labels are class indices >= 0",
                 label < 0 ? " (open-set lists with label -1 are not supported)" : "");
    table.add(path, label, line_number);
  }
  return table;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string class_counts_csv(const std::vector<std::string>& names,
                             const std::vector<int64_t>& train, const std::vector<int64_t>& val,
                             const std::vector<int64_t>& test) {
  std::string csv = "label,name,train,val,test\n";
  for (size_t c = 0; c < names.size(); ++c)
    csv += std::to_string(c) + "," + csv_field(names[c]) + "," + std::to_string(train[c]) + "," +
           std::to_string(val[c]) + "," + std::to_string(test[c]) + "\n";
  return csv;
}

}  // namespace tailor::image
