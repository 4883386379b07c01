// ops.cpp: image operations on 8-bit RGB buffers (Pillow-compatible arithmetic).
#include "ops.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace tailor::image {

namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // Pillow's PRECISION_BITS for 8-bit images

// Pillow's clip8(): 0 below zero, 255 from 1 << 30 on, else v >> 22. Written as a clamp of
// the arithmetic shift (identical results) so that it compiles without branches.
inline uint8_t clip_fixed(int32_t v) {
  return static_cast<uint8_t>(std::clamp(v >> kPrecisionBits, 0, 255));
}

// Image.blend(a, b, alpha) per sample: a + alpha (b - a) in float, clipped, truncated.
inline uint8_t blend(int a, int b, float alpha) {
  const float t = static_cast<float>(a) + alpha * static_cast<float>(b - a);
  if (t <= 0.0f) return 0;
  if (t >= 255.0f) return 255;
  return static_cast<uint8_t>(t);
}

void apply_lut(Image* image, const uint8_t lut[3][256]) {
  uint8_t* p = image->pixels.data();
  const size_t n = static_cast<size_t>(image->width) * image->height;
  for (size_t i = 0; i < n; ++i, p += 3) {
    p[0] = lut[0][p[0]];
    p[1] = lut[1][p[1]];
    p[2] = lut[2][p[2]];
  }
}

void same_lut_for_all(uint8_t lut[3][256]) {
  std::memcpy(lut[1], lut[0], 256);
  std::memcpy(lut[2], lut[0], 256);
}

std::vector<int32_t>& accumulator() {
  thread_local std::vector<int32_t> acc;
  return acc;
}

void histograms(const Image& image, int64_t h[3][256]) {
  std::memset(h, 0, sizeof(int64_t) * 3 * 256);
  const uint8_t* p = image.pixels.data();
  const size_t n = static_cast<size_t>(image.width) * image.height;
  for (size_t i = 0; i < n; ++i, p += 3) {
    ++h[0][p[0]];
    ++h[1][p[1]];
    ++h[2][p[2]];
  }
}

}  // namespace

Taps bilinear_taps(const ResampleAxis& axis) {
  const int in_size = axis.hi - axis.lo;
  const double filterscale = std::max(axis.scale, 1.0);
  const double support = 1.0 * filterscale;  // bilinear support is 1
  Taps t;
  t.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  t.start.resize(static_cast<size_t>(axis.out_size));
  t.count.resize(static_cast<size_t>(axis.out_size));
  t.weights.assign(static_cast<size_t>(axis.out_size) * t.ksize, 0);
  std::vector<double> w(static_cast<size_t>(t.ksize));
  t.first = axis.hi;
  t.last = axis.lo;
  const double ss = 1.0 / filterscale;
  for (int i = 0; i < axis.out_size; ++i) {
    const double center = axis.in0 + (axis.out_begin + i + 0.5) * axis.scale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double total = 0.0;
    for (int x = 0; x < xmax; ++x) {
      double d = std::fabs((x + xmin - center + 0.5) * ss);
      w[static_cast<size_t>(x)] = d < 1.0 ? 1.0 - d : 0.0;
      total += w[static_cast<size_t>(x)];
    }
    int32_t* k = &t.weights[static_cast<size_t>(i) * t.ksize];
    for (int x = 0; x < xmax; ++x) {
      const double v = total != 0.0 ? w[static_cast<size_t>(x)] / total : 0.0;
      k[x] = static_cast<int32_t>(v < 0 ? -0.5 + v * (1 << kPrecisionBits)
                                        : 0.5 + v * (1 << kPrecisionBits));
    }
    t.start[static_cast<size_t>(i)] = axis.lo + xmin;
    t.count[static_cast<size_t>(i)] = std::max(xmax, 0);
    t.first = std::min(t.first, axis.lo + xmin);
    t.last = std::max(t.last, axis.lo + xmin + std::max(xmax, 0));
  }
  return t;
}

