// auto_augment: torchvision's AutoAugment CIFAR-10 policy on uint8 CHW images.
#include "auto_augment.hpp"

#include <ATen/ATen.h>

#include <tailor/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace tailor::plugins {

namespace {

// CPython's math.radians / math.degrees multiply by these two constants.
constexpr double kPi = 3.14159265358979323846;
constexpr double kDegToRad = kPi / 180.0;
constexpr double kRadToDeg = 180.0 / kPi;

bool is_signed(AugmentOp op) {
  switch (op) {
    case AugmentOp::kShearX:
    case AugmentOp::kShearY:
    case AugmentOp::kTranslateX:
    case AugmentOp::kTranslateY:
    case AugmentOp::kRotate:
    case AugmentOp::kBrightness:
    case AugmentOp::kColor:
    case AugmentOp::kContrast:
    case AugmentOp::kSharpness:
      return true;
    default:
      return false;
  }
}

// torchvision.transforms.functional._get_inverse_affine_matrix, term for term in double
// (the order of operations is kept so the float32 theta built from it is identical).
std::array<double, 6> inverse_affine_matrix(double cx, double cy, double angle, double tx,
                                            double ty, double shear_x, double shear_y) {
  const double rot = angle * kDegToRad;
  const double sx = shear_x * kDegToRad;
  const double sy = shear_y * kDegToRad;
  const double a = std::cos(rot - sy) / std::cos(sy);
  const double b = -std::cos(rot - sy) * std::tan(sx) / std::cos(sy) - std::sin(rot);
  const double c = std::sin(rot - sy) / std::cos(sy);
  const double d = -std::sin(rot - sy) * std::tan(sx) / std::cos(sy) + std::cos(rot);
  std::array<double, 6> m = {d, -b, 0.0, -c, a, 0.0};  // scale = 1
  m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty);
  m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty);
  m[2] += cx;
  m[5] += cy;
  return m;
}

uint8_t to_uint8(float v) {
  // Tensor.clamp(0, 255).to(torch.uint8): clamp, then C++ truncation toward zero.
  return static_cast<uint8_t>(std::min(std::max(v, 0.0f), 255.0f));
}

// torchvision's _blend(img1, img2, ratio) for uint8 img1: (ratio * img1 + (1 - ratio) * img2)
// with each product and the sum rounded to float32; `other` has n values, or one when
// `scalar`.
void blend(uint8_t* img, int64_t n, const float* other, bool scalar, double ratio) {
  const float r = static_cast<float>(ratio);
  const float q = static_cast<float>(1.0 - ratio);
  for (int64_t i = 0; i < n; ++i) {
    const float a = r * static_cast<float>(img[i]);
    const float b = q * other[scalar ? 0 : i];
    img[i] = to_uint8(a + b);
  }
}

// rgb_to_grayscale: (0.2989 r + 0.587 g + 0.114 b) in float32, truncated to uint8.
std::vector<uint8_t> grayscale(const uint8_t* img, int64_t plane) {
  std::vector<uint8_t> gray(static_cast<size_t>(plane));
  const uint8_t *r = img, *g = img + plane, *b = img + 2 * plane;
  for (int64_t i = 0; i < plane; ++i) {
    const float v = 0.2989f * static_cast<float>(r[i]) + 0.587f * static_cast<float>(g[i]);
    gray[static_cast<size_t>(i)] = static_cast<uint8_t>(v + 0.114f * static_cast<float>(b[i]));
  }
  return gray;
}

}  // namespace

const char* augment_op_name(AugmentOp op) {
  static constexpr const char* kNames[kAugmentOpCount] = {
      "ShearX",   "ShearY",    "TranslateX", "TranslateY", "Rotate",       "Brightness", "Color",
      "Contrast", "Sharpness", "Posterize",  "Solarize",   "AutoContrast", "Equalize",   "Invert"};
  return kNames[static_cast<int>(op)];
}

