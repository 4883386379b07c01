// host/engine/checkpoint.cpp - checkpoints as torch archives with a JSON header, framed
// with a checksum.
#include "engine/checkpoint.hpp"

#include "engine/checkpoint_file.hpp"
#include "engine/optim.hpp"
#include "report/run_dir.hpp"

#include <torch/serialize.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
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
  nlohmann::json changes = nlohmann::json::array();
  for (const auto& change : c.config_changes) changes.push_back(to_json(change));
  nlohmann::json header = {{"format", "tailor-checkpoint-2"},
                           {"names", names},
                           {"meta", c.meta},
                           {"config_sha256", c.config_sha256},
                           {"config_changes", changes}};
  archive.write("header", bytes_tensor(header.dump()));
  archive.write("optimizer", bytes_tensor(c.optimizer));
  // Serialised in memory: a failing write then surfaces here as an error, not from the
  // archive writer's destructor (which would terminate the process).
  std::string file = begin_frame();
  archive.save_to([&file](const void* data, size_t size) {
    file.append(static_cast<const char*>(data), size);
    return size;
  });
  seal_frame(file);
  try {
    write_file_atomic(path, file);
  } catch (const std::exception& e) {
    const bool kept = fs::exists(path);
    throw std::runtime_error(std::string(e.what()) + "; " +
                             (kept ? "the previous " + path.filename().string() + " is kept"
                                   : "no " + path.filename().string() + " was written") +
                             ". Free disk space (or fix the permissions of " +
                             path.parent_path().string() +
                             "), then continue with `tailor run --resume " +
                             path.parent_path().parent_path().string() + "`");
  }
}

Checkpoint read_checkpoint(std::string_view bytes, const std::string& name) {
  const std::string_view payload = open_frame(bytes, name);
  // The payload is verified; an error below is a checkpoint this build cannot interpret.
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(payload.data(), payload.size());
    at::Tensor header_bytes, optimizer_bytes;
    archive.read("header", header_bytes);
    archive.read("optimizer", optimizer_bytes);
    const nlohmann::json header = nlohmann::json::parse(tensor_bytes(header_bytes));
    if (header.value("format", "") != "tailor-checkpoint-2")
      throw Error("unknown format '" + header.value("format", "") + "'");
    Checkpoint c;
    c.model = read_group(archive, header.at("names"), "model");
    c.loss = read_group(archive, header.at("names"), "loss");
    c.rng = read_group(archive, header.at("names"), "rng");
    c.meta = header.at("meta");
    c.optimizer = tensor_bytes(optimizer_bytes);
    c.config_sha256 = header.at("config_sha256").get<std::string>();
    for (const auto& j : header.at("config_changes")) {
      ConfigChange change;
      change.from_sha256 = j.at("from_sha256").get<std::string>();
      change.to_sha256 = j.at("to_sha256").get<std::string>();
      change.checkpoint = j.at("checkpoint").get<std::string>();
      change.completed = j.at("completed").get<int64_t>();
      change.time = j.at("time").get<std::string>();
      c.config_changes.push_back(std::move(change));
    }
    return c;
  } catch (const c10::Error& e) {
    throw Error("checkpoint " + name + " passed its checksum but cannot be read by this tailor (" +
                e.what_without_backtrace() + ")");
  } catch (const std::exception& e) {
    throw Error("checkpoint " + name + " passed its checksum but cannot be read by this tailor (" +
                e.what() + ")");
  }
}

Checkpoint load_checkpoint(const fs::path& path) {
  const std::string name = path.string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw Error("cannot read checkpoint " + name + ": " + std::strerror(err) +
                (err == EACCES ? " (make it readable: chmod u+r " + name + ")" : ""));
  }
  std::string bytes;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) bytes.reserve(static_cast<size_t>(st.st_size));
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      ::close(fd);
      throw Error("cannot read checkpoint " + name + ": " + why);
    }
    bytes.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return read_checkpoint(bytes, name);
}

nlohmann::json to_json(const ConfigChange& change) {
  return {{"from_sha256", change.from_sha256},
          {"to_sha256", change.to_sha256},
          {"checkpoint", change.checkpoint},
          {"completed", change.completed},
          {"time", change.time}};
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
