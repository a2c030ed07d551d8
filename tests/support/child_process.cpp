#include "support/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

extern char** environ;

namespace kiq::testing {
namespace {

constexpr const char* kSetpriv = "/usr/bin/setpriv";

std::string env_name(const std::string& entry) { return entry.substr(0, entry.find('=')); }

// The inherited environment minus `unset` and the names in `extra`, plus `extra`.
std::vector<std::string> build_env(const ChildOptions& options) {
  std::vector<std::string> names;
  for (const auto& e : options.env) names.push_back(env_name(e));
  names.insert(names.end(), options.unset_env.begin(), options.unset_env.end());
  std::vector<std::string> out;
  for (char** p = environ; p && *p; ++p) {
    std::string entry(*p);
    if (std::find(names.begin(), names.end(), env_name(entry)) == names.end()) out.push_back(entry);
  }
  out.insert(out.end(), options.env.begin(), options.env.end());
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// posix_spawn_file_actions_t with RAII.
class FileActions {
 public:
  FileActions() { posix_spawn_file_actions_init(&fa_); }
  ~FileActions() { posix_spawn_file_actions_destroy(&fa_); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  posix_spawn_file_actions_t* get() { return &fa_; }

 private:
  posix_spawn_file_actions_t fa_;
};

ExitStatus decode(int wstatus) {
  ExitStatus s;
  if (WIFEXITED(wstatus)) {
    s.exited = true;
    s.code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    s.signaled = true;
    s.signal = WTERMSIG(wstatus);
  }
  return s;
}

}  // namespace

std::string ExitStatus::describe() const {
  if (exited) return "exit " + std::to_string(code);
  if (signaled) return "signal " + std::to_string(signal);
  return "unknown";
}

ChildProcess ChildProcess::spawn(const std::string& program, const std::vector<std::string>& args,
                                 const ChildOptions& options) {
  std::vector<std::string> argv_s;
  if (options.die_with_parent && ::gettid() == ::getpid() && ::access(kSetpriv, X_OK) == 0) {
    argv_s = {kSetpriv, "--pdeathsig", "KILL", "--"};  // setpriv execs: the pid stays the child's
  }
  argv_s.push_back(program);
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<std::string> env_s = build_env(options);
  auto argv = c_strings(argv_s);
  auto envp = c_strings(env_s);

  FileActions fa;
  const int flags = O_WRONLY | O_CREAT | O_TRUNC;
  if (!options.stdout_path.empty()) {
    posix_spawn_file_actions_addopen(fa.get(), STDOUT_FILENO, options.stdout_path.c_str(), flags, 0644);
  }
  if (!options.stderr_path.empty()) {
    if (options.stderr_path == options.stdout_path) {
      posix_spawn_file_actions_adddup2(fa.get(), STDOUT_FILENO, STDERR_FILENO);
    } else {
      posix_spawn_file_actions_addopen(fa.get(), STDERR_FILENO, options.stderr_path.c_str(), flags, 0644);
    }
  }
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(fa.get(), options.cwd.c_str());

  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, argv_s.front().c_str(), fa.get(), nullptr, argv.data(), envp.data());
  if (rc != 0) {
    throw std::runtime_error("ChildProcess: cannot spawn " + program + ": " + std::strerror(rc));
  }
  return ChildProcess(pid);
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    try_reap(true);
  }
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), status_(std::move(other.status_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    ChildProcess old(std::move(*this));
    pid_ = std::exchange(other.pid_, -1);
    status_ = std::move(other.status_);
  }
  return *this;
}

bool ChildProcess::try_reap(bool block) {
  if (status_) return true;
  if (pid_ <= 0) return false;
  int wstatus = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &wstatus, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    status_ = decode(wstatus);
    return true;
  }
  if (r < 0) {  // not our child any more (ECHILD): treat as gone
    status_ = ExitStatus{};
    return true;
  }
  return false;
}

bool ChildProcess::running() { return pid_ > 0 && !try_reap(false); }

void ChildProcess::signal(int sig) {
  if (pid_ > 0 && !status_) ::kill(pid_, sig);
}

std::optional<ExitStatus> ChildProcess::wait_for(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!try_reap(false)) {
    if (pid_ <= 0 || std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return status_;
}

ExitStatus ChildProcess::wait() {
  if (pid_ <= 0) throw std::logic_error("ChildProcess::wait: no child");
  try_reap(true);
  return *status_;
}

ExitStatus ChildProcess::terminate(std::chrono::milliseconds grace) {
  signal(SIGTERM);
  if (auto s = wait_for(grace)) return *s;
  signal(SIGKILL);
  return wait();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace kiq::testing
