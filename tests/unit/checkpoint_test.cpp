// tests/unit/checkpoint_test.cpp - the checkpoint frame, atomic writes under a full disk, and
// the run directory's writer lock.
#include "engine/checkpoint.hpp"
#include "engine/checkpoint_file.hpp"
#include "engine/resume.hpp"
#include "report/digest.hpp"
#include "report/run_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using namespace tailor::host;
using Catch::Matchers::Contains;

namespace {

fs::path temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() /
                       ("tailor-checkpoint-test-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write(const fs::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary) << bytes;
}

std::string framed(const std::string& payload) {
  std::string file = begin_frame() + payload;
  seal_frame(file);
  return file;
}

// The message of the tailor::Error that `f` throws ("" when it throws none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

Checkpoint sample() {
  Checkpoint c;
  c.model = {{"backbone.conv.weight", at::arange(24, at::kFloat).reshape({2, 3, 4})},
             {"head.bias", at::tensor({0.5, -1.5})}};
  c.loss = {{"margins", at::ones({3})}};
  c.rng = {{"cpu", at::randint(0, 255, {16}, at::kByte)}};
  c.meta = {{"epoch", 3}, {"stage", 1}};
  c.optimizer = std::string("\0momentum\xff", 10);
  c.config_sha256 = sha256_hex("config");
  c.config_changes.push_back({"a", "b", "latest.pt", 2, "2026-01-01T00:00:00"});
  return c;
}

}  // namespace

TEST_CASE("sha256 matches the FIPS 180-2 test vector", "[checkpoint]") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("a sealed frame opens to its payload", "[checkpoint]") {
  const std::string file = framed("payload bytes");
  CHECK(file.size() == kCheckpointHeaderBytes + 13);
  CHECK(file.substr(0, 8) == "TAILORCK");
  CHECK(open_frame(file, "x.pt") == "payload bytes");
}

TEST_CASE("any flipped byte, truncation or extra byte is refused by name", "[checkpoint]") {
  const std::string file = framed(std::string(1000, 'w'));
  for (size_t at : {size_t{0}, size_t{9}, size_t{20}, size_t{40}, kCheckpointHeaderBytes,
                    file.size() / 2, file.size() - 1}) {
    std::string bad = file;
    bad[at] = static_cast<char>(bad[at] ^ 0x01);
    const std::string why = error_of([&] { open_frame(bad, "run/latest.pt"); });
    INFO("flipped byte " << at << ": " << why);
    CHECK_THAT(why, Contains("checkpoint run/latest.pt"));
  }
  CHECK_THAT(
      error_of([&] { open_frame(file.substr(0, file.size() - 1), "c.pt"); }),
      Contains("c.pt is truncated: its header announces 1000 payload bytes, the file holds 999"));
  CHECK_THAT(error_of([&] { open_frame(file + "x", "c.pt"); }),
             Contains("has 1 bytes more than its header announces"));
  CHECK_THAT(error_of([&] { open_frame(file.substr(0, 10), "c.pt"); }),
             Contains("is 10 bytes, shorter than the 64-byte checkpoint header"));
  CHECK_THAT(error_of([&] { open_frame(std::string("PK\x03\x04rest of a zip", 18), "old.pt"); }),
             Contains("written by an older tailor (format 1, without a checksum)"));
  std::string payload_flip = file;
  payload_flip[kCheckpointHeaderBytes + 500] = 'x';
  CHECK_THAT(error_of([&] { open_frame(payload_flip, "c.pt"); }),
             Contains("c.pt is corrupt: the SHA-256 of its contents is"));
  std::string version = file;
  version[8] = 3;
  CHECK_THAT(error_of([&] { open_frame(version, "c.pt"); }),
             Contains("has format version 3; this tailor reads version 2"));
}

TEST_CASE("a checkpoint round-trips every field, bit for bit", "[checkpoint]") {
  const fs::path dir = temp_dir("roundtrip");
  const Checkpoint c = sample();
  save_checkpoint(dir / "latest.pt", c);
  const Checkpoint back = load_checkpoint(dir / "latest.pt");
  REQUIRE(back.model.size() == 2);
  CHECK(back.model[0].first == "backbone.conv.weight");
  CHECK(at::equal(back.model[0].second, c.model[0].second));
  CHECK(at::equal(back.model[1].second, c.model[1].second));
  CHECK(at::equal(back.loss[0].second, c.loss[0].second));
  CHECK(at::equal(back.rng[0].second, c.rng[0].second));
  CHECK(back.meta == c.meta);
  CHECK(back.optimizer == c.optimizer);
  CHECK(back.config_sha256 == c.config_sha256);
  REQUIRE(back.config_changes.size() == 1);
  CHECK(back.config_changes[0].completed == 2);
  CHECK(back.config_changes[0].checkpoint == "latest.pt");
  fs::remove_all(dir);
}

