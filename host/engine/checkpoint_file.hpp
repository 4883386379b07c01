// host/engine/checkpoint_file.hpp - the frame around a checkpoint's bytes: a checksum that
// is verified before any parser sees them.
//
// A checkpoint file is a 64-byte header followed by the payload (a torch archive):
//
//   offset  size  field
//        0     8  magic "TAILORCK"
//        8     4  format version, little-endian (2)
//       12     4  reserved, zero
//       16     8  payload length in bytes, little-endian
//       24    32  SHA-256 of the payload
//       56     8  reserved, zero
//       64     -  payload
//
// A flipped byte anywhere in the payload, a truncated file or a file with bytes appended is
// refused before LibTorch parses anything. Free of LibTorch, so a fuzzer can drive it alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tailor::host {

/// Size of the frame header in front of the payload.
inline constexpr size_t kCheckpointHeaderBytes = 64;
/// The frame format this build writes and reads.
inline constexpr uint32_t kCheckpointFormat = 2;

/// A string holding a zeroed frame header; append the payload, then call seal_frame().
std::string begin_frame();

/// Fills in the header of `file` (begin_frame() + payload): length and SHA-256 of the payload.
void seal_frame(std::string& file);

/// Checks the frame of `file` (the whole file's bytes) and returns its payload. Throws
/// tailor::Error, naming `name` (the file's path) and what is wrong: too short, not a tailor
/// checkpoint, an older unverifiable format, an unknown format version, truncated, extra
/// bytes, or a checksum mismatch. The caller adds the fix.
std::string_view open_frame(std::string_view file, const std::string& name);

}  // namespace tailor::host
