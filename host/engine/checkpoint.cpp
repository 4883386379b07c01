// host/engine/checkpoint.cpp - checkpoints as torch archives with a JSON header.
#include "engine/checkpoint.hpp"

#include "engine/optim.hpp"

#include <torch/serialize.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <cstdio>
#include <sstream>

namespace fs = std::filesystem;

namespace tailor::host {
namespace {

// Archive keys may not contain dots, so tensors are stored by position and their names
// in the JSON header.
void write_group(torch::serialize::OutputArchive& archive, nlohmann::json& names,
                 const std::string& group, const NamedTensors& tensors) {
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < tensors.size(); ++i) {
    list.push_back(tensors[i].first);
    archive.write(group + "_" + std::to_string(i), tensors[i].second.detach().cpu());
  }
  names[group] = list;
}

NamedTensors read_group(torch::serialize::InputArchive& archive, const nlohmann::json& names,
                        const std::string& group) {
  NamedTensors out;
  const auto& list = names.at(group);
  for (size_t i = 0; i < list.size(); ++i) {
    at::Tensor t;
    archive.read(group + "_" + std::to_string(i), t);
    out.emplace_back(list[i].get<std::string>(), t);
  }
  return out;
}

at::Tensor bytes_tensor(const std::string& s) {
  return at::from_blob(const_cast<char*>(s.data()), {static_cast<int64_t>(s.size())}, at::kByte).clone();
}

std::string tensor_bytes(const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  return std::string(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()), c.numel());
}

}  // namespace

void save_checkpoint(const fs::path& path, const Checkpoint& c) {
  torch::serialize::OutputArchive archive;
  nlohmann::json names;
  write_group(archive, names, "model", c.model);
  write_group(archive, names, "loss", c.loss);
  write_group(archive, names, "rng", c.rng);
  nlohmann::json header = {{"format", "tailor-checkpoint-1"}, {"names", names}, {"meta", c.meta}};
  archive.write("header", bytes_tensor(header.dump()));
  archive.write("optimizer", bytes_tensor(c.optimizer));
  const fs::path tmp = path.string() + ".tmp";
  archive.save_to(tmp.string());
  fs::rename(tmp, path);
}

Checkpoint load_checkpoint(const fs::path& path) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path.string());
  } catch (const std::exception& e) {
    throw Error("cannot read checkpoint " + path.string() + " (" + e.what() +
                "); it is corrupt or not a tailor checkpoint");
  }
  at::Tensor header_bytes, optimizer_bytes;
  archive.read("header", header_bytes);
  archive.read("optimizer", optimizer_bytes);
  const nlohmann::json header = nlohmann::json::parse(tensor_bytes(header_bytes));
  TAILOR_CHECK(header.value("format", "") == "tailor-checkpoint-1", "checkpoint ", path.string(),
               " has an unknown format");
  Checkpoint c;
  c.model = read_group(archive, header.at("names"), "model");
  c.loss = read_group(archive, header.at("names"), "loss");
  c.rng = read_group(archive, header.at("names"), "rng");
  c.meta = header.at("meta");
  c.optimizer = tensor_bytes(optimizer_bytes);
  return c;
}

std::string optimizer_state(Optimizer& optimizer) {
  torch::serialize::OutputArchive archive;
  optimizer.impl().save(archive);
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

void load_optimizer_state(Optimizer& optimizer, const std::string& state) {
  if (state.empty()) return;
  std::istringstream in(state);
  torch::serialize::InputArchive archive;
  archive.load_from(in);
  optimizer.impl().load(archive);
}

}  // namespace tailor::host
