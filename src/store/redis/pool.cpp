#include "store/redis/pool.hpp"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "util/deadline.hpp"

namespace kiq {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<long>(ms.count() / 1000);
  tv.tv_usec = static_cast<long>((ms.count() % 1000) * 1000);
  return tv;
}

}  // namespace

RedisPool::Lease::~Lease() {
  if (conn_) pool_->release(std::move(conn_));
}

RedisPool::RedisPool(RedisUrl url, RedisOptions options)
    : url_(std::move(url)), options_(options) {
  if (options_.pool_size == 0) throw std::invalid_argument("RedisOptions.pool_size must be >= 1");
  if (options_.min_backoff.count() <= 0 || options_.max_backoff < options_.min_backoff) {
    throw std::invalid_argument("RedisOptions: need 0 < min_backoff <= max_backoff");
  }
  if (options_.command_timeout.count() <= 0 || options_.connect_timeout.count() <= 0) {
    throw std::invalid_argument("RedisOptions: timeouts must be positive");
  }
}

RedisPool::~RedisPool() = default;

RedisPool::Lease RedisPool::lease() {
  std::unique_lock lock(mu_);
  const auto deadline = util::deadline_after(options_.lease_timeout);
  for (;;) {
    while (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      if (conn->generation() == generation_) return Lease(*this, std::move(conn), true);
      --open_;  // opened before the last failure: probably dead too, close it
    }
    if (open_ < options_.pool_size) break;
    if (freed_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.pool_size) {
      throw StoreError("redis " + url_.describe() + ": no free connection within " +
                       std::to_string(options_.lease_timeout.count()) + " ms (pool size " +
                       std::to_string(options_.pool_size) + ")");
    }
  }
  const auto now = Clock::now();
  if (!healthy_) {
    if (now < next_attempt_) {
      throw StoreError("redis " + url_.describe() + " unavailable (" + last_error_ +
                       "); reconnecting with backoff");
    }
    next_attempt_ = now + backoff_;  // one caller per backoff period tries to reconnect
  }
  ++open_;
  const auto generation = generation_;
  lock.unlock();
  try {
    auto conn = connect(generation);
    return Lease(*this, std::move(conn), false);
  } catch (...) {
    lock.lock();
    --open_;
    freed_.notify_one();
    throw;
  }
}

std::unique_ptr<RedisConnection> RedisPool::connect(std::uint64_t generation) {
  redisContext* ctx = url_.unix_path.empty()
      ? redisConnectWithTimeout(url_.host.c_str(), url_.port, to_timeval(options_.connect_timeout))
      : redisConnectUnixWithTimeout(url_.unix_path.c_str(), to_timeval(options_.connect_timeout));
  if (ctx == nullptr) {
    report_failure("cannot allocate a connection", true);
    throw StoreError("redis " + url_.describe() + ": cannot allocate a connection");
  }
  if (ctx->err) {
    std::string msg = std::string("connect failed: ") + ctx->errstr;
    redisFree(ctx);
    report_failure(msg, true);
    throw StoreError("redis " + url_.describe() + ": " + msg);
  }
  // Child processes (e.g. spawned by job code) must not inherit, and keep open, our sockets.
  ::fcntl(ctx->fd, F_SETFD, ::fcntl(ctx->fd, F_GETFD) | FD_CLOEXEC);
  redisSetTimeout(ctx, to_timeval(options_.command_timeout));
  if (url_.unix_path.empty()) redisEnableKeepAlive(ctx);
  auto conn = std::make_unique<RedisConnection>(*this, generation, ctx);
  // AUTH and SELECT on every connect, so a reconnect lands in the same place.
  auto check_setup = [&](const RedisReply& r, const char* what) {
    if (r.is_error()) {
      std::string msg = std::string(what) + " failed: " + r.str;
      report_failure(msg, true);
      throw StoreError("redis " + url_.describe() + ": " + msg);
    }
  };
  if (!url_.password.empty()) {
    if (url_.user.empty()) {
      check_setup(conn->command({"AUTH", url_.password}), "AUTH");
    } else {
      check_setup(conn->command({"AUTH", url_.user, url_.password}), "AUTH");
    }
  }
  if (url_.db != 0) check_setup(conn->command({"SELECT", std::to_string(url_.db)}), "SELECT");
  return conn;
}

void RedisPool::release(std::unique_ptr<RedisConnection> conn) {
  std::lock_guard lock(mu_);
  if (conn->broken() || conn->generation() != generation_) {
    --open_;
  } else {
    conn->mark_used();
    idle_.push_back(std::move(conn));
  }
  freed_.notify_one();
}

void RedisPool::report_failure(const std::string& message, bool outage) {
  std::lock_guard lock(mu_);
  ++generation_;
  last_error_ = message;
  if (!outage) return;
  const auto now = Clock::now();
  if (healthy_) {
    healthy_ = false;
    outage_started_ = now;
    backoff_ = options_.min_backoff;
    spdlog::warn("kiq: redis {} unavailable: {} (reconnecting with backoff; logged once per outage)",
                 url_.describe(), message);
  } else {
    backoff_ = std::min(backoff_ * 2, options_.max_backoff);
  }
  next_attempt_ = now + backoff_;
}

void RedisPool::note_connected() {
  std::lock_guard lock(mu_);
  if (healthy_) return;
  healthy_ = true;
  backoff_ = std::chrono::milliseconds(0);
  const auto secs = std::chrono::duration<double>(Clock::now() - outage_started_).count();
  spdlog::info("kiq: redis {} connection restored after {:.1f} s", url_.describe(), secs);
}

}  // namespace kiq
