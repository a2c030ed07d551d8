// Tests of the shared test helpers (tests/support): they are used by every integration test,
// so they must themselves be trustworthy.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "support/child_process.hpp"
#include "support/free_port.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"

namespace kiq::testing {
namespace {

TEST(FreePort, ReturnsUsablePort) {
  int p = free_port();
  EXPECT_GT(p, 0);
  EXPECT_LT(p, 65536);
}

TEST(TempDir, CreatedAndRemoved) {
  std::filesystem::path p;
  {
    TempDir d("kiq-support-test");
    p = d.path();
    EXPECT_TRUE(std::filesystem::is_directory(p));
    std::ofstream(d.file("x")) << "hello";
  }
  EXPECT_FALSE(std::filesystem::exists(p));
}

TEST(ChildProcess, CapturesStdoutAndExitCode) {
  TempDir d;
  ChildOptions opt;
  opt.stdout_path = d.file("out");
  opt.env = {"KIQ_SUPPORT_TEST=hello-env"};
  auto child = ChildProcess::spawn("/bin/sh", {"-c", "echo $KIQ_SUPPORT_TEST; exit 3"}, opt);
  auto st = child.wait_for(std::chrono::seconds(30));
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(st->exited);
  EXPECT_EQ(st->code, 3);
  EXPECT_EQ(read_file(d.file("out")), "hello-env\n");
}

TEST(ChildProcess, SignalAndTimeout) {
  auto child = ChildProcess::spawn("sleep", {"30"});
  EXPECT_TRUE(child.running());
  EXPECT_FALSE(child.wait_for(std::chrono::milliseconds(50)).has_value());
  child.signal(SIGKILL);
  auto st = child.wait();
  EXPECT_TRUE(st.signaled);
  EXPECT_EQ(st.signal, SIGKILL);
  EXPECT_FALSE(child.running());
}

TEST(ChildProcess, SpawnFailureIsAnError) {
  EXPECT_THROW(ChildProcess::spawn("/nonexistent/kiq-no-such-binary", {}), std::runtime_error);
}

TEST(RedisServer, StartsOnPrivatePortAndRestartsWithPersistence) {
  if (!redis_server_available()) GTEST_SKIP() << "no redis-server";
  RedisServerOptions opt;
  opt.persistence = true;
  RedisServer redis(opt);
  EXPECT_NE(redis.port(), 6379);
  EXPECT_EQ(redis.url(), "redis://127.0.0.1:" + std::to_string(redis.port()) + "/0");
  EXPECT_EQ(redis.command({"PING"}), "PONG");
  redis.command({"SET", "k", "v"});
  int port = redis.port();
  redis.kill();
  EXPECT_FALSE(redis.running());
  EXPECT_THROW(redis.command({"PING"}), std::runtime_error);
  redis.restart();
  EXPECT_EQ(redis.port(), port);
  EXPECT_EQ(redis.command({"GET", "k"}), "v");  // appendfsync always: survives SIGKILL
}

TEST(RedisServer, NoPersistenceByDefaultAndPassword) {
  if (!redis_server_available()) GTEST_SKIP() << "no redis-server";
  RedisServerOptions opt;
  opt.password = "s3cret";
  RedisServer redis(opt);
  EXPECT_EQ(redis.url(1), "redis://:s3cret@127.0.0.1:" + std::to_string(redis.port()) + "/1");
  EXPECT_EQ(redis.command({"CONFIG", "GET", "appendonly"}), "appendonly no");
  redis.command({"SET", "k", "v"});
  redis.stop();
  redis.restart();
  EXPECT_EQ(redis.command({"GET", "k"}), "(nil)");
}

}  // namespace
}  // namespace kiq::testing
