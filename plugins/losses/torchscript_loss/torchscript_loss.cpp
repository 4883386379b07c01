// torchscript_loss: a loss written in Python, saved with torch.jit.script, run through LibTorch.
#include "torchscript_loss.hpp"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/version.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <utility>

namespace tailor::plugins {

namespace {

namespace fs = std::filesystem;

constexpr const char* kSetup =
    "setup(self, class_counts: Tensor, params: Dict[str, float]) -> None";
constexpr const char* kForward = "forward(self, logits: Tensor, targets: Tensor) -> Tensor";
constexpr const char* kAdjust = "adjust_logits(self, logits: Tensor) -> Tensor";

uint64_t fnv1a(const std::string& bytes) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// The message of an exception, without LibTorch's C++ backtrace.
std::string message_of(const std::exception& e) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e))
    return c10_error->what_without_backtrace();
  return e.what();
}

// The last non-empty line: for an error raised inside TorchScript, the Python exception
// ("builtins.ValueError: ...") after the interpreter's traceback.
std::string last_line(const std::string& text) {
  std::istringstream lines(text);
  std::string last;
  for (std::string line; std::getline(lines, line);)
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  return last;
}

std::string with_traceback(const std::string& message) {
  const std::string cause = last_line(message);
  if (cause == message || cause + "\n" == message) return cause;
  return cause + "\nTorchScript traceback:\n" + message;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TAILOR_CHECK(in.good(), "torchscript_loss: cannot open the script file '", path,
               "'; fix: make it readable");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Checks that `module` has `name` with the argument annotations `args` (after self) and, when
// `ret` is not empty, that return annotation.
void check_signature(const torch::jit::Module& module, const std::string& file, const char* name,
                     const std::vector<std::string>& args, const std::string& ret,
                     const char* expected) {
  const auto method = module.find_method(name);
  TAILOR_CHECK(method.has_value(), "torchscript_loss: ", file, " has no method ", name,
               "(); expected ", expected,
               "; fix: define it in the module's class (mark a method other than forward with "
               "@torch.jit.export so that torch.jit.script keeps it) and save the module again");
  const c10::FunctionSchema& schema = method->function().getSchema();
  const auto& found = schema.arguments();
  bool ok = found.size() == args.size() + 1;
  for (size_t i = 0; ok && i < args.size(); ++i)
    ok = found[i + 1].type()->annotation_str() == args[i];
  if (ok && !ret.empty())
    ok = schema.returns().size() == 1 && schema.returns()[0].type()->annotation_str() == ret;
  std::ostringstream actual;
  actual << schema;
  TAILOR_CHECK(ok, "torchscript_loss: ", file, ": ", name, " has the signature ", actual.str(),
               "; expected ", expected,
               "; fix: annotate the arguments and the return type "
               "as shown and save the module again");
}

}  // namespace

std::string TorchScriptLoss::where(const char* method) const {
  return "torchscript_loss: " + path_ + ": " + method + "()";
}

