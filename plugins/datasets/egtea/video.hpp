// video.hpp: decoding selected frames of a video file with FFmpeg (libavformat, libavcodec,
// libswscale), as packed 8-bit RGB or BGR images.
#pragma once

#include "common/image.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tailor::video {

/// Given the clip's frame count, the 0-based frame indices to keep (any order, repeats
/// allowed).
using FramePicker = std::function<std::vector<int64_t>(int64_t frame_count)>;

/// Decodes the first video stream of `path` on the calling thread (one decoder thread: the
/// dataset already runs on worker threads). The frame count is the stream's sample count
/// from the container header, or, when the header has none, the number of video packets.
/// Frames are decoded in order up to the last picked one; only picked frames are converted
/// (full size, no scaling) into `frames`, in the order `pick` returned them. `bgr` selects the
/// byte order of each pixel. Returns false with `*error` set when the file cannot be opened,
/// has no decodable video stream, has fewer than `min_frames` frames, or ends (truncated or
/// corrupt data) before a picked frame; `*frame_count` is the count the decision was made on.
bool decode_frames(const std::string& path, const FramePicker& pick, int64_t min_frames, bool bgr,
                   std::vector<image::Image>* frames, int64_t* frame_count, std::string* error);

}  // namespace tailor::video
