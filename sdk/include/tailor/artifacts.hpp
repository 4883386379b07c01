// tailor/artifacts.hpp - writing files into the run directory from plugin code.
#pragma once

#include <tailor/error.hpp>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace tailor {

/// Writes `text` to `path` through a temporary file and a rename, so a reader (or a crash)
/// never sees a half-written file. `who` names the plugin in error messages. Throws
/// tailor::Error naming the file, the system's reason and the likely fix; a failed write
/// (a full disk) leaves no temporary file behind.
inline void write_artifact(const std::string& who, const std::filesystem::path& path,
                           const std::string& text) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  std::error_code ec;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    TAILOR_CHECK(out.good(), who, ": cannot write ", tmp.string(), ": ",
                 std::generic_category().message(errno),
                 "; check that the run directory exists and is writable");
    out << text;
    out.flush();
    if (!out.good()) {
      const std::string why = std::generic_category().message(errno);
      out.close();
      std::filesystem::remove(tmp, ec);
      TAILOR_CHECK(false, who, ": writing ", path.string(), " failed: ", why,
                   "; free disk space and resume the run");
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    TAILOR_CHECK(false, who, ": cannot rename ", tmp.string(), " to ", path.string(), ": ",
                 ec.message());
  }
}

}  // namespace tailor
