// tests/fuzz/fuzz_idx.cpp - libFuzzer target: the IDX reader of idx_lt (Fashion-MNIST's
// format, gzipped or raw), through the dataset's constructor as tailor builds it.
//
// The input replaces each of the four files of a small valid fixture in turn, so header,
// element type, dimensions, counts, labels and gzip framing are all reached, each against the
// other three valid files. Every bad input must end as tailor::Error naming the file.
#include "idx_lt/idx_lt.hpp"

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const char* const kNames[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                              "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

std::string big_endian(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// A valid file of the fixture: `count` 4x4 images, or `count` labels cycling over 10 classes.
std::string valid(size_t which) {
  const uint32_t count = which < 2 ? 60 : 20;
  std::string bytes;
  if (which % 2 == 0) {
    bytes = big_endian(0x803) + big_endian(count) + big_endian(4) + big_endian(4);
    for (uint32_t i = 0; i < count * 16; ++i) bytes += static_cast<char>(i * 7);
  } else {
    bytes = big_endian(0x801) + big_endian(count);
    for (uint32_t i = 0; i < count; ++i) bytes += static_cast<char>(i % 10);
  }
  return bytes;
}

void write(const fs::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
}

const fs::path& fixture() {
  static const fs::path dir = [] {
    const fs::path d =
        fs::temp_directory_path() / ("tailor-fuzz-idx-" + std::to_string(::getpid()));
    fs::create_directories(d);
    for (size_t i = 0; i < 4; ++i) write(d / kNames[i], valid(i));
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tailor::plugins::IdxLt::Options o;
  o.root = fixture().string();
  o.train_images = kNames[0];
  o.train_labels = kNames[1];
  o.test_images = kNames[2];
  o.test_labels = kNames[3];
  o.class_names = {};
  o.val_per_class = 1;
  o.imbalance_ratio = 2.0;
  for (size_t which = 0; which < 4; ++which) {
    const fs::path file = fixture() / kNames[which];
    write(file, std::string(reinterpret_cast<const char*>(data), size));
    try {
      tailor::plugins::IdxLt dataset(o);
    } catch (const tailor::Error&) {
    }
    write(file, valid(which));
  }
  return 0;
}
