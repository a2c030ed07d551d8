// Redis URL parsing and open_store() dispatch (no server needed).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kiq/store.hpp"
#include "kiq/store/redis.hpp"

namespace kiq {
namespace {

using ::testing::HasSubstr;

std::string error_of(std::string_view url) {
  try {
    parse_redis_url(url);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(RedisUrl, HostPortDb) {
  auto u = parse_redis_url("redis://example.com:6380/3");
  EXPECT_EQ(u.host, "example.com");
  EXPECT_EQ(u.port, 6380);
  EXPECT_EQ(u.db, 3);
  EXPECT_TRUE(u.password.empty());
  EXPECT_TRUE(u.unix_path.empty());
  EXPECT_EQ(u.describe(), "redis://example.com:6380/3");
}

TEST(RedisUrl, Defaults) {
  auto u = parse_redis_url("redis://localhost");
  EXPECT_EQ(u.host, "localhost");
  EXPECT_EQ(u.port, 6379);
  EXPECT_EQ(u.db, 0);
  EXPECT_EQ(parse_redis_url("redis://h/").db, 0);
}

TEST(RedisUrl, PasswordAndUser) {
  auto a = parse_redis_url("redis://:s3cret@h:1/2");
  EXPECT_EQ(a.password, "s3cret");
  EXPECT_TRUE(a.user.empty());
  auto b = parse_redis_url("redis://alice:p%40ss%3Aword@h");
  EXPECT_EQ(b.user, "alice");
  EXPECT_EQ(b.password, "p@ss:word");
  EXPECT_EQ(b.describe(), "redis://h:6379/0");  // never the password
  auto c = parse_redis_url("redis://:a@b@h:7");  // last '@' separates the host
  EXPECT_EQ(c.password, "a@b");
  EXPECT_EQ(c.host, "h");
}

TEST(RedisUrl, QueryDbAndIpv6) {
  EXPECT_EQ(parse_redis_url("redis://h?db=5").db, 5);
  auto u = parse_redis_url("redis://[::1]:6390/1");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 6390);
  EXPECT_EQ(u.describe(), "redis://[::1]:6390/1");
}

TEST(RedisUrl, UnixSocket) {
  auto u = parse_redis_url("unix:///var/run/redis.sock?db=2");
  EXPECT_EQ(u.unix_path, "/var/run/redis.sock");
  EXPECT_EQ(u.db, 2);
  EXPECT_EQ(u.describe(), "unix:///var/run/redis.sock?db=2");
}

TEST(RedisUrl, ErrorsNameTheProblem) {
  EXPECT_THAT(error_of("rediss://h:6379"), HasSubstr("TLS"));
  EXPECT_THAT(error_of("http://h"), HasSubstr("unsupported scheme 'http'"));
  EXPECT_THAT(error_of("localhost:6379"), HasSubstr("expected redis://"));
  EXPECT_THAT(error_of("redis://h:notaport"), HasSubstr("port 'notaport'"));
  EXPECT_THAT(error_of("redis://h:0"), HasSubstr("port '0'"));
  EXPECT_THAT(error_of("redis://h:70000"), HasSubstr("port '70000'"));
  EXPECT_THAT(error_of("redis://h:"), HasSubstr("empty port"));
  EXPECT_THAT(error_of("redis://h/x"), HasSubstr("database 'x'"));
  EXPECT_THAT(error_of("redis://h/-1"), HasSubstr("database '-1'"));
  EXPECT_THAT(error_of("redis://:6379"), HasSubstr("missing host"));
  EXPECT_THAT(error_of("redis://"), HasSubstr("missing host"));
  EXPECT_THAT(error_of("redis://h?foo=1"), HasSubstr("unknown parameter 'foo'"));
  EXPECT_THAT(error_of("redis://:%zz@h"), HasSubstr("percent-escape"));
  EXPECT_THAT(error_of("unix://relative.sock"), HasSubstr("absolute"));
  EXPECT_THAT(error_of("redis://[::1"), HasSubstr("IPv6"));
}

TEST(OpenStore, DispatchesOnScheme) {
  auto mem = open_store("");
  EXPECT_EQ(mem->describe(), "memory://");
  EXPECT_EQ(open_store("memory://")->describe(), "memory://");
  // Opening does not connect: a Redis store for an unreachable server can be created.
  auto redis = open_store("redis://:pw@127.0.0.1:1/4");
  EXPECT_EQ(redis->describe(), "redis://127.0.0.1:1/4");
  EXPECT_NE(std::dynamic_pointer_cast<RedisStore>(redis), nullptr);
  EXPECT_THROW(open_store("rediss://h"), std::invalid_argument);
  EXPECT_THROW(open_store("bogus"), std::invalid_argument);
}

TEST(RedisOptionsValidation, RejectsNonsense) {
  RedisOptions o;
  o.pool_size = 0;
  EXPECT_THROW(RedisStore(parse_redis_url("redis://h"), o), std::invalid_argument);
  RedisOptions b;
  b.max_backoff = std::chrono::milliseconds(1);
  EXPECT_THROW(RedisStore(parse_redis_url("redis://h"), b), std::invalid_argument);
}

}  // namespace
}  // namespace kiq