const std::array<SubPolicy, 25>& cifar10_policy() {
  using Op = AugmentOp;
  // torchvision.transforms.AutoAugment._get_policies(AutoAugmentPolicy.CIFAR10).
  static const std::array<SubPolicy, 25> kPolicy = {{
      {{{Op::kInvert, 0.1, -1}, {Op::kContrast, 0.2, 6}}},
      {{{Op::kRotate, 0.7, 2}, {Op::kTranslateX, 0.3, 9}}},
      {{{Op::kSharpness, 0.8, 1}, {Op::kSharpness, 0.9, 3}}},
      {{{Op::kShearY, 0.5, 8}, {Op::kTranslateY, 0.7, 9}}},
      {{{Op::kAutoContrast, 0.5, -1}, {Op::kEqualize, 0.9, -1}}},
      {{{Op::kShearY, 0.2, 7}, {Op::kPosterize, 0.3, 7}}},
      {{{Op::kColor, 0.4, 3}, {Op::kBrightness, 0.6, 7}}},
      {{{Op::kSharpness, 0.3, 9}, {Op::kBrightness, 0.7, 9}}},
      {{{Op::kEqualize, 0.6, -1}, {Op::kEqualize, 0.5, -1}}},
      {{{Op::kContrast, 0.6, 7}, {Op::kSharpness, 0.6, 5}}},
      {{{Op::kColor, 0.7, 7}, {Op::kTranslateX, 0.5, 8}}},
      {{{Op::kEqualize, 0.3, -1}, {Op::kAutoContrast, 0.4, -1}}},
      {{{Op::kTranslateY, 0.4, 3}, {Op::kSharpness, 0.2, 6}}},
      {{{Op::kBrightness, 0.9, 6}, {Op::kColor, 0.2, 8}}},
      {{{Op::kSolarize, 0.5, 2}, {Op::kInvert, 0.0, -1}}},
      {{{Op::kEqualize, 0.2, -1}, {Op::kAutoContrast, 0.6, -1}}},
      {{{Op::kEqualize, 0.2, -1}, {Op::kEqualize, 0.6, -1}}},
      {{{Op::kColor, 0.9, 9}, {Op::kEqualize, 0.6, -1}}},
      {{{Op::kAutoContrast, 0.8, -1}, {Op::kSolarize, 0.2, 8}}},
      {{{Op::kBrightness, 0.1, 3}, {Op::kColor, 0.7, 0}}},
      {{{Op::kSolarize, 0.4, 5}, {Op::kAutoContrast, 0.9, -1}}},
      {{{Op::kTranslateY, 0.9, 9}, {Op::kTranslateY, 0.7, 9}}},
      {{{Op::kAutoContrast, 0.9, -1}, {Op::kSolarize, 0.8, 3}}},
      {{{Op::kEqualize, 0.8, -1}, {Op::kInvert, 0.1, -1}}},
      {{{Op::kTranslateY, 0.7, 9}, {Op::kAutoContrast, 0.9, -1}}},
  }};
  return kPolicy;
}

AutoAugmentCifar10::AutoAugmentCifar10(int64_t height, int64_t width)
    : height_(height), width_(width) {
  TAILOR_CHECK(height > 2 && width > 2, "autoaugment: images must be larger than 2x2, got ", height,
               "x", width);
  // _augmentation_space(10, (H, W)): the float32 tables torchvision indexes, as doubles.
  auto fill = [&](AugmentOp op, const at::Tensor& values) {
    const at::Tensor v = values.to(at::kDouble).contiguous();
    for (int i = 0; i < 10; ++i)
      magnitudes_[static_cast<size_t>(op)][static_cast<size_t>(i)] = v.data_ptr<double>()[i];
  };
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  fill(AugmentOp::kShearX, at::linspace(0.0, 0.3, 10, f32));
  fill(AugmentOp::kShearY, at::linspace(0.0, 0.3, 10, f32));
  fill(AugmentOp::kTranslateX,
       at::linspace(0.0, 150.0 / 331.0 * static_cast<double>(width), 10, f32));
  fill(AugmentOp::kTranslateY,
       at::linspace(0.0, 150.0 / 331.0 * static_cast<double>(height), 10, f32));
  fill(AugmentOp::kRotate, at::linspace(0.0, 30.0, 10, f32));
  for (AugmentOp op :
       {AugmentOp::kBrightness, AugmentOp::kColor, AugmentOp::kContrast, AugmentOp::kSharpness})
    fill(op, at::linspace(0.0, 0.9, 10, f32));
  // 8 - (arange(10) / ((10 - 1) / 4)).round().int()
  fill(AugmentOp::kPosterize, 8 - at::round(at::arange(10) / 2.25).to(at::kInt));
  fill(AugmentOp::kSolarize, at::linspace(255.0, 0.0, 10, f32));
}

double AutoAugmentCifar10::magnitude(AugmentOp op, int bin) const {
  if (bin < 0) return 0.0;
  TAILOR_ASSERT(bin < 10, "magnitude bin ", bin);
  return magnitudes_[static_cast<size_t>(op)][static_cast<size_t>(bin)];
}

