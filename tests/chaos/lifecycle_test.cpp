// Process lifecycle guarantees of the real `kiq` binary on a private redis-server (issue 5):
//  * SIGTERM with jobs running longer than the shutdown timeout puts them back in their queue,
//    and a new server completes them;
//  * SIGTSTP (quiet) stops fetching at once;
//  * an enqueue that cannot reach Redis fails loudly (exit code 1 + message; StoreError).
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "kiq/client.hpp"
#include "kiq/store/redis.hpp"
#include "support/child_process.hpp"
#include "support/free_port.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"

namespace kiq {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::RedisServer;

std::string kiq_binary() {
  const char* dir = std::getenv("KIQ_BINARY_DIR");
  return std::string(dir ? dir : ".") + "/kiq";
}

// Polls `condition` every 20 ms for up to `timeout` (generous: only there to avoid hangs).
template <class F>
bool eventually(F condition, std::chrono::milliseconds timeout = 30s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

// True if one line of `text` contains both `a` and `b`.
bool has_line_with(const std::string& text, const std::string& a, const std::string& b) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    if (line.find(a) != std::string_view::npos && line.find(b) != std::string_view::npos) return true;
    start = end + 1;
  }
  return false;
}

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::redis_server_available()) GTEST_SKIP() << "redis-server not installed";
    redis_ = std::make_unique<RedisServer>();
    store_ = make_redis_store(redis_->url());
  }

  ChildProcess server(const std::string& log, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"server", "--redis", redis_->url(), "--heartbeat-interval", "0.2",
                                     "--poll-interval", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    return ChildProcess::spawn(kiq_binary(), args,
                               {.unset_env = {"REDIS_URL"}, .stdout_path = log, .stderr_path = log});
  }

  std::int64_t busy() {
    std::int64_t n = 0;
    for (const ProcessRecord& p : store_->processes()) n += p.busy;
    return n;
  }
  std::size_t running_jobs() { return store_->work().size(); }

  std::unique_ptr<RedisServer> redis_;
  std::shared_ptr<RedisStore> store_;
  testing::TempDir logs_{"kiq-lifecycle"};
};

TEST_F(LifecycleTest, SigtermRequeuesJobsOutlivingTheTimeoutAndANewServerFinishesThem) {
  Client client(store_);
  std::vector<std::string> jids;
  for (int i = 0; i < 3; ++i) jids.push_back(*client.perform_async("SleepJob", Json::array({2500})));

  ChildProcess first = server(logs_.file("first.log"), {"-c", "3", "-t", "0.3"});
  ASSERT_TRUE(eventually([&] { return running_jobs() == 3; })) << testing::read_file(logs_.file("first.log"));
  first.signal(SIGTERM);
  auto status = first.wait_for(30s);
  ASSERT_TRUE(status) << "server did not stop within 30 s of SIGTERM";
  EXPECT_TRUE(status->success()) << status->describe();

  // Back at the consumer end of their queue, nothing owned, the process gone.
  EXPECT_EQ(store_->queue_size("default"), 3);
  std::string queued;
  for (const std::string& payload : store_->queue_range("default", 0, 10)) queued += payload;
  for (const std::string& jid : jids) EXPECT_NE(queued.find(jid), std::string::npos) << jid;
  EXPECT_TRUE(store_->processes().empty());
  EXPECT_EQ(store_->size(SortedSetName::kRetry), 0);
  EXPECT_EQ(store_->size(SortedSetName::kDead), 0);

  // A new server completes them (its job log says `done` for each jid).
  ChildProcess second = server(logs_.file("second.log"), {"-c", "3"});
  auto done = [&] {
    std::string log = testing::read_file(logs_.file("second.log"));
    for (const std::string& jid : jids)
      if (!has_line_with(log, "jid=" + jid, "INFO: done")) return false;
    return true;
  };
  EXPECT_TRUE(eventually(done)) << testing::read_file(logs_.file("second.log"));
  EXPECT_TRUE(eventually([&] { return store_->queue_size("default") == 0 && running_jobs() == 0; }));
  EXPECT_TRUE(second.terminate(30s).success());
}

TEST_F(LifecycleTest, SigtstpStopsFetchingAtOnce) {
  Client client(store_);
  client.perform_async("SleepJob", Json::array({1000}));
  ChildProcess s = server(logs_.file("quiet.log"), {"-c", "2", "-t", "5"});
  ASSERT_TRUE(eventually([&] { return running_jobs() == 1; })) << testing::read_file(logs_.file("quiet.log"));
  s.signal(SIGTSTP);
  ASSERT_TRUE(eventually([&] {
    auto p = store_->processes();
    return p.size() == 1 && p[0].quiet;
  })) << "the heartbeat never said quiet";
  for (int i = 0; i < 5; ++i) client.perform_async("NoopJob");
  // Well past several fetch rounds and the running job's end: nothing new was taken.
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(store_->queue_size("default"), 5);
  EXPECT_TRUE(store_->in_progress(store_->processes().at(0).identity).empty());
  EXPECT_TRUE(s.running()) << "quiet must not stop the process";
  EXPECT_TRUE(s.terminate(30s).success());
  EXPECT_EQ(store_->queue_size("default"), 5);
}

TEST(EnqueueWithoutRedis, CliExitsOneWithAClearMessage) {
  testing::TempDir dir("kiq-enqueue");
  std::string url = "redis://127.0.0.1:" + std::to_string(testing::free_port()) + "/0";
  ChildProcess p = ChildProcess::spawn(kiq_binary(), {"enqueue", "NoopJob", "[]", "--redis", url},
                                       {.stdout_path = dir.file("out"), .stderr_path = dir.file("err")});
  auto status = p.wait_for(60s);
  ASSERT_TRUE(status) << "kiq enqueue hung";
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->code, 1);
  std::string err = testing::read_file(dir.file("err"));
  EXPECT_NE(err.find("Redis"), std::string::npos) << err;
  EXPECT_EQ(testing::read_file(dir.file("out")), "") << "no jid may be printed for a job not pushed";
}

TEST(EnqueueWithoutRedis, ClientThrowsStoreError) {
  std::string url = "redis://127.0.0.1:" + std::to_string(testing::free_port()) + "/0";
  RedisOptions options;
  options.connect_timeout = 500ms;
  Client client(make_redis_store(url, options));
  EXPECT_THROW(client.perform_async("NoopJob"), StoreError);
  EXPECT_THROW(client.push_bulk("NoopJob", {Json::array(), Json::array()}), StoreError);
}

TEST(EnqueueWithoutRedis, ClientThrowsWhileRedisIsDownAndWorksAfterwards) {
  if (!testing::redis_server_available()) GTEST_SKIP() << "redis-server not installed";
  RedisServer redis(testing::RedisServerOptions{.persistence = true});
  auto store = make_redis_store(redis.url());
  Client client(store);
  ASSERT_TRUE(client.perform_async("NoopJob"));
  redis.stop();
  EXPECT_THROW(client.perform_async("NoopJob"), StoreError);
  redis.restart();
  EXPECT_TRUE(eventually([&] {
    try {
      return client.perform_async("NoopJob").has_value();
    } catch (const StoreError&) {
      return false;  // still backing off
    }
  }));
  EXPECT_EQ(store->queue_size("default"), 2) << "exactly the two acknowledged pushes";
}

}  // namespace
}  // namespace kiq
