// Unit tests of the resnext3d backbone: sizes, names, shapes, shortcuts, weights loading.
#include "resnext3d.hpp"

#include <tailor/testing/readme_table.hpp>

#include <ATen/ops/equal.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/zeros.h>
#include <torch/serialize.h>
#include <torch/utils.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using tailor::plugins::ResNeXt3dBackbone;

namespace {

ResNeXt3dBackbone::Options tiny() {
  ResNeXt3dBackbone::Options o;
  o.depth = 18;
  o.block = ResNeXt3dBackbone::Options::Block::kBasic;
  o.width = 8;
  o.stem_width = 8;
  return o;
}

ResNeXt3dBackbone make(const ResNeXt3dBackbone::Options& o, uint64_t seed = 0,
                       std::vector<int64_t> shape = {3, 8, 32, 32}) {
  torch::manual_seed(seed);
  tailor::BackboneContext ctx;
  ctx.sample_shape = std::move(shape);
  ctx.num_classes = 19;
  return ResNeXt3dBackbone(o, ctx);
}

int64_t parameter_count(ResNeXt3dBackbone& net) {
  int64_t n = 0;
  for (const auto& p : net.module().parameters()) n += p.numel();
  return n;
}

tailor::NamedTensors state_of(ResNeXt3dBackbone& net) {
  tailor::NamedTensors out;
  for (const auto& item : net.module().named_parameters())
    out.emplace_back(item.key(), item.value());
  for (const auto& item : net.module().named_buffers()) out.emplace_back(item.key(), item.value());
  return out;
}

// torch::pickle_save writes the zip format of Python's torch.save.
void save(const fs::path& path, const tailor::NamedTensors& tensors) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [name, t] : tensors) dict.insert(name, t);
  const std::vector<char> bytes = torch::pickle_save(dict);
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    path = fs::temp_directory_path() /
           ("resnext3d_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

TEST_CASE("resnext3d sizes equal the 3D-ResNets reference without fc", "[resnext3d]") {
  // Counts of the reference layout built from torch.nn.Conv3d / BatchNorm3d modules.
  ResNeXt3dBackbone::Options o;  // depth 101, resnext, cardinality 32, shortcut B
  ResNeXt3dBackbone r101 = make(o, 0, {3, 10, 224, 224});
  CHECK(r101.feature_dim() == 2048);
  CHECK(parameter_count(r101) == 47521216);
  auto params = r101.module().named_parameters();
  CHECK(params["conv1.weight"].sizes() == at::IntArrayRef({64, 3, 7, 7, 7}));
  CHECK(params["layer1.0.conv2.weight"].sizes() == at::IntArrayRef({128, 4, 3, 3, 3}));
  CHECK(params["layer1.0.downsample.0.weight"].sizes() == at::IntArrayRef({256, 64, 1, 1, 1}));
  CHECK(params["layer4.2.conv3.weight"].sizes() == at::IntArrayRef({2048, 1024, 1, 1, 1}));
  CHECK(r101.module().named_buffers().contains("layer3.22.bn3.running_var"));

  ResNeXt3dBackbone::Options b = tiny();
  b.width = 0;  // 64
  b.stem_width = 64;
  ResNeXt3dBackbone r18 = make(b);
  CHECK(r18.feature_dim() == 512);
  CHECK(parameter_count(r18) == 33203904);
}

TEST_CASE("resnext3d features have shape [N, D] for video inputs", "[resnext3d]") {
  ResNeXt3dBackbone net = make(tiny());
  CHECK(net.feature_dim() == 64);
  const at::Tensor x = at::randn({2, 3, 8, 32, 32});
  CHECK(net.forward(x).sizes() == at::IntArrayRef({2, 64}));

  ResNeXt3dBackbone::Options o;
  o.depth = 50;
  o.width = 32;
  o.stem_width = 16;
  o.cardinality = 8;
  ResNeXt3dBackbone small = make(o);
  CHECK(small.feature_dim() == 512);
  small.module().eval();
  const at::Tensor f = small.forward(at::randn({1, 3, 10, 40, 40}));
  CHECK(f.sizes() == at::IntArrayRef({1, 512}));
  CHECK(f.ge(0).all().item<bool>());  // mean of ReLU outputs

  // Shortcut A: strided identity with zero channels, no projection parameters.
  ResNeXt3dBackbone::Options a = tiny();
  a.shortcut = ResNeXt3dBackbone::Options::Shortcut::kA;
  ResNeXt3dBackbone plain = make(a);
  for (const auto& item : plain.module().named_parameters())
    CHECK(item.key().find("downsample") == std::string::npos);
  CHECK(parameter_count(plain) < parameter_count(net));
  CHECK(plain.forward(x).sizes() == at::IntArrayRef({2, 64}));
}

TEST_CASE("resnext3d loads pretrained weights", "[resnext3d]") {
  TempDir dir;
  ResNeXt3dBackbone source = make(tiny(), 11);
  {
    torch::NoGradGuard no_grad;
    source.module().named_buffers()["layer2.0.bn1.running_mean"].uniform_(-1, 1);
  }
  const tailor::NamedTensors state = state_of(source);
  // A 3D-ResNets checkpoint: DataParallel prefixes and an fc head (ignored).
  tailor::NamedTensors file_state;
  for (const auto& [name, t] : state) file_state.emplace_back("module." + name, t);
  file_state.emplace_back("module.fc.weight", at::zeros({400, 64}));
  const fs::path good = dir.path / "good.pt";
  save(good, file_state);

  ResNeXt3dBackbone::Options o = tiny();
  o.pretrained = good.string();
  ResNeXt3dBackbone loaded = make(o, 12);
  const std::map<std::string, at::Tensor> expected(state.begin(), state.end());
  for (const auto& [name, t] : state_of(loaded)) {
    INFO(name);
    CHECK(at::equal(t, expected.at(name)));
  }
  source.module().eval();
  loaded.module().eval();
  const at::Tensor x = at::randn({1, 3, 8, 32, 32});
  CHECK(at::equal(loaded.forward(x), source.forward(x)));

  // The same file against a wider network: shapes named, with the parameter to fix.
  ResNeXt3dBackbone::Options wide = o;
  wide.width = 16;
  CHECK_THROWS_WITH(make(wide), Catch::Contains("[backbone] pretrained = " + good.string()) &&
                                    Catch::Contains("with a different shape") &&
                                    Catch::Contains("layer1.0.bn1.bias: file [8], model [16]") &&
                                    Catch::Contains("Set [backbone] depth"));
  ResNeXt3dBackbone::Options deeper = o;
  deeper.depth = 34;
  CHECK_THROWS_WITH(make(deeper), Catch::Contains("missing from the file: layer1.2."));

  o.pretrained = (dir.path / "nope.pt").string();
  CHECK_THROWS_WITH(make(o), Catch::Contains("[backbone] pretrained") &&
                                 Catch::Contains("nope.pt: pretrained weights not found"));
  std::ofstream(dir.path / "legacy.pth") << "\x80\x02legacy pickle";
  o.pretrained = (dir.path / "legacy.pth").string();
  CHECK_THROWS_WITH(
      make(o), Catch::Contains("not a PyTorch zip archive") && Catch::Contains("torch.save(dict("));
}

TEST_CASE("resnext3d rejects bad options and image inputs", "[resnext3d]") {
  ResNeXt3dBackbone::Options o = tiny();
  o.depth = 20;
  CHECK_THROWS_WITH(make(o), Catch::Contains("depth = 20 is not one of"));
  CHECK_THROWS_WITH(make(tiny(), 0, {3, 32, 32}),
                    Catch::Contains("expects video samples [C, T, H, W], got [3, 32, 32]"));
  ResNeXt3dBackbone::Options r;
  r.width = 48;
  CHECK_THROWS_WITH(make(r), Catch::Contains("width = 48") && Catch::Contains("multiple of 32"));
}

TEST_CASE("resnext3d README parameter table matches the options schema", "[resnext3d]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<ResNeXt3dBackbone::Options>());
}
