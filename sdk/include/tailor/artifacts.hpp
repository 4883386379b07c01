// tailor/artifacts.hpp - writing files into the run directory from plugin code.
#pragma once

#include <tailor/error.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace tailor {

/// Writes `text` to `path` through a temporary file and a rename, so a reader (or a crash)
/// never sees a half-written file. `who` names the plugin in error messages. Throws
/// tailor::Error naming the file and the likely fix.
inline void write_artifact(const std::string& who, const std::filesystem::path& path,
                           const std::string& text) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    TAILOR_CHECK(out.good(), who, ": cannot write ", tmp.string(),
                 "; check that the run directory exists and is writable");
    out << text;
    out.flush();
    TAILOR_CHECK(out.good(), who, ": writing ", tmp.string(), " failed (disk full?)");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  TAILOR_CHECK(!ec, who, ": cannot rename ", tmp.string(), " to ", path.string(), ": ",
               ec.message());
}

}  // namespace tailor
