// host/dist/collective.cpp - TCPStore rendezvous, Gloo (and NCCL) groups, heartbeats.
#include "dist/collective.hpp"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef TAILOR_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <ATen/ATen.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace tailor::host {
namespace {

using namespace std::chrono_literals;

constexpr auto kHeartbeatPeriod = 500ms;

bool loopback(const std::string& addr) {
  return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1";
}

c10::intrusive_ptr<c10d::TCPStore> store_client(const DistEnv& env,
                                                std::chrono::milliseconds timeout) {
  c10d::TCPStoreOptions o;
  o.port = static_cast<std::uint16_t>(env.master_port);
  o.isServer = false;
  o.waitWorkers = false;
  o.timeout = timeout;
  return c10::make_intrusive<c10d::TCPStore>(env.master_addr, o);
}

std::string key_of(const DistEnv& env, int rank) {
  return env.agent_store_prefix + "tailor/heartbeat/" + std::to_string(rank);
}

}  // namespace

// Every rank bumps its counter in the store twice a second from a thread of its own (with its
// own connection), so that after a failed collective the survivors can tell which rank died.
struct Collective::Heartbeat {
  std::mutex mutex;
  std::condition_variable wake;
  bool stop = false;
  std::thread thread;

  Heartbeat(const DistEnv& env, std::chrono::milliseconds timeout) {
    auto store = store_client(env, timeout);
    thread = std::thread([this, store, key = key_of(env, env.rank)] {
      std::unique_lock<std::mutex> lock(mutex);
      while (!stop) {
        try {
          store->add(key, 1);
        } catch (const std::exception&) {
          return;  // the store is gone (rank 0 died): the next collective reports it
        }
        wake.wait_for(lock, kHeartbeatPeriod, [this] { return stop; });
      }
    });
  }
  ~Heartbeat() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop = true;
    }
    wake.notify_all();
    thread.join();
  }
};

std::unique_ptr<Collective> Collective::connect(const DistEnv& env,
                                                std::chrono::milliseconds timeout,
                                                c10::Device device) {
  std::unique_ptr<Collective> c(new Collective(env));
  c->timeout_ = timeout;
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  c10d::TCPStoreOptions o;
  o.port = static_cast<std::uint16_t>(env.master_port);
  const bool agent_store = !env.agent_store_prefix.empty();
  o.isServer = env.rank == 0 && !agent_store;
  o.numWorkers = static_cast<size_t>(env.world_size);
  o.waitWorkers = !agent_store;
  o.timeout = timeout;
  try {
    c->store_ = c10::make_intrusive<c10d::TCPStore>(env.master_addr, o);
    if (agent_store)
      c->store_ = c10::make_intrusive<c10d::PrefixStore>(env.agent_store_prefix, c->store_);
  } catch (const std::exception& e) {
    const std::string what = e.what();
    const std::string first_line = what.substr(0, what.find('\n'));
    throw std::runtime_error(
        "rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) +
        ": cannot rendezvous at " + where + " (" + first_line + "). " +
        (env.rank == 0 ? "Rank 0 hosts the rendezvous there: is the port in use by another job "
                         "(choose a free MASTER_PORT), or are ranks missing (all "
                         "WORLD_SIZE processes must start within [distributed] timeout_s)?"
                       : "Is rank 0 running, and is MASTER_ADDR reachable from this node and "
                         "MASTER_PORT open? Every rank must use the same MASTER_ADDR and "
                         "MASTER_PORT."));
  }
  auto gloo_options = c10d::ProcessGroupGloo::Options::create(timeout);
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname != nullptr && *ifname != '\0')
    gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
  else if (loopback(env.master_addr))
    gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  else
    gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  gloo_options->threads = 2;
  c->control_ = c10::make_intrusive<c10d::ProcessGroupGloo>(
      c10::make_intrusive<c10d::PrefixStore>("control", c->store_), env.rank, env.world_size,
      gloo_options);
  c->data_ = c->control_;
#ifdef TAILOR_WITH_NCCL
  if (device.is_cuda()) {
    auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
    nccl_options->timeout = timeout;
    c->data_ = c10::make_intrusive<c10d::ProcessGroupNCCL>(
        c10::make_intrusive<c10d::PrefixStore>("nccl", c->store_), env.rank, env.world_size,
        nccl_options);
    c->backend_ = "nccl";
  }
#else
  (void)device;
#endif
  c->heartbeat_ = std::make_unique<Heartbeat>(env, timeout);
  return c;
}

Collective::Collective(DistEnv env) : env_(std::move(env)) {}
Collective::~Collective() = default;

void Collective::all_reduce_sum(std::vector<at::Tensor> tensors) {
  for (auto& t : tensors) {
    std::vector<at::Tensor> one = {t};
    (t.is_cuda() ? data_ : control_)->allreduce(one)->wait();
  }
}