void resample(const Image& in, int origin_x, int origin_y, const Taps& tx, const Taps& ty,
              Image* out, Image* temp) {
  const int out_w = static_cast<int>(tx.start.size());
  const int out_h = static_cast<int>(ty.start.size());
  const int rows = ty.last - ty.first;
  // Horizontal pass over the rows the vertical pass reads.
  temp->resize(out_w, rows);
  for (int r = 0; r < rows; ++r) {
    const uint8_t* src = in.row(ty.first + r - origin_y);
    uint8_t* dst = temp->row(r);
    for (int i = 0; i < out_w; ++i) {
      const int32_t* k = &tx.weights[static_cast<size_t>(i) * tx.ksize];
      const uint8_t* s = src + (tx.start[static_cast<size_t>(i)] - origin_x) * 3;
      int32_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
      for (int x = 0, n = tx.count[static_cast<size_t>(i)]; x < n; ++x, s += 3) {
        s0 += s[0] * k[x];
        s1 += s[1] * k[x];
        s2 += s[2] * k[x];
      }
      dst[i * 3 + 0] = clip_fixed(s0);
      dst[i * 3 + 1] = clip_fixed(s1);
      dst[i * 3 + 2] = clip_fixed(s2);
    }
  }
  // Vertical pass.
  out->resize(out_w, out_h);
  const size_t stride = static_cast<size_t>(out_w) * 3;
  // Row by row into an accumulator row, so the inner loop is contiguous (and vectorises).
  std::vector<int32_t>& acc = accumulator();
  acc.resize(stride);
  for (int j = 0; j < out_h; ++j) {
    const int32_t* k = &ty.weights[static_cast<size_t>(j) * ty.ksize];
    const uint8_t* base = temp->row(ty.start[static_cast<size_t>(j)] - ty.first);
    const int n = ty.count[static_cast<size_t>(j)];
    std::fill(acc.begin(), acc.end(), int32_t{1} << (kPrecisionBits - 1));
    int32_t* __restrict a = acc.data();  // restrict: lets the compiler vectorise
    for (int y = 0; y < n; ++y) {
      const uint8_t* __restrict src = base + static_cast<size_t>(y) * stride;
      const int32_t w = k[y];
      for (size_t c = 0; c < stride; ++c) a[c] += src[c] * w;
    }
    uint8_t* __restrict dst = out->row(j);
    for (size_t c = 0; c < stride; ++c) dst[c] = clip_fixed(a[c]);
  }
}

void flip_horizontal(Image* image) {
  const int w = image->width;
  for (int y = 0; y < image->height; ++y) {
    uint8_t* row = image->row(y);
    for (int a = 0, b = w - 1; a < b; ++a, --b)
      for (int c = 0; c < 3; ++c) std::swap(row[a * 3 + c], row[b * 3 + c]);
  }
}

void adjust_brightness(Image* image, double factor) {
  uint8_t lut[3][256];
  const auto alpha = static_cast<float>(factor);
  for (int v = 0; v < 256; ++v) lut[0][v] = blend(0, v, alpha);
  same_lut_for_all(lut);
  apply_lut(image, lut);
}

void adjust_contrast(Image* image, double factor) {
  const uint8_t* p = image->pixels.data();
  const size_t n = static_cast<size_t>(image->width) * image->height;
  int64_t sum = 0;
  for (size_t i = 0; i < n; ++i, p += 3) sum += luma(p);
  const int mean = n > 0 ? static_cast<int>(static_cast<double>(sum) / n + 0.5) : 0;
  uint8_t lut[3][256];
  const auto alpha = static_cast<float>(factor);
  for (int v = 0; v < 256; ++v) lut[0][v] = blend(mean, v, alpha);
  same_lut_for_all(lut);
  apply_lut(image, lut);
}

void adjust_saturation(Image* image, double factor) {
  uint8_t* p = image->pixels.data();
  const size_t n = static_cast<size_t>(image->width) * image->height;
  const auto alpha = static_cast<float>(factor);
  for (size_t i = 0; i < n; ++i, p += 3) {
    const int l = luma(p);
    p[0] = blend(l, p[0], alpha);
    p[1] = blend(l, p[1], alpha);
    p[2] = blend(l, p[2], alpha);
  }
}

void adjust_sharpness(Image* image, double factor, Image* temp) {
  const int w = image->width, h = image->height;
  *temp = *image;  // the degenerate: borders stay, the interior is smoothed
  for (int y = 1; y + 1 < h; ++y) {
    const uint8_t* up = image->row(y - 1);
    const uint8_t* mid = image->row(y);
    const uint8_t* down = image->row(y + 1);
    uint8_t* dst = temp->row(y);
    for (int x = 1; x + 1 < w; ++x)
      for (int c = 0; c < 3; ++c) {
        const int i = x * 3 + c;
        const int s = up[i - 3] + up[i] + up[i + 3] + mid[i - 3] + 5 * mid[i] + mid[i + 3] +
                      down[i - 3] + down[i] + down[i + 3];
        dst[i] = static_cast<uint8_t>(std::min(255.0f, static_cast<float>(s) / 13.0f + 0.5f));
      }
  }
  const auto alpha = static_cast<float>(factor);
  uint8_t* p = image->pixels.data();
  const uint8_t* d = temp->pixels.data();
  for (size_t i = 0; i < image->pixels.size(); ++i) p[i] = blend(d[i], p[i], alpha);
}

void posterize(Image* image, int bits) {
  bits = std::clamp(bits, 0, 8);
  const int mask = ~((1 << (8 - bits)) - 1) & 0xFF;
  uint8_t lut[3][256];
  for (int v = 0; v < 256; ++v) lut[0][v] = static_cast<uint8_t>(v & mask);
  same_lut_for_all(lut);
  apply_lut(image, lut);
}

void solarize(Image* image, double threshold) {
  uint8_t lut[3][256];
  for (int v = 0; v < 256; ++v) lut[0][v] = static_cast<uint8_t>(v < threshold ? v : 255 - v);
  same_lut_for_all(lut);
  apply_lut(image, lut);
}

