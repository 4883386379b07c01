// host/report/digest.hpp - SHA-256 of bytes, for checkpoint and configuration integrity.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tailor::host {

/// The 32-byte SHA-256 digest of `bytes`.
std::array<uint8_t, 32> sha256(std::string_view bytes);

/// The SHA-256 digest of `bytes` as 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);

/// `digest` as lowercase hex digits.
std::string to_hex(const std::array<uint8_t, 32>& digest);

}  // namespace tailor::host
