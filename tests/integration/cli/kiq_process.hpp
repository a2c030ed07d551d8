// Helpers for tests that drive the kiq CLI: in-process (kiq::cli::run with the built-in jobs,
// capturing stdout/stderr) or as the real `kiq` binary (a ChildProcess, e.g. `kiq server`).
// Shared by tests/integration/cli and tests/interop/sidekiq.
//
// Thread-safety: test-thread only.
#pragma once

#include <chrono>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kiq/cli.hpp"
#include "support/child_process.hpp"

namespace kiq::testing {

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs `kiq <args...>` in this process with the built-in jobs.
inline CliResult run_cli(const std::vector<std::string>& args) {
  JobRegistry jobs;
  cli::register_builtin_jobs(jobs);
  std::ostringstream out, err;
  CliResult r;
  r.code = cli::run(args, jobs, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// The built `kiq` binary: $KIQ_BINARY_DIR/kiq (set by CTest), else the build dir compiled in
// (so the test binaries also work when run directly).
inline std::string kiq_binary() {
  const char* dir = std::getenv("KIQ_BINARY_DIR");
#ifdef KIQ_TEST_BINARY_DIR
  if (dir == nullptr) dir = KIQ_TEST_BINARY_DIR;
#endif
  return std::string(dir != nullptr ? dir : ".") + "/kiq";
}

// Polls `done` every 20 ms until it is true or `timeout` passes (only to bound hangs).
inline bool wait_until(const std::function<bool()>& done,
                       std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

// Starts `kiq server --redis url` with fast heartbeats and polls, plus `extra` arguments; its
// output goes to `log_path`.
inline ChildProcess start_kiq_server(const std::string& url, const std::vector<std::string>& extra,
                                     const std::string& log_path) {
  std::vector<std::string> args{"server", "--redis", url, "--heartbeat-interval", "0.5",
                                "--poll-interval", "0.5"};
  args.insert(args.end(), extra.begin(), extra.end());
  ChildOptions options;
  options.unset_env = {"REDIS_URL"};
  options.stdout_path = log_path;
  options.stderr_path = log_path;
  return ChildProcess::spawn(kiq_binary(), args, options);
}

// Splits output into non-empty lines.
inline std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

}  // namespace kiq::testing
