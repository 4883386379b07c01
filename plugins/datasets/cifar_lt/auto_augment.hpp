// auto_augment: torchvision's AutoAugment CIFAR-10 policy on uint8 CHW images.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace tailor::plugins {

/// The image operations of AutoAugment (Cubuk et al., CVPR 2019), named as torchvision names
/// them in `torchvision.transforms.autoaugment._apply_op`.
enum class AugmentOp : int32_t {
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
  kInvert,
};
constexpr int kAugmentOpCount = 14;

/// torchvision's name of `op`, e.g. "ShearX".
const char* augment_op_name(AugmentOp op);

/// One half of a sub-policy: apply `op` with probability `probability` at magnitude bin
/// `magnitude_bin` (0..9; -1 for operations without a magnitude).
struct PolicyStep {
  AugmentOp op;
  double probability;
  int magnitude_bin;
};
using SubPolicy = std::array<PolicyStep, 2>;

/// The 25 sub-policies of torchvision's AutoAugmentPolicy.CIFAR10, in torchvision's order.
const std::array<SubPolicy, 25>& cifar10_policy();

/// The random choices of one AutoAugment call, as torchvision's AutoAugment.get_params draws
/// them: a sub-policy uniform over 25, two uniforms in [0, 1) and two signs.
struct AutoAugmentDraw {
  int sub_policy = 0;
  std::array<double, 2> uniform = {1.0, 1.0};   ///< step i runs when uniform[i] <= probability
  std::array<bool, 2> negate = {false, false};  ///< signed magnitudes are negated when true
};

/// torchvision's `AutoAugment(AutoAugmentPolicy.CIFAR10)` as its tensor backend computes it on
/// a uint8 image: NEAREST interpolation, fill 0 outside the image. The geometric operations use
/// the same ATen calls as torchvision (affine grid + grid_sampler), the photometric ones
/// replicate its float32 arithmetic (float32 blend then truncation to uint8), so outputs are
/// equal byte for byte. Immutable after construction; apply() is thread-safe.
class AutoAugmentCifar10 {
 public:
  /// Magnitude tables for images of `height` x `width` (translations scale with the size).
  AutoAugmentCifar10(int64_t height, int64_t width);

  /// The unsigned magnitude torchvision uses for `op` at `bin` (its `_augmentation_space(10,
  /// (H, W))` value as a Python float); 0 for operations without a magnitude.
  double magnitude(AugmentOp op, int bin) const;

  /// `_apply_op(img, op, magnitude)` in place on `image`, uint8 [3, H, W] contiguous.
  void apply_op(uint8_t* image, AugmentOp op, double magnitude) const;

  /// One AutoAugment call with the given random choices, in place.
  void apply(uint8_t* image, const AutoAugmentDraw& draw) const;

  int64_t height() const { return height_; }
  int64_t width() const { return width_; }

 private:
  void affine(uint8_t* image, const std::array<double, 6>& inverse_matrix) const;

  int64_t height_;
  int64_t width_;
  std::array<std::array<double, 10>, kAugmentOpCount> magnitudes_{};
};

}  // namespace tailor::plugins