at::Tensor Collective::all_gather_cat(const at::Tensor& local) {
  const auto& group = local.is_cuda() ? data_ : control_;
  std::vector<at::Tensor> size = {at::full({1}, local.size(0), at::kLong)};
  std::vector<std::vector<at::Tensor>> sizes(1);
  for (int r = 0; r < world_size(); ++r) sizes[0].push_back(at::empty({1}, at::kLong));
  control_->allgather(sizes, size)->wait();
  int64_t most = 0;
  for (const auto& s : sizes[0]) most = std::max(most, s.item<int64_t>());
  auto shape = local.sizes().vec();
  shape[0] = most;
  at::Tensor padded = at::zeros(shape, local.options());
  padded.narrow(0, 0, local.size(0)).copy_(local);
  std::vector<at::Tensor> in = {padded};
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < world_size(); ++r) out[0].push_back(at::empty_like(padded));
  group->allgather(out, in)->wait();
  std::vector<at::Tensor> parts;
  for (int r = 0; r < world_size(); ++r)
    parts.push_back(out[0][static_cast<size_t>(r)].narrow(
        0, 0, sizes[0][static_cast<size_t>(r)].item<int64_t>()));
  return at::cat(parts);
}

void Collective::broadcast(at::Tensor& tensor) {
  std::vector<at::Tensor> one = {tensor};
  (tensor.is_cuda() ? data_ : control_)->broadcast(one)->wait();
}

int64_t Collective::max(int64_t value) {
  std::vector<at::Tensor> one = {at::full({1}, value, at::kLong)};
  c10d::AllreduceOptions o;
  o.reduceOp = c10d::ReduceOp::MAX;
  control_->allreduce(one, o)->wait();
  return one[0].item<int64_t>();
}

std::string Collective::from_rank0(const std::string& key, const std::string& value) {
  const std::string k = "tailor/value/" + key;
  if (rank() == 0) {
    store_->set(k, std::vector<uint8_t>(value.begin(), value.end()));
    return value;
  }
  const auto bytes = store_->get(k);
  return std::string(bytes.begin(), bytes.end());
}

void Collective::require_same(const std::string& what, const std::string& value,
                              const std::function<std::string(const std::string&)>& difference) {
  const std::string ours = from_rank0(what, value);
  // Everyone waits until every rank has compared, so that rank 0 fails too.
  const int64_t differ = max(ours != value ? 1 : 0);
  if (differ == 0) return;
  if (ours != value)
    throw std::runtime_error("rank " + std::to_string(rank()) + " refuses to start: its " + what +
                             " differs from rank 0's (" + difference(ours) +
                             "). Every rank must run the same experiment with the same plugin "
                             "files; check that all nodes see the same tailor installation and "
                             "experiment file");
  throw std::runtime_error("rank " + std::to_string(rank()) + " stops: another rank's " + what +
                           " differs from rank 0's (see that rank's log)");
}

std::string Collective::failure(const std::string& error) const {
  const std::string first_line = error.substr(0, error.find('\n'));
  const std::string resume =
      " Every rank stops; resume the run from its last checkpoint with `tailor run --resume "
      "RUN_DIR` (any number of ranks).";
  std::vector<int64_t> before(static_cast<size_t>(world_size()));
  c10::intrusive_ptr<c10d::TCPStore> store;
  try {
    store = store_client(env_, 2000ms);
    for (int r = 0; r < world_size(); ++r)
      before[static_cast<size_t>(r)] = store->add(key_of(env_, r), 0);
    std::this_thread::sleep_for(3 * kHeartbeatPeriod);
    std::string dead;
    for (int r = 0; r < world_size(); ++r)
      if (r != rank() && store->add(key_of(env_, r), 0) == before[static_cast<size_t>(r)])
        dead += (dead.empty() ? "" : ", ") + std::to_string(r);
    if (!dead.empty())
      return "rank " + dead + " stopped answering (no heartbeat for " +
             std::to_string(3 * kHeartbeatPeriod.count()) + " ms: it died or was killed); rank " +
             std::to_string(rank()) + "'s collective failed: " + first_line + "." + resume;
    return "rank " + std::to_string(rank()) + "'s collective failed while every rank still " +
           "answers (a rank may be stuck, or the timeout of [distributed] timeout_s = " +
           std::to_string(timeout_.count() / 1000) + " s is too short): " + first_line + "." +
           resume;
  } catch (const std::exception&) {
    return "rank 0 stopped answering (the rendezvous store it hosts at " + env_.master_addr + ":" +
           std::to_string(env_.master_port) + " is gone: it died or was killed); rank " +
           std::to_string(rank()) + "'s collective failed: " + first_line + "." + resume;
  }
}

}  // namespace tailor::host
