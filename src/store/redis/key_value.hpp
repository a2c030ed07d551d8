// KeyValue on plain Redis keys (what Sidekiq jobs do with Sidekiq.redis).
//
// Thread-safety: every method may be called concurrently (one pooled connection per call).
#pragma once

#include "kiq/store.hpp"

namespace kiq {

class RedisPool;

class RedisKeyValue final : public KeyValue {
 public:
  explicit RedisKeyValue(RedisPool& pool) : pool_(pool) {}
  void set(std::string_view key, std::string_view value, std::chrono::seconds ttl) override;
  std::optional<std::string> get(std::string_view key) override;
  bool del(std::string_view key) override;
  std::int64_t ttl(std::string_view key) override;
  std::int64_t incr(std::string_view key, std::int64_t by) override;
  bool sadd(std::string_view key, std::string_view member) override;
  bool sismember(std::string_view key, std::string_view member) override;
  std::int64_t scard(std::string_view key) override;
  std::vector<std::string> smembers(std::string_view key) override;

 private:
  RedisPool& pool_;
};

}  // namespace kiq
