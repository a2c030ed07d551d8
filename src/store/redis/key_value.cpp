#include "store/redis/key_value.hpp"

#include <algorithm>
#include <string>

#include "store/redis/pool.hpp"

namespace kiq {

void RedisKeyValue::set(std::string_view key, std::string_view value, std::chrono::seconds ttl) {
  return pool_.run([&](RedisPool::Lease& c) -> void {
    if (ttl.count() > 0) {
      c->command({"SET", key, value, "EX", std::to_string(std::min(ttl, kMaxTtl).count())}).check();
    } else {
      c->command({"SET", key, value}).check();
    }
  });
}

std::optional<std::string> RedisKeyValue::get(std::string_view key) {
  return pool_.run([&](RedisPool::Lease& c) -> std::optional<std::string> {
    auto r = c->command({"GET", key});
    r.check();
    if (r.is_nil()) return std::nullopt;
    return std::move(r.str);
  });
}

bool RedisKeyValue::del(std::string_view key) {
  return pool_.run([&](RedisPool::Lease& c) -> bool {
    return c->command({"DEL", key}).check().integer > 0;
  });
}

std::int64_t RedisKeyValue::ttl(std::string_view key) {
  return pool_.run([&](RedisPool::Lease& c) -> std::int64_t {
    return c->command({"TTL", key}).check().integer;
  });
}

std::int64_t RedisKeyValue::incr(std::string_view key, std::int64_t by) {
  return pool_.run([&](RedisPool::Lease& c) -> std::int64_t {
    return c->command({"INCRBY", key, std::to_string(by)}).check().integer;
  });
}

bool RedisKeyValue::sadd(std::string_view key, std::string_view member) {
  return pool_.run([&](RedisPool::Lease& c) -> bool {
    return c->command({"SADD", key, member}).check().integer == 1;
  });
}

bool RedisKeyValue::sismember(std::string_view key, std::string_view member) {
  return pool_.run([&](RedisPool::Lease& c) -> bool {
    return c->command({"SISMEMBER", key, member}).check().integer == 1;
  });
}

std::int64_t RedisKeyValue::scard(std::string_view key) {
  return pool_.run([&](RedisPool::Lease& c) -> std::int64_t {
    return c->command({"SCARD", key}).check().integer;
  });
}

std::vector<std::string> RedisKeyValue::smembers(std::string_view key) {
  return pool_.run([&](RedisPool::Lease& c) -> std::vector<std::string> {
    auto r = c->command({"SMEMBERS", key});
    r.check();
    std::vector<std::string> out;
    out.reserve(r.elements.size());
    for (auto& e : r.elements) out.push_back(std::move(e.str));
    return out;
  });
}

}  // namespace kiq
