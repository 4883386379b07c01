// digest.hpp: file identities (SHA-256 and git blob id) through OpenSSL's libcrypto.
#pragma once

#include <string>
#include <string_view>

namespace tailor::image {

/// Lower-case hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);
/// Lower-case hex git blob id of `bytes`: SHA-1 of "blob <size>\0" + bytes, what
/// `git hash-object FILE` prints.
std::string git_blob_hex(std::string_view bytes);

}  // namespace tailor::image
