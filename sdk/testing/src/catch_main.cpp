// The one Catch2 main of every test executable (Tailor::testing_main), in-tree and out of tree.
//
// LibTorch seeds its default generator from the OS, so a test that draws unseeded random
// numbers would see new values on every run and could pass or fail by chance. Each run of a
// test case (Catch re-enters it once per leaf section) starts from the same seed instead.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <ATen/Context.h>

#include <string>

namespace {

class SeedEachTestCase : public Catch::TestEventListenerBase {
 public:
  using TestEventListenerBase::TestEventListenerBase;

  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    TestEventListenerBase::testCaseStarting(info);
    test_case_ = info.name;
  }

  // Called with the test case itself as the outermost section at the start of every run.
  void sectionStarting(const Catch::SectionInfo& info) override {
    TestEventListenerBase::sectionStarting(info);
    if (info.name == test_case_) at::manual_seed(kSeed);
  }

 private:
  static constexpr uint64_t kSeed = 20240229;
  std::string test_case_;
};

}  // namespace

CATCH_REGISTER_LISTENER(SeedEachTestCase)
