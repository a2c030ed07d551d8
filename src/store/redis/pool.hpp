// RedisPool: up to N synchronous hiredis connections, leased one per operation.
//
// Outage handling (the reason this is more than a vector of connections):
//  * A transport failure retires every connection opened before it (generation counter), so
//    after a Redis restart only one operation meets a dead socket, and run() retries that one
//    once on a fresh connection (as redis-rb does) when the dead one had been idle in the pool.
//  * A failed connect, a timeout, or a failure on a fresh connection is an outage: the pool turns
//    unhealthy, lease() throws StoreError at once until a backoff (doubling, capped) has passed,
//    then one caller tries to connect. Start and end of an outage are each logged once.
//
// Thread-safety: lease() and report_failure() may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kiq/store/redis.hpp"

namespace kiq {

// A transport failure (connection lost, timeout); the connection is retired.
class RedisTransportError : public StoreError {
 public:
  RedisTransportError(const std::string& what, bool timed_out)
      : StoreError(what), timed_out_(timed_out) {}
  bool timed_out() const { return timed_out_; }

 private:
  bool timed_out_;
};

class RedisPool {
 public:
  using Clock = std::chrono::steady_clock;

  // Returns the connection to the pool (or closes it if it broke) on destruction.
  class Lease {
   public:
    Lease(RedisPool& pool, std::unique_ptr<RedisConnection> conn, bool reused)
        : pool_(&pool), conn_(std::move(conn)), reused_(reused) {}
    ~Lease();
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    RedisConnection& operator*() const { return *conn_; }
    RedisConnection* operator->() const { return conn_.get(); }
    // True if the connection had served earlier leases (it may have died while idle).
    bool reused() const { return reused_; }

   private:
    RedisPool* pool_;
    std::unique_ptr<RedisConnection> conn_;
    bool reused_;
  };

  RedisPool(RedisUrl url, RedisOptions options);
  ~RedisPool();

  // A healthy connection, connecting if needed. Throws StoreError during an outage (quickly)
  // or when no connection frees up within lease_timeout.
  Lease lease();

  // f(Lease&) with one retry on a fresh connection if a reused one turns out to be dead (not
  // after a timeout: the server may be hung). Only for operations that are safe to repeat.
  template <class F>
  decltype(auto) run(F&& f) {
    for (int attempt = 0;; ++attempt) {
      Lease c = lease();
      const bool retryable = c.reused() && attempt == 0;
      try {
        return f(c);
      } catch (const RedisTransportError& e) {
        if (!retryable || e.timed_out()) throw;
      }
    }
  }

  // Called by a connection that hit a transport error (already marked broken). `outage`:
  // start (or continue) an outage with backoff; otherwise only retire older connections.
  void report_failure(const std::string& message, bool outage);

  // Called once per connection, on its first successful reply: ends an outage (a TCP connect
  // alone proves little: a hung server's kernel still accepts connections).
  void note_connected();

  const RedisUrl& url() const { return url_; }
  const RedisOptions& options() const { return options_; }

 private:
  std::unique_ptr<RedisConnection> connect(std::uint64_t generation);
  void release(std::unique_ptr<RedisConnection> conn);

  const RedisUrl url_;
  const RedisOptions options_;

  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<RedisConnection>> idle_;
  std::size_t open_ = 0;  // idle + leased + being connected
  std::uint64_t generation_ = 1;
  bool healthy_ = true;
  Clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_{0};
  Clock::time_point outage_started_{};
  std::string last_error_;
};

}  // namespace kiq
