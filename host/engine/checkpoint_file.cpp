// host/engine/checkpoint_file.cpp - writing and verifying the checkpoint frame.
#include "engine/checkpoint_file.hpp"

#include "report/digest.hpp"

#include <tailor/error.hpp>

#include <algorithm>
#include <cstring>

namespace tailor::host {
namespace {

constexpr char kMagic[8] = {'T', 'A', 'I', 'L', 'O', 'R', 'C', 'K'};
constexpr size_t kVersionAt = 8, kLengthAt = 16, kDigestAt = 24;

void put_le(std::string& s, size_t at, uint64_t value, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) s[at + i] = static_cast<char>((value >> (8 * i)) & 0xFF);
}

uint64_t get_le(std::string_view s, size_t at, size_t bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < bytes; ++i)
    value |= uint64_t{static_cast<unsigned char>(s[at + i])} << (8 * i);
  return value;
}

}  // namespace

std::string begin_frame() {
  return std::string(kCheckpointHeaderBytes, '\0');
}

void seal_frame(std::string& file) {
  TAILOR_ASSERT(file.size() >= kCheckpointHeaderBytes, "seal_frame without begin_frame");
  std::memcpy(file.data(), kMagic, sizeof kMagic);
  put_le(file, kVersionAt, kCheckpointFormat, 4);
  put_le(file, kLengthAt, file.size() - kCheckpointHeaderBytes, 8);
  const auto digest = sha256(std::string_view(file).substr(kCheckpointHeaderBytes));
  std::memcpy(file.data() + kDigestAt, digest.data(), digest.size());
}

std::string_view open_frame(std::string_view file, const std::string& name) {
  const std::string what = "checkpoint " + name;
  // Format 1 was a bare torch archive (a zip file) without a checksum.
  if (file.size() >= 4 && file.substr(0, 4) == std::string_view("PK\x03\x04", 4))
    throw Error(what +
                " was written by an older tailor (format 1, without a checksum), so its "
                "contents cannot be verified");
  if (file.size() < kCheckpointHeaderBytes)
    throw Error(what + " is " + std::to_string(file.size()) + " bytes, shorter than the " +
                std::to_string(kCheckpointHeaderBytes) +
                "-byte checkpoint header: it is truncated or not a tailor checkpoint");
  if (file.substr(0, sizeof kMagic) != std::string_view(kMagic, sizeof kMagic))
    throw Error(what + " is not a tailor checkpoint (it does not start with TAILORCK)");
  const uint64_t version = get_le(file, kVersionAt, 4);
  if (version != kCheckpointFormat)
    throw Error(what + " has format version " + std::to_string(version) +
                "; this tailor reads version " + std::to_string(kCheckpointFormat) +
                " (use the tailor that wrote it)");
  const uint64_t length = get_le(file, kLengthAt, 8);
  const uint64_t have = file.size() - kCheckpointHeaderBytes;
  if (length > have)
    throw Error(what + " is truncated: its header announces " + std::to_string(length) +
                " payload bytes, the file holds " + std::to_string(have));
  if (length < have)
    throw Error(what + " has " + std::to_string(have - length) +
                " bytes more than its header announces: it was modified after it was written");
  const std::string_view payload = file.substr(kCheckpointHeaderBytes);
  std::array<uint8_t, 32> recorded{};
  std::memcpy(recorded.data(), file.data() + kDigestAt, recorded.size());
  const auto actual = sha256(payload);
  if (actual != recorded)
    throw Error(what + " is corrupt: the SHA-256 of its contents is " + to_hex(actual) +
                ", its header records " + to_hex(recorded));
  return payload;
}

}  // namespace tailor::host
