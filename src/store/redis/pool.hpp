// RedisPool: up to N synchronous hiredis connections, leased one per operation.
//
// Outage handling (the reason this is more than a vector of connections): a transport failure
// on any connection marks the pool unhealthy, retires every connection opened before it
// (generation counter) and sets a reconnect time with exponential backoff. While unhealthy,
// lease() throws StoreError at once until the backoff has passed, then one caller tries to
// connect. The first failure and the recovery are each logged once.
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

class RedisPool {
 public:
  using Clock = std::chrono::steady_clock;

  // Returns the connection to the pool (or closes it if it broke) on destruction.
  class Lease {
   public:
    Lease(RedisPool& pool, std::unique_ptr<RedisConnection> conn)
        : pool_(&pool), conn_(std::move(conn)) {}
    ~Lease();
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    RedisConnection& operator*() const { return *conn_; }
    RedisConnection* operator->() const { return conn_.get(); }

   private:
    RedisPool* pool_;
    std::unique_ptr<RedisConnection> conn_;
  };

  RedisPool(RedisUrl url, RedisOptions options);
  ~RedisPool();

  // A healthy connection, connecting if needed. Throws StoreError during an outage (quickly)
  // or when no connection frees up within lease_timeout.
  Lease lease();

  // Called by a connection that hit a transport error (already marked broken).
  void report_failure(const std::string& message);

  const RedisUrl& url() const { return url_; }
  const RedisOptions& options() const { return options_; }

 private:
  std::unique_ptr<RedisConnection> connect(std::uint64_t generation);
  void release(std::unique_ptr<RedisConnection> conn);
  void note_connected();

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
