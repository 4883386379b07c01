// clip.cpp: TSN sampling and clip transforms.
#include "clip.hpp"

#include <algorithm>
#include <cmath>

namespace tailor::clip {

namespace {

// Python's round() of x / 2 for an integer x: half to even.
int half_round_even(int x) {
  const int q = x / 2;
  if (x % 2 == 0) return q;
  return q % 2 == 0 ? q : q + 1;  // x odd and >= 0: q + 0.5 rounds to the even neighbour
}

// cv2.resize INTER_LINEAR taps of one axis: source index and weight of the right neighbour.
struct Tap {
  int index;
  float weight;
};
std::vector<Tap> linear_taps(int in, int out) {
  std::vector<Tap> taps(static_cast<size_t>(out));
  const double scale = static_cast<double>(in) / out;
  for (int i = 0; i < out; ++i) {
    double f = (i + 0.5) * scale - 0.5;
    int s = static_cast<int>(std::floor(f));
    f -= s;
    if (s < 0) {
      s = 0;
      f = 0;
    }
    if (s >= in - 1) {
      s = in - 1;
      f = 0;
    }
    taps[static_cast<size_t>(i)] = {s, static_cast<float>(f)};
  }
  return taps;
}

// PIL's Image.rotate(angle) with BILINEAR resampling: output pixel centres map back through
// the inverse rotation about the image centre; points outside the source stay black.
void rotate(const image::Image& in, double angle, image::Image* out) {
  const int w = in.width, h = in.height;
  out->resize(w, h);
  std::fill(out->pixels.begin(), out->pixels.end(), 0);
  const double theta = -angle * M_PI / 180.0;
  const double a = std::cos(theta), b = std::sin(theta), d = -std::sin(theta), e = std::cos(theta);
  const double cx = w / 2.0, cy = h / 2.0;
  const double c = a * -cx + b * -cy + cx;
  const double f = d * -cx + e * -cy + cy;
  for (int y = 0; y < h; ++y) {
    uint8_t* dst = out->row(y);
    for (int x = 0; x < w; ++x) {
      double xin = a * (x + 0.5) + b * (y + 0.5) + c;
      double yin = d * (x + 0.5) + e * (y + 0.5) + f;
      if (xin < 0.0 || xin >= w || yin < 0.0 || yin >= h) continue;
      xin -= 0.5;
      yin -= 0.5;
      const int x0 = static_cast<int>(std::floor(xin)), y0 = static_cast<int>(std::floor(yin));
      const double dx = xin - x0, dy = yin - y0;
      const int xa = std::clamp(x0, 0, w - 1), xb = std::clamp(x0 + 1, 0, w - 1);
      const uint8_t* r0 = in.row(std::clamp(y0, 0, h - 1));
      const uint8_t* r1 = y0 + 1 >= 0 && y0 + 1 < h ? in.row(y0 + 1) : r0;
      for (int ch = 0; ch < 3; ++ch) {
        const double v1 = r0[xa * 3 + ch] + (r0[xb * 3 + ch] - r0[xa * 3 + ch]) * dx;
        const double v2 = r1[xa * 3 + ch] + (r1[xb * 3 + ch] - r1[xa * 3 + ch]) * dx;
        dst[x * 3 + ch] = static_cast<uint8_t>(v1 + (v2 - v1) * dy);
      }
    }
  }
}

}  // namespace

std::vector<int64_t> tsn_indices(int64_t frame_count, int64_t segments, image::SampleRng* rng) {
  // numpy.linspace: i * step, the last point set to the stop value exactly.
  std::vector<double> b(static_cast<size_t>(segments + 1));
  const double step = static_cast<double>(frame_count - 1) / static_cast<double>(segments);
  for (int64_t i = 0; i <= segments; ++i) b[static_cast<size_t>(i)] = static_cast<double>(i) * step;
  b.back() = static_cast<double>(frame_count - 1);
  std::vector<int64_t> out(static_cast<size_t>(segments));
  for (size_t i = 0; i < out.size(); ++i) {
    if (rng != nullptr) {
      const auto lo = static_cast<int64_t>(b[i]), hi = static_cast<int64_t>(b[i + 1]);
      out[i] = hi > lo ? lo + static_cast<int64_t>(rng->below(static_cast<uint64_t>(hi - lo))) : lo;
    } else {
      out[i] = static_cast<int64_t>(std::floor((b[i] + b[i + 1]) / 2.0));
    }
  }
  return out;
}

Geometry train_geometry(int width, int height, int crop, double max_angle, bool flip,
                        image::SampleRng& rng) {
  Geometry g;
  g.crop_width = std::min(crop, width);
  g.crop_height = std::min(crop, height);
  g.crop_x = static_cast<int>(rng.below(static_cast<uint64_t>(width - g.crop_width) + 1));
  g.crop_y = static_cast<int>(rng.below(static_cast<uint64_t>(height - g.crop_height) + 1));
  g.angle = max_angle > 0 ? rng.uniform(-max_angle, max_angle) : 0.0;
  g.flip = flip && rng.coin();
  return g;
}

Geometry eval_geometry(int width, int height, int crop) {
  Geometry g;
  g.crop_width = std::min(crop, width);
  g.crop_height = std::min(crop, height);
  g.crop_x = half_round_even(width - g.crop_width);
  g.crop_y = half_round_even(height - g.crop_height);
  return g;
}

void render(const image::Image& frame, const Geometry& g, int size, Scratch* scratch,
            image::Image* out) {
  // The crop, as a view into the frame, or rotated into scratch.
  const image::Image* src = &frame;
  int x0 = g.crop_x, y0 = g.crop_y;
  if (g.angle != 0.0) {
    image::Image& cropped = scratch->cropped;
    cropped.resize(g.crop_width, g.crop_height);
    for (int y = 0; y < g.crop_height; ++y)
      std::copy_n(frame.row(y + g.crop_y) + g.crop_x * 3, g.crop_width * 3, cropped.row(y));
    rotate(cropped, g.angle, &scratch->rotated);
    src = &scratch->rotated;
    x0 = y0 = 0;
  }
  const std::vector<Tap> tx = linear_taps(g.crop_width, size);
  const std::vector<Tap> ty = linear_taps(g.crop_height, size);
  out->resize(size, size);
  for (int y = 0; y < size; ++y) {
    const Tap& vy = ty[static_cast<size_t>(y)];
    const uint8_t* r0 = src->row(y0 + vy.index);
    const uint8_t* r1 = src->row(y0 + std::min(vy.index + 1, g.crop_height - 1));
    uint8_t* dst = out->row(y);
    for (int x = 0; x < size; ++x) {
      const Tap& vx = tx[static_cast<size_t>(x)];
      const int xa = (x0 + vx.index) * 3;
      const int xb = (x0 + std::min(vx.index + 1, g.crop_width - 1)) * 3;
      const int column = (g.flip ? size - 1 - x : x) * 3;
      for (int ch = 0; ch < 3; ++ch) {
        const float top = r0[xa + ch] + (r0[xb + ch] - r0[xa + ch]) * vx.weight;
        const float bottom = r1[xa + ch] + (r1[xb + ch] - r1[xa + ch]) * vx.weight;
        dst[column + ch] = static_cast<uint8_t>(top + (bottom - top) * vy.weight + 0.5f);
      }
    }
  }
}

}  // namespace tailor::clip