void AutoAugmentCifar10::affine(uint8_t* image, const std::array<double, 6>& matrix) const {
  // torchvision.transforms.functional_tensor._gen_affine_grid and _apply_grid_transform with
  // mode "nearest", fill None, in the same ATen calls so the sampled pixels are the same.
  const int64_t h = height_, w = width_;
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  std::array<float, 6> theta_values;
  for (size_t i = 0; i < 6; ++i) theta_values[i] = static_cast<float>(matrix[i]);
  const at::Tensor theta = at::tensor(at::ArrayRef<float>(theta_values), f32).reshape({1, 2, 3});

  at::Tensor base = at::empty({1, h, w, 3}, f32);
  const double wd = static_cast<double>(w), hd = static_cast<double>(h);
  base.select(3, 0).copy_(at::linspace(-wd * 0.5 + 0.5, wd * 0.5 + 0.5 - 1, w, f32));
  base.select(3, 1).copy_(at::linspace(-hd * 0.5 + 0.5, hd * 0.5 + 0.5 - 1, h, f32).unsqueeze(-1));
  base.select(3, 2).fill_(1);
  const std::array<float, 2> half = {static_cast<float>(0.5 * wd), static_cast<float>(0.5 * hd)};
  const at::Tensor rescaled = theta.transpose(1, 2) / at::tensor(at::ArrayRef<float>(half), f32);
  const at::Tensor grid = base.view({1, h * w, 3}).bmm(rescaled).view({1, h, w, 2});

  const at::Tensor input = at::from_blob(image, {1, 3, h, w}, at::kByte).to(at::kFloat);
  const at::Tensor out =
      at::grid_sampler(input, grid, /*interpolation_mode=nearest*/ 1, /*padding_mode=zeros*/ 0,
                       /*align_corners=*/false)
          .round()
          .to(at::kByte)
          .contiguous();
  std::memcpy(image, out.data_ptr<uint8_t>(), static_cast<size_t>(3 * h * w));
}

