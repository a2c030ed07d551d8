// RedisServer: a private redis-server for one test (or fixture), on a free loopback port, in
// a fresh temp dir, never on 6379. Started by the constructor (waits until it answers PING),
// stopped and its dir removed by the destructor.
//
//   kiq::testing::RedisServer redis;                 // ephemeral, no persistence
//   auto store = kiq::make_redis_store(redis.url());
//   redis.restart();                                 // same port and dir (chaos tests)
//
// Thread-safety: not thread-safe; one owner. The server process itself of course serves any
// number of clients.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace kiq::testing {

struct RedisServerOptions {
  // appendonly yes + appendfsync always, so a stop/kill + restart keeps every acknowledged write.
  bool persistence = false;
  std::string password;                  // requirepass, when non-empty
  bool unix_socket = false;              // also listen on <dir>/redis.sock (see unix_url())
  std::vector<std::string> extra_config; // raw redis.conf lines
  std::string binary = "/usr/bin/redis-server";
  std::chrono::milliseconds start_timeout{10000};
};

// True if the redis-server binary exists (tests GTEST_SKIP otherwise).
bool redis_server_available(const std::string& binary = "/usr/bin/redis-server");

class RedisServer {
 public:
  // Throws std::runtime_error (with the tail of the server's log) if it cannot be started.
  explicit RedisServer(RedisServerOptions options = {});
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  std::string host() const { return "127.0.0.1"; }
  // "redis://[:password@]127.0.0.1:<port>/<db>".
  std::string url(int db = 0) const;
  // "unix://<dir>/redis.sock?db=<db>" (needs options.unix_socket).
  std::string unix_url(int db = 0) const;
  const std::string& dir() const { return dir_.path().native(); }
  std::string log() const;  // contents of the server's log file
  bool running();
  pid_t pid() const { return process_.pid(); }

  // SHUTDOWN-like stop: SIGTERM and wait (redis saves the AOF tail on the way out).
  void stop();
  // SIGKILL and wait: a crash.
  void kill();
  // Starts again on the same port and dir (after stop/kill; stops first if running).
  void restart();

  // Runs one command with a fresh hiredis connection and returns the reply rendered as text
  // (integers as digits, nil as "(nil)", arrays as space-separated items). For quick checks.
  std::string command(const std::vector<std::string>& argv) const;

 private:
  void write_config() const;
  bool start_once();  // false if the process exited (e.g. port clash) before answering PING
  bool ping() const;

  RedisServerOptions options_;
  TempDir dir_;
  int port_ = 0;
  ChildProcess process_;
};

}  // namespace kiq::testing
