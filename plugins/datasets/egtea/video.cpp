// video.cpp: selected-frame decoding with FFmpeg.
#include "video.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <cstdarg>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace tailor::video {

namespace {

// FFmpeg's messages, which it prints to stderr by default, are kept per thread instead: the
// first error-level one of a clip is appended to that clip's error.
thread_local std::string first_log;

void log_to_thread(void* context, int level, const char* format, va_list args) {
  if (level > AV_LOG_ERROR || !first_log.empty()) return;
  char line[512];
  int prefix = 0;  // no "[h264 @ 0x...]" context prefix
  av_log_format_line2(context, level, format, args, line, sizeof line, &prefix);
  first_log = line;
  while (!first_log.empty() && (first_log.back() == '\n' || first_log.back() == ' '))
    first_log.pop_back();
}

std::string av_error_text(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, buf, sizeof buf);
  return buf;
}

struct InputCloser {
  void operator()(AVFormatContext* f) const { avformat_close_input(&f); }
};
struct CodecFreer {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct FrameFreer {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketFreer {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct ScalerFreer {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
using Input = std::unique_ptr<AVFormatContext, InputCloser>;

bool open_input(const std::string& path, Input* input, std::string* error) {
  AVFormatContext* raw = nullptr;
  const int rc = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
  if (rc < 0) {
    *error = "cannot open: " + av_error_text(rc);
    return false;
  }
  input->reset(raw);
  return true;
}

// Video packets of stream `stream`, for containers whose header has no sample count.
int64_t count_packets(AVFormatContext* input, int stream, AVPacket* packet) {
  int64_t n = 0;
  while (av_read_frame(input, packet) >= 0) {
    if (packet->stream_index == stream) ++n;
    av_packet_unref(packet);
  }
  return n;
}

bool decode(const std::string& path, const FramePicker& pick, int64_t min_frames, bool bgr,
            std::vector<image::Image>* frames, int64_t* frame_count, std::string* error);

}  // namespace

bool decode_frames(const std::string& path, const FramePicker& pick, int64_t min_frames, bool bgr,
                   std::vector<image::Image>* frames, int64_t* frame_count, std::string* error) {
  static std::once_flag quiet;
  std::call_once(quiet, [] { av_log_set_callback(log_to_thread); });
  first_log.clear();
  bool ok = decode(path, pick, min_frames, bgr, frames, frame_count, error);
  if (!ok && !first_log.empty()) *error += " [FFmpeg: " + first_log + "]";
  return ok;
}

namespace {

bool decode(const std::string& path, const FramePicker& pick, int64_t min_frames, bool bgr,
            std::vector<image::Image>* frames, int64_t* frame_count, std::string* error) {
  *frame_count = 0;
  Input input;
  if (!open_input(path, &input, error)) return false;
  const AVCodec* codec = nullptr;
  int stream = av_find_best_stream(input.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (stream < 0 && avformat_find_stream_info(input.get(), nullptr) >= 0)
    stream = av_find_best_stream(input.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (stream < 0 || codec == nullptr) {
    *error = "no decodable video stream (" +
             av_error_text(stream < 0 ? stream : AVERROR_DECODER_NOT_FOUND) + ")";
    return false;
  }
  std::unique_ptr<AVPacket, PacketFreer> packet(av_packet_alloc());
  int64_t n = input->streams[stream]->nb_frames;
  if (n <= 0) {  // e.g. raw streams, some Matroska files: count, then start again
    n = count_packets(input.get(), stream, packet.get());
    if (!open_input(path, &input, error)) return false;
  }
  *frame_count = n;
  if (n < min_frames) {
    *error = "has " + std::to_string(n) + " frames, fewer than the " + std::to_string(min_frames) +
             " needed";
    return false;
  }

  const std::vector<int64_t> wanted = pick(n);
  std::unordered_map<int64_t, std::vector<size_t>> slots;  // frame index -> output positions
  int64_t last = -1;
  for (size_t i = 0; i < wanted.size(); ++i) {
    slots[wanted[i]].push_back(i);
    last = std::max(last, wanted[i]);
  }
  frames->resize(wanted.size());

  std::unique_ptr<AVCodecContext, CodecFreer> ctx(avcodec_alloc_context3(codec));
  int rc = avcodec_parameters_to_context(ctx.get(), input->streams[stream]->codecpar);
  ctx->thread_count = 1;
  if (rc >= 0) rc = avcodec_open2(ctx.get(), codec, nullptr);
  if (rc < 0) {
    *error = std::string("cannot open the ") + codec->name + " decoder: " + av_error_text(rc);
    return false;
  }
  std::unique_ptr<AVFrame, FrameFreer> frame(av_frame_alloc());
  std::unique_ptr<SwsContext, ScalerFreer> scaler;
  int64_t decoded = 0;
  std::string decode_error;

  // Receives every frame the decoder has ready; false once the last picked frame is done.
  auto drain = [&]() -> bool {
    while (true) {
      const int r = avcodec_receive_frame(ctx.get(), frame.get());
      if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return true;
      if (r < 0) {
        decode_error = av_error_text(r);
        return false;
      }
      const int64_t index = decoded++;
      const auto it = slots.find(index);
      if (it != slots.end()) {
        const int w = frame->width, h = frame->height;
        scaler.reset(
            sws_getCachedContext(scaler.release(), w, h, static_cast<AVPixelFormat>(frame->format),
                                 w, h, bgr ? AV_PIX_FMT_BGR24 : AV_PIX_FMT_RGB24,
                                 SWS_BILINEAR | SWS_ACCURATE_RND, nullptr, nullptr, nullptr));
        image::Image& first = (*frames)[it->second.front()];
        first.resize(w, h);
        uint8_t* dst[4] = {first.pixels.data(), nullptr, nullptr, nullptr};
        int stride[4] = {3 * w, 0, 0, 0};
        if (!scaler ||
            sws_scale(scaler.get(), frame->data, frame->linesize, 0, h, dst, stride) != h) {
          decode_error = "cannot convert frame " + std::to_string(index) + " to 8-bit RGB";
          av_frame_unref(frame.get());
          return false;
        }
        for (size_t k = 1; k < it->second.size(); ++k) (*frames)[it->second[k]] = first;
      }
      av_frame_unref(frame.get());
      if (index >= last) return false;
    }
  };

  bool more = true;
  while (more) {
    rc = av_read_frame(input.get(), packet.get());
    if (rc < 0) break;  // end of file or a read error: flush, then judge by the frames seen
    if (packet->stream_index == stream) {
      const int s = avcodec_send_packet(ctx.get(), packet.get());
      if (s < 0 && s != AVERROR(EAGAIN) && s != AVERROR_INVALIDDATA)
        decode_error = av_error_text(s);
      more = decode_error.empty() && drain();
    }
    av_packet_unref(packet.get());
  }
  if (more && decode_error.empty()) {
    avcodec_send_packet(ctx.get(), nullptr);
    drain();
  }
  if (decoded > last) return true;
  *error = "ended after " + std::to_string(decoded) + " decodable frames, but the header says " +
           std::to_string(n) + " and frame " + std::to_string(last) +
           " is needed (truncated or corrupt file";
  if (!decode_error.empty()) *error += ": " + decode_error;
  if (rc < 0 && rc != AVERROR_EOF) *error += ": " + av_error_text(rc);
  *error += ")";
  return false;
}

}  // namespace
}  // namespace tailor::video
