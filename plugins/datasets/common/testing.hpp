// testing.hpp: fixture helpers for the image dataset tests (temporary directories, real JPEG
// files, list files). Test code only.
#pragma once

#include "common/jpeg.hpp"

#include "../../../tests/support/batch_request.hpp"

#include <unistd.h>

#include <tailor/components.hpp>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace tailor::image::testing {

namespace fs = std::filesystem;

/// A fresh directory under the system temp dir, removed at scope exit.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "images") {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("tailor_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  std::string str() const { return path_.string(); }
  fs::path operator/(const std::string& relative) const { return path_ / relative; }

 private:
  fs::path path_;
};

/// Writes `bytes` to `path`, creating parent directories.
inline void write_bytes(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// A solid-colour w x h JPEG (4:4:4, quality 95) at `path`; returns its bytes.
inline std::string write_jpeg(const fs::path& path, uint8_t r, uint8_t g, uint8_t b, int w = 40,
                              int h = 30) {
  Image img;
  img.resize(w, h);
  for (size_t i = 0; i < img.pixels.size(); i += 3) {
    img.pixels[i] = r;
    img.pixels[i + 1] = g;
    img.pixels[i + 2] = b;
  }
  const std::vector<uint8_t> jpeg = encode_jpeg(img, 95, /*subsample=*/false);
  const std::string bytes(jpeg.begin(), jpeg.end());
  write_bytes(path, bytes);
  return bytes;
}

/// Asks a dataset for one batch.
using tailor::test::fetch;

}  // namespace tailor::image::testing
