// backbones/common/weights.cpp
#include "weights.hpp"

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <torch/utils.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

namespace tailor::plugins {
namespace {

namespace fs = std::filesystem;

std::string shape_text(at::IntArrayRef sizes) {
  std::string s = "[";
  for (size_t i = 0; i < sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
  return s + "]";
}

std::string first_of(const std::vector<std::string>& items, size_t limit = 5) {
  std::string s;
  for (size_t i = 0; i < items.size() && i < limit; ++i) s += (i ? "; " : "") + items[i];
  if (items.size() > limit) s += "; ...";
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Releases such as torchvision's or 3D-ResNets' are pickles of PyTorch < 1.6, or an
// OrderedDict inside a dict; LibTorch reads neither, and one re-save fixes both.
constexpr const char* kResave =
    "re-save it as a plain dict: python3 -c \"import torch; sd = torch.load('IN', "
    "map_location='cpu'); torch.save(dict(sd.get('state_dict', sd)), 'OUT')\" and set "
    "[backbone] pretrained = 'OUT'";

}  // namespace

NamedTensors read_weight_file(const std::string& path, const std::string& plugin) {
  const std::string who = plugin + ": [backbone] pretrained = " + path;
  std::error_code ec;
  TAILOR_CHECK(fs::is_regular_file(path, ec), who,
               ": pretrained weights not found; set it to an existing weight file, or \"\" to "
               "train from scratch");
  std::ifstream file(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  TAILOR_CHECK(file.good() || file.eof(), who, ": cannot read the file");
  // torch.save has written zip archives since PyTorch 1.6; LibTorch reads only those.
  TAILOR_CHECK(bytes.size() >= 4 && std::memcmp(bytes.data(), "PK\x03\x04", 4) == 0, who,
               " is not a PyTorch zip archive (saved by PyTorch < 1.6 or with "
               "_use_new_zipfile_serialization=False?); ",
               kResave);

  NamedTensors out;
  bool torchscript = false, has_ordered_dict = false;
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    torchscript = reader.hasRecord("constants.pkl");
    if (!torchscript && reader.hasRecord("data.pkl")) {
      const auto [data, size] = reader.getRecord("data.pkl");
      // Protocol-2 header, then GLOBAL 'collections OrderedDict' when the top-level object is
      // one (every tensor also pickles an empty OrderedDict of hooks, so only the start counts).
      const std::string pickle(static_cast<const char*>(data.get()), size);
      has_ordered_dict = pickle.compare(0, 27,
                                        "\x80\x02"
                                        "ccollections\nOrderedDict\n") == 0;
    }
  } catch (const c10::Error& e) {
    TAILOR_CHECK(false, who, " is not a readable PyTorch archive: ", e.what_without_backtrace());
  }
  if (torchscript) {
    torch::jit::Module m = torch::jit::load(path, torch::kCPU);
    for (const auto& p : m.named_parameters(/*recurse=*/true)) out.emplace_back(p.name, p.value);
    for (const auto& b : m.named_buffers(/*recurse=*/true)) out.emplace_back(b.name, b.value);
    return out;
  }
  // LibTorch's unpickler turns a collections.OrderedDict (what model.state_dict() is) into
  // None and then fails on its items; recognise it up front to say what to do.
  TAILOR_CHECK(!has_ordered_dict, who,
               " holds a collections.OrderedDict (torch.save(model.state_dict()) writes one), "
               "which LibTorch cannot unpickle; ",
               kResave);
  c10::IValue value;
  try {
    value = torch::pickle_load(bytes);
  } catch (const c10::Error& e) {
    TAILOR_CHECK(false, who, ": cannot unpickle: ", e.what_without_backtrace(), "; ", kResave);
  }
  TAILOR_CHECK(value.isGenericDict(), who, " holds a ", value.tagKind(),
               ", expected a dict of name -> tensor; ", kResave);
  for (const auto& item : value.toGenericDict()) {
    TAILOR_CHECK(item.key().isString(), who, " has a key of type ", item.key().tagKind(),
                 "; expected parameter names (strings)");
    const std::string& name = item.key().toStringRef();
    TAILOR_CHECK(item.value().isTensor(), who, " maps '", name, "' to a ", item.value().tagKind(),
                 ", expected a tensor; ", kResave);
    out.emplace_back(name, item.value().toTensor());
  }
  return out;
}

void load_weights(torch::nn::Module& module, const NamedTensors& tensors, const std::string& path,
                  const std::string& plugin, const std::string& fix) {
  std::map<std::string, at::Tensor> targets;
  for (const auto& item : module.named_parameters(/*recurse=*/true))
    targets[item.key()] = item.value();
  for (const auto& item : module.named_buffers(/*recurse=*/true))
    targets[item.key()] = item.value();

  std::map<std::string, at::Tensor> source;
  for (const auto& [raw, tensor] : tensors) {
    const std::string name = raw.rfind("module.", 0) == 0 ? raw.substr(7) : raw;
    if (name.rfind("fc.", 0) == 0) continue;
    source[name] = tensor;
  }
  std::vector<std::string> unexpected, missing, mismatched;
  for (const auto& [name, tensor] : source) {
    const auto it = targets.find(name);
    if (it == targets.end())
      unexpected.push_back(name);
    else if (tensor.sizes() != it->second.sizes())
      mismatched.push_back(name + ": file " + shape_text(tensor.sizes()) + ", model " +
                           shape_text(it->second.sizes()));
  }
  for (const auto& [name, tensor] : targets)
    if (source.count(name) == 0 && !ends_with(name, ".num_batches_tracked"))
      missing.push_back(name);
  if (!mismatched.empty() || !missing.empty() || !unexpected.empty()) {
    std::string report;
    auto add = [&](const std::vector<std::string>& items, const char* label) {
      if (items.empty()) return;
      report += "\n  " + std::to_string(items.size()) + " " + label + ": " + first_of(items);
    };
    add(mismatched, "with a different shape");
    add(missing, "missing from the file");
    add(unexpected, "not in the model");
    TAILOR_CHECK(false, plugin, ": [backbone] pretrained = ", path,
                 " does not fit this network:", report, "\n", fix,
                 " ('module.' prefixes and 'fc.*' are ignored)");
  }
  torch::NoGradGuard no_grad;
  for (const auto& [name, tensor] : source) targets[name].copy_(tensor);
}

}  // namespace tailor::plugins
