// Tests of the torchscript_loss loss: the Python-side contract, parameters, state, and every
// error the README lists, on TorchScript modules compiled here and on examples/vs_loss.pt.
#include "torchscript_loss.hpp"

#include <tailor/testing.hpp>

#include <ATen/ATen.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using Catch::Contains;
using tailor::plugins::TorchScriptLoss;
using tailor::testing::loss_context;

namespace {

const fs::path& scratch() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / "tailor_test_torchscript_loss";
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

// The setup() every module below shares unless it brings its own: keeps the counts and the
// parameter "scale" (default 1) as buffers.
const char* kSetup = R"(
def setup(self, class_counts: Tensor, params: Dict[str, float]) -> None:
    self.counts = class_counts.clone()
    self.scale = torch.full([1], params.get("scale", 1.0)).double()
)";

// Cross-entropy of scale * logits: the reference every numeric test compares with.
const char* kForward = R"(
def forward(self, logits: Tensor, targets: Tensor) -> Tensor:
    z = logits * self.scale.to(logits.dtype)
    return -torch.log_softmax(z, 1).gather(1, targets.unsqueeze(1)).mean()
)";

// Compiles `methods` (TorchScript source) into a module with the buffers `counts` and
// `scale`, saves it as <scratch>/<name>.pt and returns the path.
// With `trainable`, the module also has a parameter that requires grad.
std::string scripted(const std::string& name, const std::string& methods, bool trainable = false) {
  torch::jit::Module module("__torch__." + name);
  module.register_buffer("counts", at::zeros({0}, at::kLong));
  module.register_buffer("scale", at::ones({1}, at::kDouble));
  if (trainable)
    module.register_parameter("temperature", at::ones({1}).set_requires_grad(true),
                              /*is_buffer=*/false);
  module.define(methods);
  const std::string path = (scratch() / (name + ".pt")).string();
  module.save(path);
  return path;
}

TorchScriptLoss::Options script_options(const std::string& path) {
  TorchScriptLoss::Options o;
  o.script = path;
  return o;
}