TorchScriptLoss::TorchScriptLoss(const Options& options, const LossContext& context)
    : path_(options.script), num_classes_(context.num_classes) {
  TAILOR_CHECK(static_cast<int64_t>(context.class_counts.size()) == context.num_classes &&
                   context.num_classes > 0,
               "torchscript_loss: got ", context.class_counts.size(), " class counts for ",
               context.num_classes, " classes");
  TAILOR_CHECK(!path_.empty(),
               "torchscript_loss: [loss] script is not set; fix: set script = \"my_loss.pt\", "
               "a file written by torch.jit.script(MyLoss()).save(\"my_loss.pt\")");
  std::error_code ec;
  TAILOR_CHECK(fs::is_regular_file(path_, ec), "torchscript_loss: the script file '", path_,
               "' does not exist (relative paths are relative to the working directory ",
               fs::current_path(ec).string(),
               "); fix: set [loss] script to the file torch.jit.script(...).save() wrote");
  TAILOR_CHECK(options.param_names.size() == options.param_values.size(),
               "torchscript_loss: param_names has ", options.param_names.size(),
               " names but param_values has ", options.param_values.size(),
               " values; fix: give one value per name, in the same order");
  c10::Dict<std::string, double> params;
  for (size_t i = 0; i < options.param_names.size(); ++i) {
    const std::string& name = options.param_names[i];
    TAILOR_CHECK(!name.empty(), "torchscript_loss: param_names[", i,
                 "] is empty; fix: name every parameter");
    TAILOR_CHECK(!params.contains(name), "torchscript_loss: param_names names '", name,
                 "' twice; fix: give each parameter once");
    params.insert(name, options.param_values[i]);
  }

  // Load from the bytes that were fingerprinted, so the fingerprint is of what runs.
  const std::string bytes = read_file(path_);
  fingerprint_ = fnv1a(bytes);
  try {
    std::istringstream in(bytes);
    module_ = torch::jit::load(in, context.device);
  } catch (const std::exception& e) {
    throw Error("torchscript_loss: '" + path_ + "' is not a TorchScript file this LibTorch (" +
                TORCH_VERSION + ") can load: " + last_line(message_of(e)) +
                "; fix: save the module with torch.jit.script(MyLoss()).save(path) from "
                "Python torch of the same major.minor version (torch.save() writes a pickle, "
                "not TorchScript)");
  }
  check_signature(module_, path_, "setup", {"Tensor", "Dict[str, float]"}, "NoneType", kSetup);
  check_signature(module_, path_, "forward", {"Tensor", "Tensor"}, "Tensor", kForward);
  if (module_.find_method("adjust_logits")) {
    check_signature(module_, path_, "adjust_logits", {"Tensor"}, "Tensor", kAdjust);
    has_adjust_logits_ = true;
  }
  for (const auto& p : module_.named_parameters(/*recurse=*/true))
    TAILOR_CHECK(!p.value.requires_grad(), "torchscript_loss: ", path_, ": parameter '", p.name,
                 "' is trainable, but nothing optimises a scripted loss's parameters; fix: "
                 "make it a constant with self.register_buffer(\"",
                 p.name, "\", tensor) or requires_grad=False");

  const at::Tensor counts = at::tensor(context.class_counts, at::kLong).to(context.device);
  try {
    at::NoGradGuard no_grad;  // setup() computes constants
    module_.get_method("setup")({counts, params});
  } catch (const std::exception& e) {
    throw Error(where("setup") + " failed: " + with_traceback(message_of(e)) +
                "\nfix: pass the parameters the script expects (param_names, param_values) or "
                "correct its setup() and save it again");
  }
}

at::Tensor TorchScriptLoss::forward(const LossInput& in) {
  const at::Tensor& z = in.logits;
  TAILOR_CHECK(z.dim() == 2 && z.size(1) == num_classes_, "torchscript_loss: logits must be [N, ",
               num_classes_, "], got ", z.sizes());
  c10::IValue out;
  try {
    out = module_.forward({z, in.targets});
  } catch (const std::exception& e) {
    throw Error(where("forward") + " failed: " + with_traceback(message_of(e)) +
                "\nfix: correct the script's forward() (the traceback names the line) and "
                "save it again");
  }
  TAILOR_CHECK(out.isTensor(), where("forward"), " returned a ", out.tagKind(),
               ", expected a Tensor; fix: return the loss as a 0-dim tensor");
  at::Tensor loss = out.toTensor();
  TAILOR_CHECK(loss.dim() == 0, where("forward"), " returned a tensor of shape ", loss.sizes(),
               ", expected a scalar (shape []); fix: reduce over the batch, e.g. return "
               "per_sample.mean()");
  TAILOR_CHECK(loss.scalar_type() == z.scalar_type(), where("forward"), " returned ",
               loss.scalar_type(), " for ", z.scalar_type(),
               " logits; fix: compute in the dtype of the logits, e.g. cast constants with "
               ".to(logits.dtype)");
  TAILOR_CHECK(loss.device() == z.device(), where("forward"), " returned a tensor on ",
               loss.device(), " for logits on ", z.device(),
               "; fix: create constants on class_counts.device in setup() or move them with "
               ".to(logits.device)");
  if (z.requires_grad() && at::GradMode::is_enabled())
    TAILOR_CHECK(loss.requires_grad(), where("forward"),
                 " returned a loss that does not depend on the logits, so no gradient reaches "
                 "the model; fix: build it from the logits with tensor operations (no "
                 ".detach(), .item() or torch.tensor() of an intermediate result)");
  return loss;
}

