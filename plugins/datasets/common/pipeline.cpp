// pipeline.cpp: decode + train/eval transforms + normalisation of one JPEG.
#include "pipeline.hpp"

#include "image.hpp"
#include "jpeg.hpp"
#include "ops.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace tailor::image {

namespace {

constexpr double kPi = 3.14159265358979323846;

// Per-thread buffers, reused from image to image.
struct Scratch {
  JpegDecoder decoder;
  Image decoded;
  Image work;
  Image temp;
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// Python's round(): half to even (the default floating-point rounding mode).
int round_half_even(double v) {
  return static_cast<int>(std::nearbyint(v));
}

// Smallest scale 1/8, 1/4 or 1/2 at which a w x h region still covers need_w x need_h
// pixels, else full scale. libjpeg-turbo has SIMD inverse DCTs for these scales only; at
// 3/8, 5/8, 6/8 or 7/8 its plain-C IDCTs are slower than a full-resolution decode.
int choose_eighths(double w, double h, double need_w, double need_h) {
  for (int k : {1, 2, 4})
    if (w * k / 8.0 >= need_w && h * k / 8.0 >= need_h) return k;
  return 8;
}

void color_jitter(Image* image, double strength, SampleRng& rng) {
  int order[4] = {0, 1, 2, 3};  // brightness, contrast, saturation, hue (hue is 0: skipped)
  for (int i = 3; i > 0; --i) std::swap(order[i], order[rng.below(static_cast<uint64_t>(i) + 1)]);
  const double lo = std::max(0.0, 1.0 - strength), hi = 1.0 + strength;
  const double brightness = rng.uniform(lo, hi);
  const double contrast = rng.uniform(lo, hi);
  const double saturation = rng.uniform(lo, hi);
  for (int op : order) {
    if (op == 0) adjust_brightness(image, brightness);
    if (op == 1) adjust_contrast(image, contrast);
    if (op == 2) adjust_saturation(image, saturation);
  }
}

// torchvision.transforms.RandAugment(num_ops, magnitude, num_magnitude_bins=31), NEAREST
// interpolation, black fill: ops in torchvision's order, signed ops negated with p = 0.5.
void rand_augment(Image* image, int num_ops, int m, SampleRng& rng, Image* temp) {
  enum Op {
    kIdentity,
    kShearX,
    kShearY,
    kTranslateX,
    kTranslateY,
    kRotate,
    kBrightness,
    kColor,
    kContrast,
    kSharpness,
    kPosterize,
    kSolarize,
    kAutoContrast,
    kEqualize,
    kNumOps
  };
  const double level = m / 30.0;  // linspace(0, max, 31)[m] = max * m / 30
  const int w = image->width, h = image->height;
  for (int n = 0; n < num_ops; ++n) {
    const auto op = static_cast<Op>(rng.below(kNumOps));
    const bool is_signed = op >= kShearX && op <= kSharpness;
    const double sign = is_signed && rng.coin() ? -1.0 : 1.0;
    double matrix[6];
    switch (op) {
      case kIdentity:
      case kNumOps:
        break;
      case kShearX:
      case kShearY: {
        const double degrees = std::atan(sign * 0.3 * level) * 180.0 / kPi;
        inverse_affine_matrix(0.0, 0.0, 0.0, 0.0, 0.0, 1.0, op == kShearX ? degrees : 0.0,
                              op == kShearY ? degrees : 0.0, matrix);
        affine_nearest(*image, matrix, temp);
        std::swap(*image, *temp);
        break;
      }
      case kTranslateX:
      case kTranslateY: {
        const double extent = op == kTranslateX ? w : h;
        const auto shift = static_cast<int>(sign * 150.0 / 331.0 * extent * level);
        inverse_affine_matrix(w * 0.5, h * 0.5, 0.0, op == kTranslateX ? shift : 0,
                              op == kTranslateY ? shift : 0, 1.0, 0.0, 0.0, matrix);
        affine_nearest(*image, matrix, temp);
        std::swap(*image, *temp);
        break;
      }
      case kRotate: {
        // Pillow's Image.rotate(angle) about the centre, counter-clockwise.
        const double a = -sign * 30.0 * level * kPi / 180.0;
        const double cx = w / 2.0, cy = h / 2.0;
        const double c = std::cos(a), s = std::sin(a);
        matrix[0] = c;
        matrix[1] = s;
        matrix[2] = c * -cx + s * -cy + cx;
        matrix[3] = -s;
        matrix[4] = c;
        matrix[5] = -s * -cx + c * -cy + cy;
        affine_nearest(*image, matrix, temp);
        std::swap(*image, *temp);
        break;
      }
      case kBrightness:
        adjust_brightness(image, 1.0 + sign * 0.9 * level);
        break;
      case kColor:
        adjust_saturation(image, 1.0 + sign * 0.9 * level);
        break;
      case kContrast:
        adjust_contrast(image, 1.0 + sign * 0.9 * level);
        break;
      case kSharpness:
        adjust_sharpness(image, 1.0 + sign * 0.9 * level, temp);
        break;
      case kPosterize:
        posterize(image, 8 - round_half_even(m / 7.5));
        break;
      case kSolarize:
        solarize(image, 255.0 - 255.0 * level);
        break;
      case kAutoContrast:
        autocontrast(image);
        break;
      case kEqualize:
        equalize(image);
        break;
    }
  }
}

}  // namespace

CropBox random_resized_crop_box(int width, int height, SampleRng& rng) {
  const double area = static_cast<double>(width) * height;
  const double log_lo = std::log(3.0 / 4.0), log_hi = std::log(4.0 / 3.0);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * rng.uniform(0.08, 1.0);
    const double aspect = std::exp(rng.uniform(log_lo, log_hi));
    const int w = round_half_even(std::sqrt(target_area * aspect));
    const int h = round_half_even(std::sqrt(target_area / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      CropBox box;
      box.height = h;
      box.width = w;
      box.top = static_cast<int>(rng.below(static_cast<uint64_t>(height - h) + 1));
      box.left = static_cast<int>(rng.below(static_cast<uint64_t>(width - w) + 1));
      return box;
    }
  }
  const double in_ratio = static_cast<double>(width) / height;
  CropBox box{0, 0, height, width};
  if (in_ratio < 3.0 / 4.0) {
    box.height = round_half_even(width / (3.0 / 4.0));
  } else if (in_ratio > 4.0 / 3.0) {
    box.width = round_half_even(height * (4.0 / 3.0));
  }
  box.top = (height - box.height) / 2;
  box.left = (width - box.width) / 2;
  return box;
}

EvalGeometry eval_geometry(int width, int height, int resize, int crop) {
  EvalGeometry g;
  if (width <= height) {
    g.resized_width = resize;
    g.resized_height = static_cast<int>(static_cast<double>(resize) * height / width);
  } else {
    g.resized_height = resize;
    g.resized_width = static_cast<int>(static_cast<double>(resize) * width / height);
  }
  g.crop_left = round_half_even((g.resized_width - crop) / 2.0);
  g.crop_top = round_half_even((g.resized_height - crop) / 2.0);
  return g;
}

ImagePipeline::ImagePipeline(const TransformOptions& options) : options_(options) {
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v)
      lut_[c][v] = (static_cast<float>(v) / 255.0f - options_.mean[c]) / options_.std[c];
}

