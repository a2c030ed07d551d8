// ChildProcess: spawn a program (no shell) with arguments and extra environment, signal it,
// and wait for it with a timeout. The destructor SIGKILLs and reaps a child that is still
// running, so a failing test never leaks processes.
//
// Thread-safety: not thread-safe; one owner (signal() alone may race with wait only in the
// harmless way kill(2) does). Move-only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace kiq::testing {

struct ChildOptions {
  // Extra "NAME=value" entries; they override the same names from the current environment.
  std::vector<std::string> env;
  // Names removed from the inherited environment (e.g. "REDIS_URL").
  std::vector<std::string> unset_env;
  std::string stdout_path;  // empty = inherit; otherwise truncated and written
  std::string stderr_path;  // empty = inherit; may equal stdout_path (then shared)
  std::string cwd;          // empty = inherit
  // SIGKILL the child when this test process dies (abort, ctest timeout), so no server outlives
  // a crashed test. Linux ties the death signal to the spawning *thread*, so this only applies
  // to spawns from the main thread (through setpriv(1), util-linux); elsewhere it is ignored.
  bool die_with_parent = false;
};

struct ExitStatus {
  bool exited = false;   // normal exit: `code` is valid
  int code = -1;
  bool signaled = false; // killed by `signal`
  int signal = 0;
  bool success() const { return exited && code == 0; }
  std::string describe() const;  // "exit 0", "signal 9"
};

class ChildProcess {
 public:
  // Throws std::runtime_error (with the reason) if the program cannot be spawned.
  // `program` is a path or a name looked up in PATH; args exclude argv[0].
  static ChildProcess spawn(const std::string& program, const std::vector<std::string>& args,
                            const ChildOptions& options = {});

  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // True while the child has not been reaped and has not exited.
  bool running();
  // kill(pid, sig); no-op once reaped.
  void signal(int sig);
  // Waits up to `timeout`; nullopt if still running then. Once reaped, returns the status.
  std::optional<ExitStatus> wait_for(std::chrono::milliseconds timeout);
  // Waits without limit.
  ExitStatus wait();
  // SIGTERM, wait up to `grace`, then SIGKILL; returns the final status.
  ExitStatus terminate(std::chrono::milliseconds grace = std::chrono::seconds(10));

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  bool try_reap(bool block);

  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
};

// Reads a whole file (e.g. a child's captured stdout); empty string if missing.
std::string read_file(const std::string& path);

}  // namespace kiq::testing
