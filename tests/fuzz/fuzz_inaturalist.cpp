// tests/fuzz/fuzz_inaturalist.cpp - libFuzzer target: the iNaturalist 2018 annotation reader
// (COCO-style JSON through simdjson On Demand): images, annotations and categories, joined
// by id. Every bad input must end as tailor::Error naming the file and the position.
#include "inaturalist/inaturalist.hpp"

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fs::path file =
      fs::temp_directory_path() / ("tailor-fuzz-inat-" + std::to_string(::getpid()) + ".json");
  std::ofstream(file, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  try {
    const tailor::plugins::InatAnnotations a =
        tailor::plugins::read_inat_json(file.string(), "inaturalist: ");
    for (size_t i = 0; i < a.samples.size(); ++i) (void)a.samples.where(i);
  } catch (const tailor::Error&) {
  }
  return 0;
}
