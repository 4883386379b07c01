// tailor/error.hpp - the SDK's error type and its two checking macros.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace tailor {

/// Thrown for bad user input: an option out of range, a malformed data file, a tensor of
/// the wrong shape. The message should name the offending thing, what was expected, what
/// was found and the fix. Inside a plugin, the generated trampolines turn it into
/// TAILOR_ERR_INVALID_ARGUMENT with this message; the host adds the plugin's name and path.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Thrown when an internal invariant breaks (a bug, not bad input).
class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

namespace detail {
template <typename... Args>
std::string concat(Args&&... args) {
  std::ostringstream out;
  (out << ... << std::forward<Args>(args));
  return out.str();
}
}  // namespace detail

}  // namespace tailor

/// TAILOR_CHECK(cond, parts...): throw tailor::Error with the streamed parts when `cond` is
/// false. For errors in user input; the message must stand on its own.
#define TAILOR_CHECK(cond, ...)                                   \
  do {                                                            \
    if (!(cond)) throw ::tailor::Error(::tailor::detail::concat(__VA_ARGS__)); \
  } while (false)

/// TAILOR_ASSERT(cond, parts...): throw tailor::InternalError naming the file and line when
/// an invariant does not hold. Never use it for user input.
#define TAILOR_ASSERT(cond, ...)                                                           \
  do {                                                                                     \
    if (!(cond))                                                                           \
      throw ::tailor::InternalError(::tailor::detail::concat(                              \
          __FILE__, ":", __LINE__, ": internal error: ", #cond, " failed. ", __VA_ARGS__)); \
  } while (false)
