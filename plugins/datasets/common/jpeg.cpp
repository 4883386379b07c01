// jpeg.cpp: JPEG decoding and encoding over libjpeg-turbo's libjpeg API.
//
// libjpeg reports errors through error_exit(), which by default calls exit(). We replace it
// with a longjmp back into the function that started the libjpeg call. Functions that call
// setjmp() hold no C++ objects with destructors between the setjmp() and the libjpeg calls,
// so the jump skips nothing that needs unwinding.
#include "jpeg.hpp"

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>

// jpeglib.h needs FILE and size_t declared first.
#include <jerror.h>
#include <jpeglib.h>

namespace tailor::image {

namespace {

struct ErrorManager {
  jpeg_error_mgr pub;  // first: libjpeg sees only this part
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  int warnings;
};

[[noreturn]] void on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// libjpeg only warns when the data ends early and pads the image with grey; a truncated
// file is corrupt for us (Pillow raises "image file is truncated" too).
void on_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace output
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
    std::snprintf(err->message, sizeof err->message,
                  "premature end of JPEG data (the file is truncated)");
    std::longjmp(err->jump, 1);
  }
  ++err->warnings;
}

inline uint8_t muldiv255(int a, int b) {
  const int t = a * b + 128;
  return static_cast<uint8_t>(((t >> 8) + t) >> 8);
}

// Pillow's CMYK -> RGB: r = (255 - k) - (c * (255 - k)) / 255, with Adobe files stored
// inverted.
void cmyk_to_rgb(const uint8_t* in, uint8_t* out, int n, bool inverted) {
  for (int i = 0; i < n; ++i, in += 4, out += 3) {
    const int k = inverted ? in[3] : 255 - in[3];  // 255 - K
    for (int ch = 0; ch < 3; ++ch) {
      const int c = inverted ? 255 - in[ch] : in[ch];
      out[ch] = static_cast<uint8_t>(k - muldiv255(c, k));
    }
  }
}

}  // namespace

struct JpegDecoder::State {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  std::vector<uint8_t> cmyk_row;
};

JpegDecoder::JpegDecoder() : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.cinfo.err = jpeg_std_error(&s.err.pub);
  s.err.pub.error_exit = on_error;
  s.err.pub.emit_message = on_message;
  s.err.warnings = 0;
  s.err.message[0] = '\0';
  jpeg_create_decompress(&s.cinfo);
}

JpegDecoder::~JpegDecoder() {
  jpeg_destroy_decompress(&state_->cinfo);
}

int JpegDecoder::warnings() const {
  return state_->err.warnings;
}

bool JpegDecoder::open(const uint8_t* data, size_t size) {
  State& s = *state_;
  jpeg_decompress_struct& c = s.cinfo;
  width_ = height_ = 0;
  s.err.warnings = 0;
  jpeg_abort_decompress(&c);  // back to the idle state, whatever the last image did
  if (setjmp(s.err.jump)) {
    error_ = s.err.message;
    jpeg_abort_decompress(&c);
    return false;
  }
  jpeg_mem_src(&c, data, static_cast<unsigned long>(size));
  jpeg_read_header(&c, TRUE);
  if (static_cast<int64_t>(c.image_width) * c.image_height > kMaxPixels) {
    std::snprintf(s.err.message, sizeof s.err.message,
                  "image is %ux%u pixels, more than the %lld accepted (decompression-bomb guard)",
                  c.image_width, c.image_height, static_cast<long long>(kMaxPixels));
    std::longjmp(s.err.jump, 1);
  }
  width_ = static_cast<int>(c.image_width);
  height_ = static_cast<int>(c.image_height);
  return true;
}

bool JpegDecoder::decode(Image* out) {
  Rect all{0, 0, width_, height_};
  Rect decoded;
  return decode(8, all, out, &decoded);
}

