// The shared Store conformance suite, run against RedisStore on a private redis-server.
#include "kiq/store/redis.hpp"
#include "store_conformance/store_conformance.hpp"
#include "support/redis_server.hpp"

namespace kiq::conformance {
namespace {

// One server for the whole binary (started on first use); every test gets an empty server.
testing::RedisServer& shared_server() {
  static testing::RedisServer server;
  return server;
}

std::shared_ptr<Store> fresh_redis_store() {
  auto& server = shared_server();
  server.command({"FLUSHALL"});
  return make_redis_store(server.url());
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Redis, StoreConformance,
                         ::testing::Values(StoreFactory{"redis", fresh_redis_store}),
                         [](const auto& info) { return info.param.name; });

}  // namespace kiq::conformance