std::string error_of(const TorchScriptLoss::Options& o,
                     const std::vector<int64_t>& counts = {50, 10, 2}) {
  try {
    TorchScriptLoss loss(o, loss_context(counts));
  } catch (const tailor::Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string forward_error(TorchScriptLoss& loss, const tailor::LossInput& in) {
  try {
    loss.forward(in);
  } catch (const tailor::Error& e) {
    return e.what();
  }
  return "(no error)";
}

const at::Tensor kTargets = at::tensor(std::vector<int64_t>{0, 2, 1, 2});

}  // namespace

TEST_CASE("torchscript_loss runs setup once and forward per batch", "[torchscript_loss]") {
  const std::string path = scripted("scaled_ce", std::string(kSetup) + kForward);
  TorchScriptLoss::Options o = script_options(path);
  o.param_names = {"scale"};
  o.param_values = {2.5};
  TorchScriptLoss loss(o, loss_context({50, 10, 2}));

  SECTION("setup receives the class counts and the parameters") {
    const auto state = loss.state();
    REQUIRE(state.size() == 3);
    CHECK(state[0].first == "script_fingerprint");
    CHECK(state[1].first == "buffer.counts");
    CHECK(at::equal(state[1].second, at::tensor(std::vector<int64_t>{50, 10, 2})));
    CHECK(state[2].first == "buffer.scale");
    CHECK(state[2].second.item<double>() == 2.5);
  }
  SECTION("forward gives the script's value in the logits' dtype, with its gradient") {
    for (const auto dtype : {at::kFloat, at::kDouble}) {
      at::Tensor z = at::randn({4, 3}, dtype).set_requires_grad(true);
      at::Tensor value = loss.forward({z, kTargets});
      CHECK(value.scalar_type() == dtype);
      value.backward();
      at::Tensor ref_z = z.detach().clone().set_requires_grad(true);
      at::Tensor ref = at::cross_entropy_loss(2.5 * ref_z, kTargets);
      ref.backward();
      CHECK(value.item<double>() == Approx(ref.item<double>()).epsilon(1e-6));
      CHECK(at::allclose(z.grad(), ref_z.grad(), 1e-5, 1e-7));
    }
    const auto check =
        tailor::testing::check_loss_gradient(loss, {at::randn({4, 3}, at::kDouble), kTargets});
    INFO(check.message);
    CHECK(check.ok);
  }
  SECTION("without adjust_logits the evaluation logits are the raw ones") {
    const at::Tensor z = at::randn({2, 3});
    CHECK(at::equal(loss.adjust_logits(z), z));
  }
}

TEST_CASE("torchscript_loss uses adjust_logits when the script has it", "[torchscript_loss]") {
  const std::string path = scripted("posthoc", std::string(kSetup) + kForward + R"(
def adjust_logits(self, logits: Tensor) -> Tensor:
    return logits - torch.log(self.counts.to(logits.dtype))
)");
  TorchScriptLoss loss(script_options(path), loss_context({50, 10, 2}));
  const at::Tensor z = at::randn({2, 3});
  const at::Tensor expected = z - at::log(at::tensor(std::vector<float>{50.f, 10.f, 2.f}));
  CHECK(at::allclose(loss.adjust_logits(z), expected));

  const std::string bad = scripted("posthoc_shape", std::string(kSetup) + kForward + R"(
def adjust_logits(self, logits: Tensor) -> Tensor:
    return logits.sum(1)
)");
  TorchScriptLoss wrong(script_options(bad), loss_context({50, 10, 2}));
  CHECK_THROWS_WITH(wrong.adjust_logits(z),
                    Contains("posthoc_shape.pt: adjust_logits() must return a tensor of the "
                             "logits' shape [2, 3]"));
}

TEST_CASE("torchscript_loss runs the shipped example script", "[torchscript_loss]") {
  const std::string example = TORCHSCRIPT_LOSS_EXAMPLE;
  TorchScriptLoss::Options o = script_options(example);
  TorchScriptLoss loss(o, loss_context({50, 10, 2}));
  at::Tensor z = at::randn({4, 3}).set_requires_grad(true);
  loss.forward({z, kTargets}).backward();
  CHECK(z.grad().abs().sum().item<double>() > 0.0);
  // An exception raised in the script's Python code reaches the user with its message.
  o.param_names = {"gamma", "tua"};
  o.param_values = {0.3, 1.0};
  const std::string message = error_of(o);
  CHECK_THAT(message, Contains("torchscript_loss: " + example + ": setup() failed: "));
  CHECK_THAT(message,
             Contains("ValueError: vs_loss.py takes the parameters gamma and tau, not 'tua'"));
  CHECK_THAT(message, Contains("fix: pass the parameters the script expects"));
}

TEST_CASE("torchscript_loss refuses a script it cannot use", "[torchscript_loss]") {
  SECTION("no script named") {
    CHECK_THAT(error_of(TorchScriptLoss::Options{}),
               Contains("[loss] script is not set; fix: set script = "));
  }
  SECTION("a missing file") {
    const std::string path = (scratch() / "nowhere.pt").string();
    const std::string message = error_of(script_options(path));
    CHECK_THAT(message, Contains("the script file '" + path + "' does not exist"));
    CHECK_THAT(message, Contains("relative to the working directory"));
  }
  SECTION("a file that is not a TorchScript archive") {
    const std::string text = (scratch() / "notes.pt").string();
    std::ofstream(text) << "def forward(logits, targets): ...\n";
    CHECK_THAT(error_of(script_options(text)),
               Contains("'" + text + "' is not a TorchScript file this LibTorch"));
    // Python's torch.save() format: a zip archive of pickled tensors without code.
    const std::string pickle = (scratch() / "tensor.pt").string();
    const std::vector<char> bytes = torch::jit::pickle_save(at::ones({3}));
    std::ofstream(pickle, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    const std::string message = error_of(script_options(pickle));
    CHECK_THAT(message, Contains("'" + pickle + "' is not a TorchScript file"));
    CHECK_THAT(message, Contains("torch.save() writes a pickle, not TorchScript"));
  }
  SECTION("a missing method") {
    const std::string path = scripted("no_setup", kForward);
    const std::string message = error_of(script_options(path));
    CHECK_THAT(message, Contains("no_setup.pt has no method setup(); expected setup(self, "
                                 "class_counts: Tensor, params: Dict[str, float]) -> None"));
    CHECK_THAT(message, Contains("@torch.jit.export"));
    CHECK_THAT(error_of(script_options(scripted("no_forward", kSetup))),
               Contains("no_forward.pt has no method forward()"));
  }
  SECTION("a method with the wrong signature") {
    const std::string path = scripted("int_params", std::string(kForward) + R"(
def setup(self, class_counts: Tensor, params: Dict[str, int]) -> None:
    pass
)");
    const std::string message = error_of(script_options(path));
    CHECK_THAT(message, Contains("int_params.pt: setup has the signature "));
    CHECK_THAT(message, Contains("Dict(str, int) params"));
    CHECK_THAT(message, Contains("; expected setup(self, class_counts: Tensor, params: "
                                 "Dict[str, float]) -> None"));
    const std::string one_arg = scripted("one_arg", std::string(kSetup) + R"(
def forward(self, logits: Tensor) -> Tensor:
    return logits.sum()
)");
    CHECK_THAT(error_of(script_options(one_arg)),
               Contains("one_arg.pt: forward has the signature"));
  }
  SECTION("a trainable parameter") {
    const std::string path = scripted("learned", std::string(kSetup) + kForward, true);
    CHECK_THAT(error_of(script_options(path)),
               Contains("learned.pt: parameter 'temperature' is trainable, but nothing "
                        "optimises a scripted loss's parameters; fix: make it a constant with "
                        "self.register_buffer(\"temperature\", tensor)"));
  }
}

TEST_CASE("torchscript_loss checks param_names and param_values", "[torchscript_loss]") {
  TorchScriptLoss::Options o = script_options(scripted("params", std::string(kSetup) + kForward));
  o.param_names = {"scale", "shift"};
  o.param_values = {1.0};
  CHECK_THAT(error_of(o), Contains("param_names has 2 names but param_values has 1 values; fix: "
                                   "give one value per name"));
  o.param_names = {"scale", "scale"};
  o.param_values = {1.0, 2.0};
  CHECK_THAT(error_of(o), Contains("param_names names 'scale' twice"));
  o.param_names = {""};
  o.param_values = {1.0};
  CHECK_THAT(error_of(o), Contains("param_names[0] is empty"));
  // Types are the host's business: a string among the values is refused with its position.
  CHECK_THROWS_WITH(tailor::testing::options<TorchScriptLoss::Options>(
                        "script = \"a.pt\"\nparam_names = [\"scale\"]\nparam_values = [\"2\"]"),
                    Contains("exp.toml:3:17"));
  const auto read = tailor::testing::options<TorchScriptLoss::Options>(
      "script = \"a.pt\"\nparam_names = [\"gamma\", \"tau\"]\nparam_values = [0.2, 1]");
  CHECK(read.param_names == std::vector<std::string>{"gamma", "tau"});
  CHECK(read.param_values == std::vector<double>{0.2, 1.0});
}

TEST_CASE("torchscript_loss checks what forward returns", "[torchscript_loss]") {
  const at::Tensor z = at::randn({4, 3}).set_requires_grad(true);
  const auto returning = [](const std::string& name, const std::string& body) {
    return TorchScriptLoss(
        script_options(scripted(name, std::string(kSetup) +
                                          "\ndef forward(self, logits: Tensor, targets: Tensor) "
                                          "-> Tensor:\n    " +
                                          body + "\n")),
        loss_context({50, 10, 2}));
  };
  SECTION("per-sample losses instead of a scalar") {
    auto loss = returning("per_sample", "return -torch.log_softmax(logits, 1)[:, 0]");
    CHECK_THAT(forward_error(loss, {z, kTargets}),
               Contains("per_sample.pt: forward() returned a tensor of shape [4], expected a "
                        "scalar (shape []); fix: reduce over the batch"));
  }
  SECTION("another dtype") {
    auto loss = returning("float64", "return logits.sum().double()");
    CHECK_THAT(forward_error(loss, {z, kTargets}),
               Contains("float64.pt: forward() returned Double for Float logits; fix: compute "
                        "in the dtype of the logits"));
  }
  SECTION("a value without a gradient") {
    auto loss = returning("detached", "return logits.detach().sum()");
    CHECK_THAT(forward_error(loss, {z, kTargets}),
               Contains("detached.pt: forward() returned a loss that does not depend on the "
                        "logits"));
    // Under no_grad (evaluation) a value without a gradient is expected.
    at::NoGradGuard no_grad;
    CHECK(loss.forward({z, kTargets}).item<double>() == Approx(z.sum().item<double>()));
  }
  SECTION("an exception raised in forward") {
    auto loss = returning("raises",
                          "assert bool(logits.sum() > 1.0e9), \"logits look wrong\"\n"
                          "    return logits.sum()");
    const std::string message = forward_error(loss, {z, kTargets});
    CHECK_THAT(message, Contains("raises.pt: forward() failed: RuntimeError: AssertionError: "
                                 "logits look wrong\nTorchScript traceback:\n"));
    CHECK_THAT(message, Contains("fix: correct the script's forward()"));
  }
  SECTION("an operator error inside forward") {
    auto loss = returning("bad_op", "return logits.view(7, -1).sum()");
    const std::string message = forward_error(loss, {z, kTargets});
    CHECK_THAT(message, Contains("bad_op.pt: forward() failed: "));
    CHECK_THAT(message, Contains("is invalid for input of size 12"));
  }
  SECTION("logits of the wrong width never reach the script") {
    auto loss = returning("width", "return logits.sum()");
    CHECK_THAT(forward_error(loss, {at::zeros({4, 5}), kTargets}),
               Contains("torchscript_loss: logits must be [N, 3], got [4, 5]"));
  }
}

TEST_CASE("torchscript_loss state restores buffers and pins the script", "[torchscript_loss]") {
  const std::string path = scripted("stateful", std::string(kSetup) + kForward);
  TorchScriptLoss::Options o = script_options(path);
  o.param_names = {"scale"};
  o.param_values = {3.0};
  TorchScriptLoss trained(o, loss_context({50, 10, 2}));
  const auto state = trained.state();
  CHECK(static_cast<uint64_t>(state[0].second.item<int64_t>()) == trained.fingerprint());

  o.param_values = {1.0};
  TorchScriptLoss resumed(o, loss_context({50, 10, 2}));
  const at::Tensor z = at::randn({4, 3});
  CHECK(resumed.forward({z, kTargets}).item<double>() !=
        Approx(trained.forward({z, kTargets}).item<double>()));
  resumed.load_state(state);
  CHECK(resumed.forward({z, kTargets}).item<double>() ==
        trained.forward({z, kTargets}).item<double>());

  SECTION("a changed script file is refused") {
    const std::string copy = (scratch() / "edited.pt").string();
    scripted("edited",
             std::string(kSetup) + kForward + "\ndef unused(self) -> int:\n    return 1\n");
    TorchScriptLoss edited(script_options(copy), loss_context({50, 10, 2}));
    CHECK_THROWS_WITH(edited.load_state(state),
                      Contains("edited.pt is not the script this run was checkpointed with "
                               "(fingerprint ") &&
                          Contains("fix: restore the script the run started with"));
  }
  SECTION("a state of another loss is refused") {
    CHECK_THROWS_WITH(resumed.load_state({{"epsilon", at::zeros({3})}}),
                      Contains("the checkpoint has no script fingerprint"));
  }
  SECTION("buffers that do not fit are refused") {
    auto other = state;
    other[1].second = at::zeros({5}, at::kLong);
    CHECK_THROWS_WITH(resumed.load_state(other),
                      Contains("the checkpoint's buffer 'counts' is of another shape"));
    other = state;
    other.emplace_back("buffer.extra", at::zeros({1}));
    CHECK_THROWS_WITH(resumed.load_state(other), Contains("the checkpoint holds 'buffer.extra'"));
  }
}

TEST_CASE("torchscript_loss README parameter table matches the options schema",
          "[torchscript_loss]") {
  tailor::testing::check_readme_matches_schema(PLUGIN_README,
                                               tailor::schema_of<TorchScriptLoss::Options>());
}