void ImagePipeline::fill(float* out, uint8_t r, uint8_t g, uint8_t b) const {
  const size_t plane = static_cast<size_t>(options_.image_size) * options_.image_size;
  const uint8_t rgb[3] = {r, g, b};
  for (int c = 0; c < 3; ++c) std::fill(out + c * plane, out + (c + 1) * plane, lut_[c][rgb[c]]);
}

bool ImagePipeline::process(const uint8_t* data, size_t size, bool train, SampleRng& rng,
                            float* out, std::string* error) const {
  Scratch& s = scratch();
  if (!s.decoder.open(data, size)) {
    *error = s.decoder.error();
    return false;
  }
  const int width = s.decoder.width(), height = s.decoder.height();
  const int side = options_.image_size;
  const bool augment = train && options_.augment != Augment::kNone;

  ResampleAxis ax, ay;
  int eighths = 8;
  if (augment) {
    const CropBox box = random_resized_crop_box(width, height, rng);
    if (options_.decode_scaling) eighths = choose_eighths(box.width, box.height, side, side);
    // The crop in the coordinates of the image decoded at eighths/8; at full scale this is
    // exactly torchvision's crop + resize (the filter stays inside the crop).
    const double f = eighths / 8.0;
    const double x0 = box.left * f, y0 = box.top * f;
    const double w = box.width * f, h = box.height * f;
    ax.lo = static_cast<int>(std::floor(x0));
    ax.hi = std::min(static_cast<int>(std::ceil(x0 + w)), scaled_size(width, eighths));
    ax.in0 = x0 - ax.lo;
    ax.scale = w / side;
    ay.lo = static_cast<int>(std::floor(y0));
    ay.hi = std::min(static_cast<int>(std::ceil(y0 + h)), scaled_size(height, eighths));
    ay.in0 = y0 - ay.lo;
    ay.scale = h / side;
  } else {
    // Always full resolution: evaluation inputs equal torchvision's, bit for bit.
    const EvalGeometry g = eval_geometry(width, height, options_.resize, side);
    ax.hi = width;
    ax.scale = static_cast<double>(width) / g.resized_width;
    ax.out_begin = g.crop_left;
    ay.hi = height;
    ay.scale = static_cast<double>(height) / g.resized_height;
    ay.out_begin = g.crop_top;
  }
  ax.out_size = ay.out_size = side;
  const Taps tx = bilinear_taps(ax);
  const Taps ty = bilinear_taps(ay);

  Rect decoded;
  const Rect region{tx.first, ty.first, tx.last - tx.first, ty.last - ty.first};
  if (!s.decoder.decode(eighths, region, &s.decoded, &decoded)) {
    *error = s.decoder.error();
    return false;
  }
  resample(s.decoded, decoded.x, decoded.y, tx, ty, &s.work, &s.temp);

  if (augment) {
    if (rng.coin()) flip_horizontal(&s.work);
    if (options_.color_jitter > 0.0) color_jitter(&s.work, options_.color_jitter, rng);
    if (options_.augment == Augment::kRandAugment)
      rand_augment(&s.work, options_.randaugment_n, options_.randaugment_m, rng, &s.temp);
  }

  const size_t plane = static_cast<size_t>(side) * side;
  const uint8_t* p = s.work.pixels.data();
  float* r = out;
  float* g = out + plane;
  float* b = out + 2 * plane;
  for (size_t i = 0; i < plane; ++i, p += 3) {
    r[i] = lut_[0][p[0]];
    g[i] = lut_[1][p[1]];
    b[i] = lut_[2][p[2]];
  }
  return true;
}

}  // namespace tailor::image
