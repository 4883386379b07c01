// tests/fuzz/fuzz_cifar.cpp - libFuzzer target: the CIFAR-10 and CIFAR-100 binary readers of
// cifar_lt, through the dataset's constructor as tailor builds it.
//
// The input replaces each file of a small valid fixture in turn (data_batch_1..5.bin and
// test_batch.bin of CIFAR-10, train.bin and test.bin of CIFAR-100), against the other valid
// files: record sizes, record counts and labels are all reached. Every bad input must end as
// tailor::Error naming the file.
#include "cifar_lt/cifar_lt.hpp"

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using tailor::plugins::CifarLt;

namespace {

struct File {
  const char* variant;
  const char* name;
  int records;
};
const File kFiles[] = {{"cifar10", "data_batch_1.bin", 10}, {"cifar10", "data_batch_2.bin", 10},
                       {"cifar10", "data_batch_3.bin", 10}, {"cifar10", "data_batch_4.bin", 10},
                       {"cifar10", "data_batch_5.bin", 10}, {"cifar10", "test_batch.bin", 10},
                       {"cifar100", "train.bin", 200},      {"cifar100", "test.bin", 100}};

// A valid file: records cycling over the classes, pixels from the record number.
std::string valid(const File& f) {
  const bool c100 = std::string(f.variant) == "cifar100";
  std::string bytes;
  for (int r = 0; r < f.records; ++r) {
    const int label = c100 ? r % 100 : r % 10;
    if (c100) bytes += static_cast<char>(label / 5);
    bytes += static_cast<char>(label);
    for (int p = 0; p < 3072; ++p) bytes += static_cast<char>((r * 31 + p) & 0xFF);
  }
  return bytes;
}

void write(const fs::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
}

fs::path fixture(const std::string& variant) {
  static const fs::path dir = [] {
    const fs::path d =
        fs::temp_directory_path() / ("tailor-fuzz-cifar-" + std::to_string(::getpid()));
    for (const File& f : kFiles) {
      fs::create_directories(d / f.variant);
      write(d / f.variant / f.name, valid(f));
    }
    return d;
  }();
  return dir / variant;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (const File& f : kFiles) {
    const fs::path file = fixture(f.variant) / f.name;
    write(file, std::string(reinterpret_cast<const char*>(data), size));
    CifarLt::Options o;
    o.root = fixture(f.variant).string();
    o.variant = CifarLt::Options::kVariants.value(f.variant);
    o.imbalance_ratio = 1.0;
    try {
      CifarLt dataset(o);
    } catch (const tailor::Error&) {
    }
    write(file, valid(f));
  }
  return 0;
}
