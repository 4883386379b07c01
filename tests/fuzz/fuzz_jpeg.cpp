// tests/fuzz/fuzz_jpeg.cpp - libFuzzer target: the JPEG decode entry point of the image
// datasets (libjpeg-turbo behind tailor::image::JpegDecoder), at full scale and at a
// DCT-domain scale with a region, as the training pipeline calls it. Errors must come back
// as false with error() set; nothing may throw, exit or read out of bounds.
#include "common/jpeg.hpp"

#include <cstdint>

using namespace tailor::image;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  {
    JpegDecoder decoder;
    if (!decoder.open(data, size)) return 0;
    // open() refuses more than kMaxPixels; a sixteenth of that keeps every execution fast.
    if (static_cast<int64_t>(decoder.width()) * decoder.height() > kMaxPixels / 16) return 0;
    Image out;
    decoder.decode(&out);
  }
  // The training pipeline's call: a DCT-domain scale (from the input's size, so every seed
  // meets several) and a region of the scaled image.
  JpegDecoder decoder;
  if (!decoder.open(data, size)) return 0;
  const int eighths = 1 + static_cast<int>(size % 8);
  const int w = scaled_size(decoder.width(), eighths), h = scaled_size(decoder.height(), eighths);
  Image out;
  Rect decoded{};
  decoder.decode(eighths, Rect{w / 4, h / 4, w / 2 + 1, h / 2 + 1}, &out, &decoded);
  return 0;
}
