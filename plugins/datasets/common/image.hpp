// image.hpp: an 8-bit RGB image in HWC order, the currency of the decode/augment code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tailor::image {

/// Interleaved RGB, row-major, no padding. Buffers are reused: resize() keeps capacity.
struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;

  void resize(int w, int h) {
    width = w;
    height = h;
    pixels.resize(static_cast<size_t>(w) * static_cast<size_t>(h) * 3);
  }
  uint8_t* row(int y) { return pixels.data() + static_cast<size_t>(y) * width * 3; }
  const uint8_t* row(int y) const { return pixels.data() + static_cast<size_t>(y) * width * 3; }
};

/// An axis-aligned rectangle in pixel coordinates.
struct Rect {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
};

}  // namespace tailor::image
