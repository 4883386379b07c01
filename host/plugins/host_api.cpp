// host/plugins/host_api.cpp - implementation of the TailorHostApi table.
#include "plugins/host_api.hpp"

#include "dist/collective.hpp"

#include <tailor/payload.hpp>
#include <tailor/version.hpp>

#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>

#define TAILOR_STRINGIFY_(x) #x
#define TAILOR_STRINGIFY(x) TAILOR_STRINGIFY_(x)

namespace tailor::host {
namespace {

TensorDict& dict_of(TailorTensorDict d) { return *reinterpret_cast<TensorDict*>(d); }

std::atomic<Collective*> g_collective{nullptr};

int32_t api_world_size() {
  Collective* c = g_collective.load();
  return c != nullptr ? c->world_size() : 1;
}

TailorStatus api_all_reduce_sum(TailorTensor t, TailorError* err) {
  Collective* c = g_collective.load();
  if (c == nullptr) return TAILOR_OK;
  try {
    c->all_reduce_sum({payload::tensor(t)});
    return TAILOR_OK;
  } catch (const std::exception& e) {
    if (err != nullptr) {
      err->code = TAILOR_ERR_RUNTIME;
      std::snprintf(err->message, sizeof err->message, "all_reduce_sum failed: %s", e.what());
    }
    return TAILOR_ERR_RUNTIME;
  }
}

void api_log(int32_t level, const char* plugin, const char* message) {
  const char* who = plugin != nullptr ? plugin : "?";
  const char* text = message != nullptr ? message : "";
  switch (level) {
    case TAILOR_LOG_DEBUG: spdlog::debug("[{}] {}", who, text); break;
    case TAILOR_LOG_WARN: spdlog::warn("[{}] {}", who, text); break;
    case TAILOR_LOG_ERROR: spdlog::error("[{}] {}", who, text); break;
    default: spdlog::info("[{}] {}", who, text); break;
  }
}

void api_dict_set(TailorTensorDict d, const char* name, TailorTensor t) {
  auto& items = dict_of(d).items;
  const at::Tensor& value = payload::tensor(t);
  for (auto& [key, existing] : items) {
    if (key == name) {
      existing = value;
      return;
    }
  }
  items.emplace_back(name, value);
}

size_t api_dict_size(TailorTensorDict d) { return dict_of(d).items.size(); }

const char* api_dict_name(TailorTensorDict d, size_t i) {
  auto& items = dict_of(d).items;
  return i < items.size() ? items[i].first.c_str() : nullptr;
}

TailorTensor api_dict_at(TailorTensorDict d, size_t i) {
  auto& items = dict_of(d).items;
  return i < items.size() ? payload::handle(items[i].second) : nullptr;
}

TailorTensor api_dict_find(TailorTensorDict d, const char* name) {
  for (auto& [key, value] : dict_of(d).items)
    if (key == name) return payload::handle(value);
  return nullptr;
}

const TailorHostApi kApi = {sizeof(TailorHostApi), &api_log,        &api_dict_set,
                            &api_dict_size,        &api_dict_name,  &api_dict_at,
                            &api_dict_find,        &api_world_size, &api_all_reduce_sum};

const TailorBuildFingerprint kFingerprint = TAILOR_BUILD_FINGERPRINT_INIT;

const TailorHostInfo kInfo = {sizeof(TailorHostInfo), TAILOR_ABI_MAJOR, TAILOR_ABI_MINOR,
                              &kFingerprint, &kApi};

}  // namespace

const TailorHostApi* host_api() { return &kApi; }
void set_host_collective(Collective* collective) { g_collective.store(collective); }
const TailorHostInfo* host_info() { return &kInfo; }
const TailorBuildFingerprint& host_fingerprint() { return kFingerprint; }
const char* host_fingerprint_marker() { return TAILOR_STRINGIFY(TAILOR_FINGERPRINT_MARKER); }

}  // namespace tailor::host
