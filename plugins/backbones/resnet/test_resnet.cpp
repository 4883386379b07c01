// Unit tests of the resnet backbone: torchvision sizes and names, shapes, weights loading.
#include "resnet.hpp"

#include "common/weights.hpp"

#include <tailor/testing/readme_table.hpp>

#include <torch/serialize.h>
#include <torch/torch.h>
#include <unistd.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using tailor::plugins::ResNetBackbone;

namespace {

ResNetBackbone make(int64_t depth, int64_t groups = 1, int64_t width_per_group = 64,
                    uint64_t seed = 0, bool channels_last = false,
                    const std::string& pretrained = "", bool zero_init_residual = false) {
  torch::manual_seed(seed);
  ResNetBackbone::Options o;
  o.depth = depth;
  o.groups = groups;
  o.width_per_group = width_per_group;
  o.channels_last = channels_last;
  o.pretrained = pretrained;
  o.zero_init_residual = zero_init_residual;
  tailor::BackboneContext ctx;
  ctx.sample_shape = {3, 224, 224};
  ctx.num_classes = 1000;
  return ResNetBackbone(o, ctx);
}

int64_t parameter_count(ResNetBackbone& net) {
  int64_t n = 0;
  for (const auto& p : net.module().parameters()) n += p.numel();
  return n;
}

// The fc head of torchvision's ImageNet models, which the host owns here: Linear(D, 1000).
int64_t head(int64_t feature_dim) {
  return feature_dim * 1000 + 1000;
}

tailor::NamedTensors own_parameters(ResNetBackbone& net) {
  tailor::NamedTensors out;
  for (const auto& item : net.module().named_parameters())
    out.emplace_back(item.key(), item.value());
  return out;
}

// Parameters and buffers: what a state dict holds.
tailor::NamedTensors state_of(ResNetBackbone& net) {
  tailor::NamedTensors out;
  for (const auto& item : net.module().named_parameters())
    out.emplace_back(item.key(), item.value());
  for (const auto& item : net.module().named_buffers()) out.emplace_back(item.key(), item.value());
  return out;
}

// Writes `tensors` with torch::pickle_save: the same zip format Python's torch.save writes.
void save(const fs::path& path, const tailor::NamedTensors& tensors) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [name, t] : tensors) dict.insert(name, t);
  const std::vector<char> bytes = torch::pickle_save(dict);
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("resnet_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string golden_path(const std::string& name) {
  return std::string(TAILOR_SOURCE_DIR) + "/tests/golden/data/" + name;
}

}  // namespace

TEST_CASE("resnet parameter counts equal torchvision's without fc", "[resnet]") {
  // torchvision's published totals include fc = Linear(D, 1000): ResNet-50 25,557,032,
  // ResNeXt-50 32x4d 25,028,904, ResNet-152 60,192,808 (D = 2048, fc 2,049,000); ResNet-18
  // 11,689,512 (D = 512, fc 513,000). ResNet-10 ([1,1,1,1] basic blocks, OLTR / Decoupling)
  // has 4,905,792 without fc: stem 9,408 + 128; layer1 73,984; layer2 230,144 (with an
  // 8,448 projection); layer3 919,040; layer4 3,673,088 (torchvision's ResNet(BasicBlock,
  // [1, 1, 1, 1]) agrees: 5,418,792 with fc).
  struct Row {
    int64_t depth, groups, width, feature_dim, backbone, total;
  };
  const std::vector<Row> rows = {{10, 1, 64, 512, 4905792, 5418792},
                                 {18, 1, 64, 512, 11176512, 11689512},
                                 {50, 1, 64, 2048, 23508032, 25557032},
                                 {50, 32, 4, 2048, 22979904, 25028904},
                                 {152, 1, 64, 2048, 58143808, 60192808}};
  for (const Row& r : rows) {
    INFO("depth " << r.depth << " groups " << r.groups << " width_per_group " << r.width);
    ResNetBackbone net = make(r.depth, r.groups, r.width);
    CHECK(net.feature_dim() == r.feature_dim);
    CHECK(parameter_count(net) == r.backbone);
    CHECK(parameter_count(net) + head(r.feature_dim) == r.total);
  }
}

TEST_CASE("resnet names and shapes are torchvision's state-dict entries", "[resnet][golden]") {
  std::ifstream file(golden_path("resnet_torchvision_keys.json"));
  REQUIRE(file.good());
  const nlohmann::json keys = nlohmann::json::parse(file).at("keys");
  for (const auto& [arch, depth, groups, width] :
       {std::tuple{"resnet18", 18, 1, 64}, std::tuple{"resnext50_32x4d", 50, 32, 4}}) {
    INFO(arch);
    ResNetBackbone net = make(depth, groups, width);
    const tailor::NamedTensors mine = state_of(net);
    std::map<std::string, std::vector<int64_t>> expected;
    for (const auto& entry : keys.at(arch))
      expected[entry[0].get<std::string>()] = entry[1].get<std::vector<int64_t>>();
    CHECK(mine.size() == expected.size());
    for (const auto& [name, tensor] : mine) {
      INFO(name);
      REQUIRE(expected.count(name) == 1);
      CHECK(tensor.sizes().vec() == expected[name]);
    }
  }
}

