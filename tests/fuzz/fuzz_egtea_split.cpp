// tests/fuzz/fuzz_egtea_split.cpp - libFuzzer target: the EGTEA Gaze+ split files
// (`<clip> <action> <verb> <noun>...`, CDB's train/val/test_split.txt) and the
// action/verb/noun index files (`<name tokens...> <id>`). Every bad line must end as
// tailor::Error naming the file and line.
#include "egtea/egtea.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  try {
    for (const auto& entry : tailor::plugins::parse_split(content, "train_split.txt", "egtea: "))
      (void)tailor::plugins::session_of(entry.clip);
  } catch (const tailor::Error&) {
  }
  try {
    (void)tailor::plugins::parse_index(content, "verb_idx.txt", "egtea: ");
  } catch (const tailor::Error&) {
  }
  return 0;
}