at::Tensor TorchScriptLoss::adjust_logits(const at::Tensor& logits) const {
  if (!has_adjust_logits_) return logits;
  c10::IValue out;
  try {
    out = module_.get_method("adjust_logits")({logits});
  } catch (const std::exception& e) {
    throw Error(where("adjust_logits") + " failed: " + with_traceback(message_of(e)) +
                "\nfix: correct the script's adjust_logits() and save it again");
  }
  TAILOR_CHECK(out.isTensor() && out.toTensor().sizes() == logits.sizes() &&
                   out.toTensor().scalar_type() == logits.scalar_type() &&
                   out.toTensor().device() == logits.device(),
               where("adjust_logits"), " must return a tensor of the logits' shape ",
               logits.sizes(), ", dtype ", logits.scalar_type(), " and device ", logits.device(),
               "; fix: return the adjusted logits, e.g. logits - self.offsets.to(logits.dtype)");
  return out.toTensor();
}

NamedTensors TorchScriptLoss::state() const {
  NamedTensors out;
  out.emplace_back("script_fingerprint",
                   at::tensor(std::vector<int64_t>{static_cast<int64_t>(fingerprint_)}));
  for (const auto& b : module_.named_buffers(/*recurse=*/true))
    out.emplace_back("buffer." + b.name, b.value.detach().clone());
  return out;
}

void TorchScriptLoss::load_state(const NamedTensors& state) {
  const auto find = [&](const std::string& name) -> const at::Tensor* {
    for (const auto& [key, t] : state)
      if (key == name) return &t;
    return nullptr;
  };
  const at::Tensor* saved = find("script_fingerprint");
  TAILOR_CHECK(saved != nullptr && saved->numel() == 1,
               "torchscript_loss: the checkpoint has no script fingerprint; was it written by "
               "another loss? fix: resume with the loss the run was started with");
  const auto saved_fingerprint = static_cast<uint64_t>(saved->to(at::kCPU).item<int64_t>());
  TAILOR_CHECK(saved_fingerprint == fingerprint_, "torchscript_loss: ", path_,
               " is not the script this run was checkpointed with (fingerprint ",
               hex(saved_fingerprint), ", the file now ", hex(fingerprint_),
               "); fix: restore the script the run started with, or start a new run");
  std::set<std::string> restored;
  at::NoGradGuard no_grad;
  for (const auto& b : module_.named_buffers(/*recurse=*/true)) {
    const std::string key = "buffer." + b.name;
    const at::Tensor* t = find(key);
    TAILOR_CHECK(t != nullptr && t->sizes() == b.value.sizes(), "torchscript_loss: ", path_,
                 ": the checkpoint's buffer '", b.name, "' is ",
                 t != nullptr ? "of another shape" : "missing",
                 "; fix: resume with the experiment (class counts, param_names, param_values) "
                 "the run was started with");
    b.value.copy_(*t);
    restored.insert(key);
  }
  for (const auto& [key, t] : state)
    TAILOR_CHECK(key == "script_fingerprint" || restored.count(key) != 0,
                 "torchscript_loss: ", path_, ": the checkpoint holds '", key,
                 "', which the script does not have; fix: resume with the script and "
                 "experiment the run was started with");
}

}  // namespace tailor::plugins
