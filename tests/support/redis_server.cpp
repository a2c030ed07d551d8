#include "support/redis_server.hpp"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <stdexcept>
#include <thread>

#include "support/free_port.hpp"

namespace kiq::testing {
namespace {

using ContextPtr = std::unique_ptr<redisContext, decltype(&redisFree)>;
using ReplyPtr = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

ContextPtr connect(int port, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  ContextPtr c(redisConnectWithTimeout("127.0.0.1", port, tv), &redisFree);
  if (c && c->err == 0) redisSetTimeout(c.get(), tv);
  return c;
}

ReplyPtr run(redisContext* c, const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  return ReplyPtr(static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()),
                                                            ptrs.data(), lens.data())),
                  &freeReplyObject);
}

std::string render(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_NIL: return "(nil)";
    case REDIS_REPLY_INTEGER: return std::to_string(r->integer);
    case REDIS_REPLY_ARRAY: {
      std::string out;
      for (size_t i = 0; i < r->elements; ++i) {
        if (i) out += ' ';
        out += render(r->element[i]);
      }
      return out;
    }
    default: return std::string(r->str, r->len);
  }
}

std::string tail(const std::string& text, size_t n) {
  return text.size() <= n ? text : text.substr(text.size() - n);
}

}  // namespace

bool redis_server_available(const std::string& binary) { return ::access(binary.c_str(), X_OK) == 0; }

RedisServer::RedisServer(RedisServerOptions options)
    : options_(std::move(options)), dir_("kiq-redis") {
  if (!redis_server_available(options_.binary)) {
    throw std::runtime_error("RedisServer: " + options_.binary + " not found or not executable");
  }
  // Another process may grab the free port between our probe and redis' bind: retry.
  for (int attempt = 0; attempt < 8; ++attempt) {
    port_ = free_port();
    if (start_once()) return;
  }
  throw std::runtime_error("RedisServer: could not start redis-server; log:\n" + tail(log(), 2000));
}

RedisServer::~RedisServer() {
  try {
    if (process_.pid() > 0) process_.terminate(std::chrono::seconds(10));
  } catch (...) {  // destructor: the ChildProcess destructor SIGKILLs as a last resort
  }
}

std::string RedisServer::url(int db) const {
  std::string auth = options_.password.empty() ? "" : ":" + options_.password + "@";
  return "redis://" + auth + "127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
}

std::string RedisServer::unix_url(int db) const {
  return "unix://" + dir_.file("redis.sock") + "?db=" + std::to_string(db);
}

std::string RedisServer::log() const { return read_file(dir_.file("redis.log")); }

void RedisServer::write_config() const {
  std::ofstream conf(dir_.file("redis.conf"), std::ios::trunc);
  conf << "bind 127.0.0.1\n"
       << "port " << port_ << "\n"
       << "dir " << dir_.path().string() << "\n"
       << "logfile " << dir_.file("redis.log") << "\n"
       << "daemonize no\n"
       << "protected-mode yes\n"
       << "save \"\"\n";
  if (options_.persistence) {
    conf << "appendonly yes\nappendfsync always\n";
  } else {
    conf << "appendonly no\n";
  }
  if (!options_.password.empty()) conf << "requirepass " << options_.password << "\n";
  if (options_.unix_socket) conf << "unixsocket " << dir_.file("redis.sock") << "\nunixsocketperm 700\n";
  for (const auto& line : options_.extra_config) conf << line << "\n";
}

bool RedisServer::ping() const {
  auto c = connect(port_, std::chrono::milliseconds(500));
  if (!c || c->err) return false;
  if (!options_.password.empty()) {
    auto r = run(c.get(), {"AUTH", options_.password});
    if (!r || r->type == REDIS_REPLY_ERROR) return false;
  }
  auto r = run(c.get(), {"PING"});
  return r && r->type == REDIS_REPLY_STATUS && std::string(r->str, r->len) == "PONG";
}

bool RedisServer::start_once() {
  write_config();
  // Output to a file, not the test's stdout: a server orphaned by a crashed test would hold
  // ctest's pipe open and stall the run until its timeout.
  ChildOptions child;
  child.stdout_path = child.stderr_path = dir_.file("redis.out");
  child.die_with_parent = true;
  process_ = ChildProcess::spawn(options_.binary, {dir_.file("redis.conf")}, child);
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_.running()) return false;
    if (ping()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  process_.terminate(std::chrono::seconds(2));
  throw std::runtime_error("RedisServer: no PONG within the start timeout; log:\n" + tail(log(), 2000));
}

bool RedisServer::running() { return process_.running(); }

void RedisServer::stop() {
  if (process_.pid() > 0) process_.terminate(std::chrono::seconds(10));
}

void RedisServer::kill() {
  if (process_.pid() > 0 && process_.running()) {
    process_.signal(SIGKILL);
    process_.wait();
  }
}

void RedisServer::restart() {
  stop();
  // The old socket may linger briefly; retry on the same port for a while.
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  while (!start_once()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error("RedisServer: restart on port " + std::to_string(port_) +
                               " failed; log:\n" + tail(log(), 2000));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string RedisServer::command(const std::vector<std::string>& argv) const {
  auto c = connect(port_, std::chrono::seconds(5));
  if (!c || c->err) throw std::runtime_error("RedisServer::command: cannot connect");
  if (!options_.password.empty()) run(c.get(), {"AUTH", options_.password});
  auto r = run(c.get(), argv);
  if (!r) throw std::runtime_error(std::string("RedisServer::command: ") + c->errstr);
  return render(r.get());
}

}  // namespace kiq::testing
