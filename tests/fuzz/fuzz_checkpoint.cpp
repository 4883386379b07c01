// tests/fuzz/fuzz_checkpoint.cpp - libFuzzer target: the checkpoint reader.
//
// Each input is read as a checkpoint file as it lies on disk (the frame and its checksum are
// the gate). With TAILOR_FUZZ_FORGE=1 it is also read as a payload the harness frames with a
// correct checksum, so that the fuzzer reaches what lies behind the gate (the torch archive,
// the JSON header, the tensor groups). That mode is off by default: it mostly fuzzes
// LibTorch's unpickler, which allocates whatever length a crafted pickle declares (a timeout
// and gigabytes of memory, see docs/failure-modes.md), something no damaged file reaches
// because the checksum refuses it first. Every bad input must end as tailor::Error.
//
// TAILOR_FUZZ_WRITE_SEED=FILE writes a small valid checkpoint to FILE and exits: the seed
// of tests/fuzz/corpus/checkpoint.
#include "engine/checkpoint.hpp"
#include "engine/checkpoint_file.hpp"
#include "report/digest.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace tailor::host;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* seed = std::getenv("TAILOR_FUZZ_WRITE_SEED")) {
    Checkpoint c;
    c.model = {{"head.weight", at::arange(6, at::kFloat).reshape({2, 3})},
               {"head.bias", at::zeros({2})}};
    c.loss = {{"margins", at::ones({2})}};
    c.rng = {{"cpu", at::arange(4, at::kByte)}};
    c.meta = {{"epoch", 1}, {"stage", 0}, {"completed", 1}};
    c.optimizer = "";
    c.config_sha256 = sha256_hex("config");
    save_checkpoint(seed, c);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string file(reinterpret_cast<const char*>(data), size);
  try {
    read_checkpoint(file, "fuzz.pt");
  } catch (const tailor::Error&) {
  }
  static const bool forge = std::getenv("TAILOR_FUZZ_FORGE") != nullptr;
  if (!forge) return 0;
  // Behind the gate: the input's payload (a seed's own frame replaced) with a valid frame.
  std::string framed = begin_frame();
  framed += file.compare(0, 8, "TAILORCK") == 0 && file.size() >= kCheckpointHeaderBytes
                ? file.substr(kCheckpointHeaderBytes)
                : file;
  seal_frame(framed);
  try {
    read_checkpoint(framed, "fuzz.pt");
  } catch (const tailor::Error&) {
  }
  return 0;
}
