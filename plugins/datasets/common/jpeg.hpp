// jpeg.hpp: JPEG decoding (libjpeg-turbo's libjpeg API) with DCT-domain downscaling and
// region decoding, and a small encoder for fixtures and benchmarks.
#pragma once

#include "image.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tailor::image {

/// Largest image accepted, in pixels: Pillow's decompression-bomb error threshold.
constexpr int64_t kMaxPixels = 2 * 89478485;

/// Width or height of a side of `size` pixels decoded at scale eighths/8 (libjpeg rounds up).
inline int scaled_size(int size, int eighths) {
  return (size * eighths + 7) / 8;
}

/// A reusable decoder; one per thread. Errors never escape as exceptions or exit(): every
/// libjpeg error (and a premature end of data, which libjpeg only warns about) makes open()
/// or decode() return false with error() set. Other corrupt-data warnings (e.g. extraneous
/// bytes before a marker) are tolerated, as Pillow tolerates them.
class JpegDecoder {
 public:
  JpegDecoder();
  ~JpegDecoder();
  JpegDecoder(const JpegDecoder&) = delete;
  JpegDecoder& operator=(const JpegDecoder&) = delete;

  /// Reads the header of the JPEG in data[0, size); the data must outlive decode().
  bool open(const uint8_t* data, size_t size);
  /// Size of the opened image at full scale.
  int width() const { return width_; }
  int height() const { return height_; }

  /// Decodes the opened image at scale eighths/8 (1..8), as RGB. Only rows and columns
  /// covering `region` (in scaled coordinates, clamped to the scaled image) are decoded: rows
  /// above are skipped, rows below never decoded, columns cropped to the decoder's block grid
  /// around the region. `out` holds the decoded pixels and `*decoded` says where they lie in
  /// the scaled image. Pixels inside `region` equal those of a full decode; columns outside
  /// it may differ. Grey and CMYK/YCCK images are converted to RGB (CMYK as Pillow converts
  /// it). One decode() per open().
  bool decode(int eighths, const Rect& region, Image* out, Rect* decoded);
  /// The whole image at full scale.
  bool decode(Image* out);

  /// Why the last open() or decode() failed.
  const std::string& error() const { return error_; }
  /// Corrupt-data warnings libjpeg reported and the decoder tolerated since open().
  int warnings() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::string error_;
  int width_ = 0;
  int height_ = 0;
};

/// Encodes RGB `image` as a baseline JPEG. `quality` 1..100; `subsample` true gives 4:2:0
/// chroma (what cameras write), false 4:4:4.
std::vector<uint8_t> encode_jpeg(const Image& image, int quality, bool subsample = true);

}  // namespace tailor::image
