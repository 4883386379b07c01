// host/dist/spawn.cpp - fork/exec of local ranks, signal forwarding, exit bookkeeping.
#include "dist/spawn.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

extern char** environ;

namespace tailor::host {
namespace {

std::atomic<int> g_forward{0};
extern "C" void on_spawn_signal(int sig) {
  g_forward.store(sig);
}

bool replaced(std::string_view entry) {
  for (const char* name : {"RANK=", "WORLD_SIZE=", "LOCAL_RANK=", "LOCAL_WORLD_SIZE=",
                           "MASTER_ADDR=", "MASTER_PORT=", "TAILOR_LAUNCHER=", "TAILOR_THREADS="})
    if (entry.rfind(name, 0) == 0) return true;
  return false;
}

}  // namespace

int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("cannot open a socket to find a free port");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t length = sizeof addr;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot find a free TCP port on 127.0.0.1");
  return ntohs(addr.sin_port);
}

int spawn_local_ranks(int nproc, const std::filesystem::path& executable,
                      const std::vector<std::string>& args) {
  const int port = free_local_port();
  const char* threads = std::getenv("TAILOR_THREADS");
  std::vector<std::string> inherited;
  for (char** e = environ; *e != nullptr; ++e)
    if (!replaced(*e)) inherited.emplace_back(*e);

  g_forward.store(0);
  struct sigaction action {
  }, old_int{}, old_term{};
  action.sa_handler = on_spawn_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &old_int);
  sigaction(SIGTERM, &action, &old_term);

  const pid_t parent = ::getpid();
  std::vector<pid_t> pids;
  for (int rank = 0; rank < nproc; ++rank) {
    std::vector<std::string> env = inherited;
    env.push_back("RANK=" + std::to_string(rank));
    env.push_back("WORLD_SIZE=" + std::to_string(nproc));
    env.push_back("LOCAL_RANK=" + std::to_string(rank));
    env.push_back("LOCAL_WORLD_SIZE=" + std::to_string(nproc));
    env.push_back("MASTER_ADDR=127.0.0.1");
    env.push_back("MASTER_PORT=" + std::to_string(port));
    env.push_back("TAILOR_LAUNCHER=tailor --nproc");
    if (threads != nullptr)
      env.push_back("TAILOR_THREADS=" + std::to_string(std::max(1, std::atoi(threads) / nproc)));
    std::vector<std::string> argv_text = {executable.string()};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    // Built before fork(): only async-signal-safe calls follow in the child.
    std::vector<char*> argv, envp;
    for (auto& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0)
      throw std::runtime_error("cannot start rank " + std::to_string(rank) + ": fork failed");
    if (pid == 0) {
      ::setpgid(0, 0);  // a terminal's Ctrl-C reaches the launcher, which forwards it once
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // ranks never outlive the launcher
      if (::getppid() != parent) ::_exit(1);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    pids.push_back(pid);
  }
  spdlog::info("started {} ranks on 127.0.0.1:{} (pids {}..{})", nproc, port, pids.front(),
               pids.back());

  int result = 0, failed_rank = -1, remaining = nproc;
  bool forwarded = false;
  while (remaining > 0) {
    if (g_forward.load() != 0 && !forwarded) {
      for (pid_t p : pids) ::kill(p, g_forward.load());
      forwarded = true;
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    int rank = -1;
    for (int r = 0; r < nproc; ++r)
      if (pids[static_cast<size_t>(r)] == pid) rank = r;
    if (rank < 0) continue;
    --remaining;
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code != 0 && failed_rank < 0) {
      failed_rank = rank;
      result = code;
      if (WIFSIGNALED(status))
        spdlog::error("rank {} was killed by signal {}; the other ranks stop too", rank,
                      WTERMSIG(status));
      else
        spdlog::error("rank {} exited with status {}; the other ranks stop too", rank, code);
    }
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  return result;
}

}  // namespace tailor::host
