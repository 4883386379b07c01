// tests/fuzz/fuzz_image_list.cpp - libFuzzer target: the `<path> <label>` list-file parser of
// the image-list datasets (ImageNet-LT, Places-LT, iNaturalist's list format). Every bad
// line must end as tailor::Error naming the file and line.
#include "common/samples.hpp"

#include <tailor/error.hpp>

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  try {
    const tailor::image::SampleTable table =
        tailor::image::parse_list(content, "train.txt", "image_list: ");
    for (size_t i = 0; i < table.size(); ++i) {
      (void)table.path(i);
      (void)table.where(i);
    }
    (void)table.class_counts(1000);
  } catch (const tailor::Error&) {
  }
  return 0;
}