void autocontrast(Image* image) {
  int64_t h[3][256];
  histograms(*image, h);
  uint8_t lut[3][256];
  for (int c = 0; c < 3; ++c) {
    int lo = 0, hi = 255;
    while (lo < 255 && h[c][lo] == 0) ++lo;
    while (hi > 0 && h[c][hi] == 0) --hi;
    if (hi <= lo) {
      for (int v = 0; v < 256; ++v) lut[c][v] = static_cast<uint8_t>(v);
      continue;
    }
    const double scale = 255.0 / (hi - lo);
    const double offset = -lo * scale;
    for (int v = 0; v < 256; ++v)
      lut[c][v] = static_cast<uint8_t>(std::clamp(static_cast<int>(v * scale + offset), 0, 255));
  }
  apply_lut(image, lut);
}

void equalize(Image* image) {
  int64_t h[3][256];
  histograms(*image, h);
  uint8_t lut[3][256];
  for (int c = 0; c < 3; ++c) {
    int64_t total = 0, last = 0, used = 0;
    for (int v = 0; v < 256; ++v)
      if (h[c][v] != 0) {
        total += h[c][v];
        last = h[c][v];
        ++used;
      }
    const int64_t step = used <= 1 ? 0 : (total - last) / 255;
    if (step == 0) {
      for (int v = 0; v < 256; ++v) lut[c][v] = static_cast<uint8_t>(v);
      continue;
    }
    int64_t n = step / 2;
    for (int v = 0; v < 256; ++v) {
      lut[c][v] = static_cast<uint8_t>(std::min<int64_t>(n / step, 255));
      n += h[c][v];
    }
  }
  apply_lut(image, lut);
}

void affine_nearest(const Image& in, const double m[6], Image* out) {
  const int w = in.width, h = in.height;
  out->resize(w, h);
  std::fill(out->pixels.begin(), out->pixels.end(), uint8_t{0});
  auto put = [&](uint8_t* dst, int xi, int yi) {
    if (xi < 0 || xi >= w || yi < 0 || yi >= h) return;
    const uint8_t* src = in.row(yi) + xi * 3;
    dst[0] = src[0];
    dst[1] = src[1];
    dst[2] = src[2];
  };
  if (m[1] == 0.0 && m[3] == 0.0) {
    // Pillow's ImagingScaleAffine: incremental double coordinates, truncated.
    auto coord = [](double v) { return v < 0.0 ? -1 : static_cast<int>(v); };
    std::vector<int> xin(static_cast<size_t>(w));
    double xo = m[2] + m[0] * 0.5;
    for (int x = 0; x < w; ++x, xo += m[0]) xin[static_cast<size_t>(x)] = coord(xo);
    double yo = m[5] + m[4] * 0.5;
    for (int y = 0; y < h; ++y, yo += m[4]) {
      uint8_t* dst = out->row(y);
      for (int x = 0; x < w; ++x) put(dst + x * 3, xin[static_cast<size_t>(x)], coord(yo));
    }
    return;
  }
  // Pillow's affine_fixed: 16.16 fixed point (images here are far below its 32768 limit).
  auto fix = [](double v) {
    const double f = v * 65536.0 + 0.5;
    return static_cast<int32_t>(f < 0.0 ? std::floor(f) : f);
  };
  const int32_t a0 = fix(m[0]), a1 = fix(m[1]), a3 = fix(m[3]), a4 = fix(m[4]);
  int32_t a2 = fix(m[2] + m[0] * 0.5 + m[1] * 0.5);
  int32_t a5 = fix(m[5] + m[3] * 0.5 + m[4] * 0.5);
  for (int y = 0; y < h; ++y, a2 += a1, a5 += a4) {
    uint8_t* dst = out->row(y);
    int32_t xx = a2, yy = a5;
    for (int x = 0; x < w; ++x, xx += a0, yy += a3) put(dst + x * 3, xx >> 16, yy >> 16);
  }
}

void inverse_affine_matrix(double center_x, double center_y, double angle, double translate_x,
                           double translate_y, double scale, double shear_x, double shear_y,
                           double out[6]) {
  constexpr double kDegree = 3.14159265358979323846 / 180.0;
  const double rot = angle * kDegree, sx = shear_x * kDegree, sy = shear_y * kDegree;
  const double a = std::cos(rot - sy) / std::cos(sy);
  const double b = -std::cos(rot - sy) * std::tan(sx) / std::cos(sy) - std::sin(rot);
  const double c = std::sin(rot - sy) / std::cos(sy);
  const double d = -std::sin(rot - sy) * std::tan(sx) / std::cos(sy) + std::cos(rot);
  double m[6] = {d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0};
  m[2] += m[0] * (-center_x - translate_x) + m[1] * (-center_y - translate_y);
  m[5] += m[3] * (-center_x - translate_x) + m[4] * (-center_y - translate_y);
  m[2] += center_x;
  m[5] += center_y;
  std::copy(m, m + 6, out);
}

}  // namespace tailor::image