TEST_CASE("a corrupt or unreadable checkpoint file is refused with one message", "[checkpoint]") {
  const fs::path dir = temp_dir("corrupt");
  save_checkpoint(dir / "latest.pt", sample());
  std::string bytes = read(dir / "latest.pt");
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x20);
  write(dir / "flipped.pt", bytes);
  CHECK_THAT(error_of([&] { load_checkpoint(dir / "flipped.pt"); }),
             Contains("flipped.pt is corrupt"));
  CHECK_THAT(error_of([&] { load_checkpoint(dir / "missing.pt"); }),
             Contains("cannot read checkpoint " + (dir / "missing.pt").string() +
                      ": No such file or directory"));
  fs::create_directory(dir / "adir.pt");
  CHECK_THAT(error_of([&] { load_checkpoint(dir / "adir.pt"); }), Contains("Is a directory"));
  fs::remove_all(dir);
}

TEST_CASE("a save that hits a full disk keeps the previous file and leaves no temporary",
          "[checkpoint]") {
  const fs::path dir = temp_dir("full");
  const fs::path file = dir / "latest.pt";
  save_checkpoint(file, sample());
  const std::string good = read(file);
  Checkpoint big = sample();
  big.model.emplace_back("big", at::zeros({64 * 1024}));  // 256 KiB
  // RLIMIT_FSIZE stands in for a full disk: a write past it fails with EFBIG (SIGXFSZ is
  // ignored, as tailor ignores it), exactly where ENOSPC would.
  struct rlimit old {};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  const auto previous = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit limited = old;
  limited.rlim_cur = 128 * 1024;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &limited) == 0);
  const std::string why = error_of([&] { save_checkpoint(file, big); });
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, previous);
  CHECK_THAT(why, Contains("cannot write " + file.string() + ": File too large"));
  CHECK_THAT(why, Contains("the previous latest.pt is kept"));
  CHECK(read(file) == good);
  for (const auto& entry : fs::directory_iterator(dir))
    CHECK(entry.path().filename() == "latest.pt");
  fs::remove_all(dir);
}

TEST_CASE("a run directory has one writer at a time", "[run_dir]") {
  const fs::path dir = temp_dir("lock");
  {
    RunDir first = RunDir::open(dir);
    pid_t holder = 0;
    CHECK_FALSE(RunDirLock::try_acquire(dir, &holder).has_value());
    CHECK(holder == ::getpid());
    const std::string why = error_of([&] { RunDir::open(dir); });
    CHECK_THAT(why,
               Contains("is in use: process " + std::to_string(::getpid()) + " is writing it"));
    CHECK_THAT(why, Contains("tailor run --resume"));
    RunDir moved = std::move(first);  // the lock moves with the directory
    CHECK_FALSE(RunDirLock::try_acquire(dir, &holder).has_value());
  }
  CHECK(RunDirLock::try_acquire(dir, nullptr).has_value());  // released with its RunDir
  fs::remove_all(dir);
}

TEST_CASE("opening a run directory removes what interrupted writes left", "[run_dir]") {
  const fs::path dir = temp_dir("stale");
  fs::create_directories(dir / "checkpoints");
  write(dir / "summary.json.tmp.4242", "{");
  write(dir / "idx_lt_selection.csv.tmp", "split");
  write(dir / "checkpoints" / "latest.pt.tmp.17", "TAILORCK");
  write(dir / "notes.tmp.txt", "kept");
  { RunDir run = RunDir::open(dir); }
  CHECK_FALSE(fs::exists(dir / "summary.json.tmp.4242"));
  CHECK_FALSE(fs::exists(dir / "idx_lt_selection.csv.tmp"));
  CHECK_FALSE(fs::exists(dir / "checkpoints" / "latest.pt.tmp.17"));
  CHECK(fs::exists(dir / "notes.tmp.txt"));
  fs::remove_all(dir);
}

TEST_CASE("run names stay one path component", "[run_dir]") {
  for (const char* name : {"../../x", "a/b", "..", ".", "", "a\\b", "tab\there"})
    CHECK_THAT(error_of([&] { check_run_name(name); }), Contains("cannot name a run directory"));
  CHECK(error_of([] { check_run_name("cifar10_lt-ce.v2"); }).empty());
}

TEST_CASE("the configuration digest ignores comments, nothing else", "[resume]") {
  const std::string a = "# Source: /x.toml\n[train]\nepochs = 2\n";
  CHECK(config_digest(a) == config_digest("# Source: /elsewhere.toml\n[train]\nepochs = 2\n"));
  CHECK(config_digest(a) != config_digest("# Source: /x.toml\n[train]\nepochs = 3\n"));
  CHECK(config_digest(a) != config_digest("# Source: /x.toml\n[train]\nepochs  = 2\n"));
}
