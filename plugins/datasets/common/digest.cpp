// digest.cpp: SHA-256 and git blob ids through OpenSSL's EVP interface.
#include "digest.hpp"

#include <openssl/evp.h>

#include <tailor/error.hpp>

#include <memory>

namespace tailor::image {

namespace {

struct ContextFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

std::string hex(const unsigned char* digest, unsigned size) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s(size * 2, '0');
  for (unsigned i = 0; i < size; ++i) {
    s[2 * i] = kDigits[digest[i] >> 4];
    s[2 * i + 1] = kDigits[digest[i] & 15];
  }
  return s;
}

std::string digest(const EVP_MD* md, std::string_view header, std::string_view bytes) {
  std::unique_ptr<EVP_MD_CTX, ContextFree> ctx(EVP_MD_CTX_new());
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned size = 0;
  const bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx.get(), md, nullptr) == 1 &&
                  EVP_DigestUpdate(ctx.get(), header.data(), header.size()) == 1 &&
                  EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx.get(), out, &size) == 1;
  TAILOR_ASSERT(ok, "OpenSSL digest failed");
  return hex(out, size);
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  return digest(EVP_sha256(), {}, bytes);
}

std::string git_blob_hex(std::string_view bytes) {
  const std::string header = "blob " + std::to_string(bytes.size()) + std::string(1, '\0');
  return digest(EVP_sha1(), header, bytes);
}

}  // namespace tailor::image