TEST_CASE("resnet output shapes and zero_init_residual", "[resnet]") {
  const at::Tensor x = torch::randn({2, 3, 64, 64});
  ResNetBackbone r10 = make(10);
  r10.module().eval();
  CHECK(r10.forward(x).sizes() == at::IntArrayRef({2, 512}));
  ResNetBackbone r50 = make(50);
  r50.module().eval();
  CHECK(r50.forward(x).sizes() == at::IntArrayRef({2, 2048}));

  ResNetBackbone zero = make(50, 32, 4, 0, false, "", /*zero_init_residual=*/true);
  const auto params = zero.module().named_parameters();
  CHECK(params["layer1.0.bn3.weight"].abs().sum().item<double>() == 0.0);
  CHECK(params["layer4.2.bn3.weight"].abs().sum().item<double>() == 0.0);
  // Only the last BN of a block: layer1's grouped conv has int(64 * 4 / 64) * 32 = 128 channels.
  CHECK(params["layer1.0.bn2.weight"].sum().item<double>() == 128.0);
  ResNetBackbone zero18 = make(18, 1, 64, 0, false, "", true);
  CHECK(zero18.module().named_parameters()["layer3.1.bn2.weight"].abs().sum().item<double>() ==
        0.0);
  // torchvision's init: kaiming_normal_(fan_out, relu): std = sqrt(2 / (out * 9)).
  const at::Tensor w = r50.module().named_parameters()["layer4.0.conv2.weight"];
  CHECK(w.std().item<double>() == Approx(std::sqrt(2.0 / (512 * 9))).epsilon(0.05));
}

TEST_CASE("resnet forward_functional equals forward", "[resnet]") {
  const at::Tensor x = torch::randn({2, 3, 32, 32});
  SECTION("basic blocks, training mode, BN statistics") {
    ResNetBackbone a = make(10, 1, 64, 4);
    ResNetBackbone b = make(10, 1, 64, 4);
    a.module().train();
    b.module().train();
    CHECK(torch::allclose(a.forward(x), b.forward_functional(x, own_parameters(b)), 1e-5, 1e-5));
    const auto ba = a.module().named_buffers();
    const auto bb = b.module().named_buffers();
    for (const auto& item : ba) {
      INFO(item.key());
      CHECK(torch::allclose(item.value().to(torch::kDouble), bb[item.key()].to(torch::kDouble),
                            1e-5, 1e-6));
    }
    a.module().eval();
    b.module().eval();
    CHECK(torch::allclose(a.forward(x), b.forward_functional(x, {}), 1e-5, 1e-5));
  }
  SECTION("grouped bottlenecks, eval mode, substituted tensor gets a gradient") {
    ResNetBackbone net = make(50, 4, 16, 5);  // a small-cardinality ResNeXt-50, for speed
    net.module().eval();
    const at::Tensor y = net.forward(x);
    CHECK(torch::allclose(net.forward_functional(x, {}), y, 1e-4, 1e-5));
    const at::Tensor own = net.module().named_parameters()["layer3.0.downsample.0.weight"];
    const at::Tensor sub = own.detach().clone().requires_grad_(true);
    const at::Tensor z = net.forward_functional(x, {{"layer3.0.downsample.0.weight", sub}});
    CHECK(torch::allclose(z, y, 1e-4, 1e-5));
    z.sum().backward();
    REQUIRE(sub.grad().defined());
    CHECK(sub.grad().abs().sum().item<double>() > 0.0);
    CHECK_FALSE(own.grad().defined());
  }
  SECTION("unknown names and wrong shapes") {
    ResNetBackbone net = make(10);
    CHECK_THROWS_WITH(net.forward_functional(x, {{"fc.weight", torch::zeros({1})}}),
                      Catch::Contains("unknown parameter 'fc.weight'"));
    CHECK_THROWS_WITH(net.forward_functional(x, {{"conv1.weight", torch::zeros({64, 3, 3, 3})}}),
                      Catch::Contains("[64, 3, 3, 3]") && Catch::Contains("[64, 3, 7, 7]"));
  }
}

TEST_CASE("resnet channels_last gives the same features", "[resnet]") {
  ResNetBackbone plain = make(10, 1, 64, 7);
  ResNetBackbone cl = make(10, 1, 64, 7, /*channels_last=*/true);
  CHECK(cl.module().named_parameters()["layer2.0.conv1.weight"].is_contiguous(
      at::MemoryFormat::ChannelsLast));
  plain.module().eval();
  cl.module().eval();
  const at::Tensor x = torch::randn({2, 3, 48, 40});
  CHECK(torch::allclose(cl.forward(x), plain.forward(x), 1e-4, 1e-5));
}