bool JpegDecoder::decode(int eighths, const Rect& region, Image* out, Rect* decoded) {
  State& s = *state_;
  jpeg_decompress_struct& c = s.cinfo;
  if (width_ == 0) {
    error_ = "decode() without a successful open()";
    return false;
  }
  if (setjmp(s.err.jump)) {
    error_ = s.err.message;
    jpeg_abort_decompress(&c);
    width_ = height_ = 0;
    return false;
  }
  c.scale_num = static_cast<unsigned>(std::clamp(eighths, 1, 8));
  c.scale_denom = 8;
  const bool cmyk = c.jpeg_color_space == JCS_CMYK || c.jpeg_color_space == JCS_YCCK;
  c.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  c.dct_method = JDCT_ISLOW;  // the accurate IDCT, as Pillow uses
  jpeg_start_decompress(&c);

  const int full_w = static_cast<int>(c.output_width);
  const int full_h = static_cast<int>(c.output_height);
  const int x0 = std::clamp(region.x, 0, full_w - 1);
  const int y0 = std::clamp(region.y, 0, full_h - 1);
  const int x1 = std::clamp(region.x + region.width, x0 + 1, full_w);
  const int y1 = std::clamp(region.y + region.height, y0 + 1, full_h);

  // jpeg_crop_scanline() widens the columns to whole iMCUs, and the column at the widened
  // left edge is upsampled without its left neighbour, so it can differ from a full decode.
  // Asking for one more column on each side keeps such columns outside the region.
  const int pad_x0 = std::max(x0 - 1, 0), pad_x1 = std::min(x1 + 1, full_w);
  JDIMENSION xoffset = static_cast<JDIMENSION>(pad_x0);
  JDIMENSION cols = static_cast<JDIMENSION>(pad_x1 - pad_x0);
  if (pad_x0 > 0 || pad_x1 < full_w) jpeg_crop_scanline(&c, &xoffset, &cols);
  if (y0 > 0) jpeg_skip_scanlines(&c, static_cast<JDIMENSION>(y0));

  const int w = static_cast<int>(c.output_width);  // == cols after cropping
  out->resize(w, y1 - y0);
  if (cmyk) s.cmyk_row.resize(static_cast<size_t>(w) * 4);
  const bool inverted = c.saw_Adobe_marker != 0;
  for (int y = 0; y < y1 - y0; ++y) {
    JSAMPROW dst = cmyk ? s.cmyk_row.data() : out->row(y);
    if (jpeg_read_scanlines(&c, &dst, 1) != 1) {
      std::snprintf(s.err.message, sizeof s.err.message, "libjpeg returned no scanline %d", y0 + y);
      std::longjmp(s.err.jump, 1);
    }
    if (cmyk) cmyk_to_rgb(s.cmyk_row.data(), out->row(y), w, inverted);
  }
  jpeg_abort_decompress(&c);  // rows below the region are never decoded
  *decoded = Rect{static_cast<int>(xoffset), y0, w, y1 - y0};
  width_ = height_ = 0;
  return true;
}

std::vector<uint8_t> encode_jpeg(const Image& image, int quality, bool subsample) {
  jpeg_compress_struct c;
  ErrorManager err;
  c.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  err.pub.emit_message = on_message;
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_create_compress(&c);
  if (setjmp(err.jump)) {
    jpeg_destroy_compress(&c);
    std::free(buffer);
    return {};
  }
  jpeg_mem_dest(&c, &buffer, &size);
  c.image_width = static_cast<JDIMENSION>(image.width);
  c.image_height = static_cast<JDIMENSION>(image.height);
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, std::clamp(quality, 1, 100), TRUE);
  const int h = subsample ? 2 : 1;
  c.comp_info[0].h_samp_factor = h;
  c.comp_info[0].v_samp_factor = h;
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    auto* row = const_cast<JSAMPROW>(image.row(static_cast<int>(c.next_scanline)));
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  std::vector<uint8_t> bytes(buffer, buffer + size);
  std::free(buffer);
  return bytes;
}

}  // namespace tailor::image
