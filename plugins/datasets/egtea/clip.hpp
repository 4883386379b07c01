// clip.hpp: TSN frame sampling and the CDB-loss clip transforms (one crop, rotation and flip
// drawn per clip and applied to all of its frames), on 8-bit RGB images.
#pragma once

#include "common/image.hpp"
#include "common/random.hpp"

#include <cstdint>
#include <vector>

namespace tailor::clip {

/// TSN sampling of `segments` frames from a clip of `frame_count` frames. With
/// b = numpy.linspace(0, frame_count - 1, segments + 1): train (`rng` given) draws a uniform
/// integer in [int(b[i]), int(b[i+1])) per segment (int(b[i]) when that range is empty);
/// evaluation (`rng` null) takes floor((b[i] + b[i+1]) / 2).
std::vector<int64_t> tsn_indices(int64_t frame_count, int64_t segments, image::SampleRng* rng);

/// Where and how a clip's frames are cut: a crop box of the source frame, a rotation of the
/// crop about its centre (degrees, counter-clockwise, black outside) and a horizontal flip.
struct Geometry {
  int crop_x = 0;
  int crop_y = 0;
  int crop_width = 0;
  int crop_height = 0;
  double angle = 0.0;
  bool flip = false;
};

/// vidaug's RandomCrop(crop) (offsets uniform in [0, W - crop] inclusive; the crop clamped to
/// the frame), then RandomRotate(max_angle) (uniform in [-max_angle, max_angle]), then a flip
/// with probability 1/2 when `flip` is true; drawn from `rng` in that order.
Geometry train_geometry(int width, int height, int crop, double max_angle, bool flip,
                        image::SampleRng& rng);
/// vidaug's CenterCrop(crop) (offsets round((W - crop) / 2), half to even; clamped).
Geometry eval_geometry(int width, int height, int crop);

/// Scratch buffers of render(); one per thread.
struct Scratch {
  image::Image rotated;
  image::Image cropped;
};

/// Cuts `frame` as `g` says, resizes the result to size x size and writes it to `out`
/// (size x size RGB). The rotation resamples bilinearly as PIL's Image.rotate (what
/// scipy.misc.imrotate calls); the resize is bilinear without antialiasing, as
/// cv2.resize(INTER_LINEAR) (half-pixel centres, edge clamp), in floating point.
void render(const image::Image& frame, const Geometry& g, int size, Scratch* scratch,
            image::Image* out);

}  // namespace tailor::clip