TEST_CASE("resnet loads pretrained weights", "[resnet]") {
  TempDir dir;
  ResNetBackbone source = make(10, 1, 64, /*seed=*/11);
  {
    torch::NoGradGuard no_grad;  // buffers are loaded too
    source.module().named_buffers()["layer2.0.bn1.running_mean"].uniform_(-1, 1);
  }
  const tailor::NamedTensors state = state_of(source);
  // A torchvision-style checkpoint: fc present (ignored), DataParallel "module." prefixes.
  tailor::NamedTensors file_state;
  for (const auto& [name, t] : state) file_state.emplace_back("module." + name, t);
  file_state.emplace_back("module.fc.weight", torch::zeros({1000, 512}));
  file_state.emplace_back("fc.bias", torch::zeros({1000}));
  const fs::path good = dir.path() / "good.pt";
  save(good, file_state);

  ResNetBackbone loaded = make(10, 1, 64, /*seed=*/12, false, good.string());
  const std::map<std::string, at::Tensor> expected(state.begin(), state.end());
  for (const auto& [name, t] : state_of(loaded)) {
    INFO(name);
    CHECK(torch::equal(t, expected.at(name)));
  }
  source.module().eval();
  loaded.module().eval();
  const at::Tensor x = torch::randn({2, 3, 32, 32});
  CHECK(torch::equal(loaded.forward(x), source.forward(x)));

  SECTION("a wrong shape is a clear error") {
    tailor::NamedTensors bad = state;
    for (auto& [name, t] : bad)
      if (name == "layer3.0.conv2.weight") t = torch::zeros({256, 256, 1, 1});
    save(dir.path() / "bad.pt", bad);
    CHECK_THROWS_WITH(make(10, 1, 64, 0, false, (dir.path() / "bad.pt").string()),
                      Catch::Contains("1 with a different shape") &&
                          Catch::Contains("layer3.0.conv2.weight: file [256, 256, 1, 1], model "
                                          "[256, 256, 3, 3]"));
  }
  SECTION("missing and unknown names are listed") {
    tailor::NamedTensors partial;
    for (const auto& [name, t] : state)
      if (name.rfind("layer4.", 0) != 0) partial.emplace_back(name, t);
    partial.emplace_back("layer5.0.conv1.weight", torch::zeros({1}));
    save(dir.path() / "partial.pt", partial);
    CHECK_THROWS_WITH(make(10, 1, 64, 0, false, (dir.path() / "partial.pt").string()),
                      Catch::Contains("missing from the file: layer4.0.") &&
                          Catch::Contains("1 not in the model: layer5.0.conv1.weight") &&
                          Catch::Contains("Check depth, groups and width_per_group"));
    // The same file against the wrong architecture.
    CHECK_THROWS_WITH(make(18, 1, 64, 0, false, good.string()),
                      Catch::Contains("missing from the file: layer1.1."));
  }
  SECTION("a missing file") {
    CHECK_THROWS_WITH(
        make(10, 1, 64, 0, false, (dir.path() / "nope.pt").string()),
        Catch::Contains("pretrained weights not found") && Catch::Contains("nope.pt"));
  }
}

TEST_CASE("resnet reads the weight files Python writes", "[resnet][golden]") {
  const tailor::NamedTensors plain =
      tailor::plugins::read_weight_file(golden_path("resnet_state_dict_plain.pt"), "resnet");
  const tailor::NamedTensors script =
      tailor::plugins::read_weight_file(golden_path("resnet_state_dict_script.pt"), "resnet");
  for (const auto* tensors : {&plain, &script}) {
    std::map<std::string, at::Tensor> by_name(tensors->begin(), tensors->end());
    CHECK(by_name.size() == 6);
    REQUIRE(by_name.count("conv1.weight") == 1);
    CHECK(torch::equal(by_name["conv1.weight"], torch::arange(6.0).reshape({2, 3, 1, 1})));
    CHECK(torch::equal(by_name["bn1.weight"], torch::tensor({0.5f, 1.5f})));
    CHECK(torch::equal(by_name["bn1.running_mean"], torch::tensor({-1.0f, 1.0f})));
    CHECK(by_name.count("bn1.num_batches_tracked") == 1);
  }
  CHECK_THROWS_WITH(
      tailor::plugins::read_weight_file(golden_path("resnet_state_dict_ordered.pt"), "resnet"),
      Catch::Contains("collections.OrderedDict") && Catch::Contains("torch.save(dict("));
  CHECK_THROWS_WITH(
      tailor::plugins::read_weight_file(golden_path("resnet_state_dict_legacy.pt"), "resnet"),
      Catch::Contains("not a PyTorch zip archive") && Catch::Contains("torch.save(dict("));
}

TEST_CASE("resnet rejects bad options", "[resnet]") {
  CHECK_THROWS_WITH(make(20), Catch::Contains("depth 20 is not one of 10, 18, 34, 50, 101, 152"));
  CHECK_THROWS_WITH(make(18, 32, 4),
                    Catch::Contains("basic blocks") && Catch::Contains("groups = 32"));
}

TEST_CASE("resnet README parameter table matches the options schema", "[resnet]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<ResNetBackbone::Options>());
}
