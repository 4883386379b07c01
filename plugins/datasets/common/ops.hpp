// ops.hpp: image operations on 8-bit RGB buffers, written to give the same results as the
// Pillow operations that torchvision's transforms call on PIL images.
#pragma once

#include "image.hpp"

#include <cstdint>
#include <vector>

namespace tailor::image {

/// One axis of a resampling: output index i (for i in [out_begin, out_begin + out_size))
/// samples source coordinate lo + in0 + (i + 0.5) * scale. The filter reads only source
/// pixels in [lo, hi), as Pillow's resize(box=...) of a crop does.
struct ResampleAxis {
  int lo = 0;
  int hi = 0;
  double in0 = 0.0;
  double scale = 1.0;
  int out_begin = 0;
  int out_size = 0;
};

/// Filter taps of one axis in Pillow's 22-bit fixed point (Resample.c precompute_coeffs and
/// normalize_coeffs_8bpc with the bilinear filter, whose support widens with the downscale
/// factor: an antialiased triangle filter).
struct Taps {
  std::vector<int> start;        ///< first source pixel of output i (absolute coordinate)
  std::vector<int> count;        ///< number of taps of output i
  std::vector<int32_t> weights;  ///< ksize weights per output
  int ksize = 0;
  int first = 0;  ///< smallest source coordinate read
  int last = 0;   ///< one past the largest source coordinate read
};
Taps bilinear_taps(const ResampleAxis& axis);

/// Resamples `in`, whose pixel (0, 0) lies at source coordinate (origin_x, origin_y), with
/// the given taps: a horizontal pass into `temp`, then a vertical pass, each rounded to 8 bits
/// as Pillow does. `in` must cover [tx.first, tx.last) x [ty.first, ty.last).
void resample(const Image& in, int origin_x, int origin_y, const Taps& tx, const Taps& ty,
              Image* out, Image* temp);

/// Mirrors the image left-right in place.
void flip_horizontal(Image* image);

/// Pillow's ImageEnhance.Brightness / Contrast / Color (saturation) / Sharpness: a blend
/// with a degenerate image (black, mean grey, greyscale, 3x3 smoothed) by `factor`.
void adjust_brightness(Image* image, double factor);
void adjust_contrast(Image* image, double factor);
void adjust_saturation(Image* image, double factor);
void adjust_sharpness(Image* image, double factor, Image* temp);

/// Pillow's ImageOps.posterize (keep `bits` high bits), solarize (invert values >=
/// threshold), autocontrast (cutoff 0) and equalize, per channel.
void posterize(Image* image, int bits);
void solarize(Image* image, double threshold);
void autocontrast(Image* image);
void equalize(Image* image);

/// Pillow's Image.transform(size, AFFINE, m, NEAREST): output pixel (x, y) takes the input
/// pixel at (m0 (x+.5) + m1 (y+.5) + m2, m3 (x+.5) + m4 (y+.5) + m5), black outside, with
/// Pillow's arithmetic (16.16 fixed point, or doubles for pure scaling).
void affine_nearest(const Image& in, const double m[6], Image* out);

/// torchvision's _get_inverse_affine_matrix (angles in degrees), as F.affine passes to PIL.
void inverse_affine_matrix(double center_x, double center_y, double angle, double translate_x,
                           double translate_y, double scale, double shear_x, double shear_y,
                           double out[6]);

/// Pillow's L conversion of an RGB pixel (ITU-R 601-2 luma, 16-bit fixed point).
inline uint8_t luma(const uint8_t* rgb) {
  return static_cast<uint8_t>((rgb[0] * 19595 + rgb[1] * 38470 + rgb[2] * 7471 + 0x8000) >> 16);
}

}  // namespace tailor::image