void AutoAugmentCifar10::apply_op(uint8_t* image, AugmentOp op, double magnitude) const {
  const int64_t h = height_, w = width_, plane = h * w, n = 3 * plane;
  const double wd = static_cast<double>(w), hd = static_cast<double>(h);
  switch (op) {
    case AugmentOp::kShearX:  // F.affine(shear=[degrees(atan(m)), 0], center=[0, 0])
      affine(image, inverse_affine_matrix(-wd * 0.5, -hd * 0.5, 0.0, 0.0, 0.0,
                                          std::atan(magnitude) * kRadToDeg, 0.0));
      return;
    case AugmentOp::kShearY:
      affine(image, inverse_affine_matrix(-wd * 0.5, -hd * 0.5, 0.0, 0.0, 0.0, 0.0,
                                          std::atan(magnitude) * kRadToDeg));
      return;
    case AugmentOp::kTranslateX:  // translate=[int(m), 0] about the image centre
      affine(image, inverse_affine_matrix(0.0, 0.0, 0.0,
                                          static_cast<double>(static_cast<int64_t>(magnitude)), 0.0,
                                          0.0, 0.0));
      return;
    case AugmentOp::kTranslateY:
      affine(image,
             inverse_affine_matrix(0.0, 0.0, 0.0, 0.0,
                                   static_cast<double>(static_cast<int64_t>(magnitude)), 0.0, 0.0));
      return;
    case AugmentOp::kRotate:  // F.rotate passes -angle to the affine matrix
      affine(image, inverse_affine_matrix(0.0, 0.0, -magnitude, 0.0, 0.0, 0.0, 0.0));
      return;
    case AugmentOp::kBrightness: {
      const float zero = 0.0f;
      blend(image, n, &zero, /*scalar=*/true, 1.0 + magnitude);
      return;
    }
    case AugmentOp::kColor: {
      const std::vector<uint8_t> gray = grayscale(image, plane);
      std::vector<float> other(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i)
        other[static_cast<size_t>(i)] = gray[static_cast<size_t>(i % plane)];
      blend(image, n, other.data(), /*scalar=*/false, 1.0 + magnitude);
      return;
    }
    case AugmentOp::kContrast: {
      // Mean of the grayscale image in float32: an exact integer sum, then one division.
      const std::vector<uint8_t> gray = grayscale(image, plane);
      int64_t sum = 0;
      for (uint8_t v : gray) sum += v;
      const float mean = static_cast<float>(sum) / static_cast<float>(plane);
      blend(image, n, &mean, /*scalar=*/true, 1.0 + magnitude);
      return;
    }
    case AugmentOp::kSharpness: {
      // Blur with [[1,1,1],[1,5,1],[1,1,1]]/13 on the interior, border kept. The exact value
      // (sum + 4 centre) / 13 is never a tie, so integer rounding equals torch.round of the
      // float32 convolution.
      std::vector<float> blurred(static_cast<size_t>(n));
      for (int64_t c = 0; c < 3; ++c) {
        const uint8_t* src = image + c * plane;
        float* dst = blurred.data() + c * plane;
        for (int64_t y = 0; y < h; ++y)
          for (int64_t x = 0; x < w; ++x) {
            const int64_t i = y * w + x;
            if (y == 0 || x == 0 || y == h - 1 || x == w - 1) {
              dst[i] = src[i];
              continue;
            }
            int64_t sum = 4 * src[i];
            for (int64_t dy = -1; dy <= 1; ++dy)
              for (int64_t dx = -1; dx <= 1; ++dx) sum += src[i + dy * w + dx];
            dst[i] = static_cast<float>((2 * sum + 13) / 26);
          }
      }
      blend(image, n, blurred.data(), /*scalar=*/false, 1.0 + magnitude);
      return;
    }
    case AugmentOp::kPosterize: {
      const int bits = static_cast<int>(magnitude);
      const auto mask = static_cast<uint8_t>(-(1 << (8 - bits)));
      for (int64_t i = 0; i < n; ++i) image[i] &= mask;
      return;
    }
    case AugmentOp::kSolarize: {
      const float threshold = static_cast<float>(magnitude);
      for (int64_t i = 0; i < n; ++i)
        if (static_cast<float>(image[i]) >= threshold)
          image[i] = static_cast<uint8_t>(255 - image[i]);
      return;
    }
    case AugmentOp::kAutoContrast:
      for (int64_t c = 0; c < 3; ++c) {
        uint8_t* p = image + c * plane;
        const auto [lo, hi] = std::minmax_element(p, p + plane);
        // scale = 255.0 / (max - min) is Tensor.__rtruediv__: reciprocal() * 255 in float32.
        const float lo_f = *lo;
        const float reciprocal = 1.0f / (static_cast<float>(*hi) - lo_f);
        const float scale = reciprocal * 255.0f;
        if (!std::isfinite(scale)) continue;  // flat channel: minimum 0, scale 1, unchanged
        for (int64_t i = 0; i < plane; ++i)
          p[i] = to_uint8((static_cast<float>(p[i]) - lo_f) * scale);
      }
      return;
    case AugmentOp::kEqualize:
      for (int64_t c = 0; c < 3; ++c) {
        uint8_t* p = image + c * plane;
        std::array<int64_t, 256> hist{};
        for (int64_t i = 0; i < plane; ++i) ++hist[p[i]];
        // step = sum of the non-zero bins but the last one, floor-divided by 255.
        int64_t last = 255;
        while (last > 0 && hist[static_cast<size_t>(last)] == 0) --last;
        int64_t step = 0;
        for (int64_t v = 0; v < last; ++v) step += hist[static_cast<size_t>(v)];
        step /= 255;
        if (step == 0) continue;
        std::array<uint8_t, 256> lut{};
        int64_t cumulative = 0;
        for (int64_t v = 0; v < 256; ++v) {
          // lut shifted right by one: lut[v] uses the cumulative count below v.
          lut[static_cast<size_t>(v)] =
              static_cast<uint8_t>(std::min<int64_t>((cumulative + step / 2) / step, 255));
          cumulative += hist[static_cast<size_t>(v)];
        }
        for (int64_t i = 0; i < plane; ++i) p[i] = lut[p[i]];
      }
      return;
    case AugmentOp::kInvert:
      for (int64_t i = 0; i < n; ++i) image[i] = static_cast<uint8_t>(255 - image[i]);
      return;
  }
  TAILOR_ASSERT(false, "unknown AutoAugment op ", static_cast<int>(op));
}

void AutoAugmentCifar10::apply(uint8_t* image, const AutoAugmentDraw& draw) const {
  const SubPolicy& policy = cifar10_policy().at(static_cast<size_t>(draw.sub_policy));
  for (size_t i = 0; i < 2; ++i) {
    const PolicyStep& step = policy[i];
    if (!(draw.uniform[i] <= step.probability)) continue;
    double m = magnitude(step.op, step.magnitude_bin);
    if (is_signed(step.op) && draw.negate[i]) m *= -1.0;
    apply_op(image, step.op, m);
  }
}

}  // namespace tailor::plugins
