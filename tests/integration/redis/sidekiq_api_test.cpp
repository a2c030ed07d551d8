// What RedisStore writes, read back by Ruby Sidekiq 6.4's own API (Stats, ProcessSet, Workers,
// RetrySet, Queue) through tests/interop/sidekiq/sidekiq_tool.rb; and a Ruby-pushed job fetched
// by RedisStore. Skipped when ruby or the sidekiq gem is missing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>

#include "kiq/store/redis.hpp"
#include "support/child_process.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"

namespace kiq {
namespace {

using nlohmann::json;
using testing::ChildOptions;
using testing::ChildProcess;

std::string tool_path() {
  const char* src = std::getenv("KIQ_SOURCE_DIR");
  return std::string(src ? src : ".") + "/tests/interop/sidekiq/sidekiq_tool.rb";
}

bool ruby_sidekiq_available() {
  if (!std::filesystem::exists(tool_path())) return false;
  auto p = ChildProcess::spawn("ruby", {"-e", "require 'sidekiq/api'"},
                               ChildOptions{.stdout_path = "/dev/null", .stderr_path = "/dev/null"});
  auto st = p.wait_for(std::chrono::seconds(60));
  return st && st->success();
}

class SidekiqApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::redis_server_available() || !ruby_sidekiq_available()) {
      GTEST_SKIP() << "needs redis-server, ruby and ruby-sidekiq";
    }
    redis_ = std::make_unique<testing::RedisServer>();
    store_ = make_redis_store(redis_->url());
  }

  // Runs the Ruby tool and parses its JSON output.
  json ruby(const std::vector<std::string>& args) {
    std::vector<std::string> argv{tool_path()};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildOptions o{.env = {"REDIS_URL=" + redis_->url()},
                   .stdout_path = tmp_.file("out"),
                   .stderr_path = tmp_.file("err")};
    auto p = ChildProcess::spawn("ruby", argv, o);
    auto st = p.wait_for(std::chrono::seconds(120));
    EXPECT_TRUE(st && st->success()) << testing::read_file(tmp_.file("err"));
    return json::parse(testing::read_file(tmp_.file("out")));
  }

  testing::TempDir tmp_;
  std::unique_ptr<testing::RedisServer> redis_;
  std::shared_ptr<RedisStore> store_;
};

TEST_F(SidekiqApiTest, RubySeesProcessesWorkStatsAndSets) {
  const std::string payload =
      R"({"class":"MarkJob","args":["s","1"],"queue":"default","jid":"aaaaaaaaaaaaaaaaaaaaaaaa","retry":true,"created_at":1700000000.5,"enqueued_at":1700000000.25})";
  ProcessBeat b;
  b.identity = "kiqhost:4242:0123456789ab";
  b.info_json = json{{"hostname", "kiqhost"}, {"started_at", 1700000000.5}, {"pid", 4242},
                     {"tag", ""}, {"concurrency", 10}, {"queues", {"default"}},
                     {"labels", json::array()}, {"identity", b.identity}}.dump();
  b.busy = 1;
  b.beat = 1700000001.25;
  b.rss_kb = 5000;
  b.rtt_us = 99;
  b.work = {{"t1", json{{"queue", "default"}, {"payload", payload}, {"run_at", 1700000001}}.dump()}};
  b.processed_delta = 7;
  b.failed_delta = 2;
  b.utc_date = "2023-11-14";
  store_->heartbeat(b);
  std::vector<std::string> pushed{payload, payload};
  store_->push("default", pushed);
  store_->add(SortedSetName::kRetry, 1700000100.5,
              R"({"class":"MarkJob","args":[],"queue":"default","jid":"bbbbbbbbbbbbbbbbbbbbbbbb","retry":true,"retry_count":0,"error_class":"RuntimeError","error_message":"boom","failed_at":1700000000.5})");

  auto stats = ruby({"stats"});
  EXPECT_EQ(stats["processed"], 7);
  EXPECT_EQ(stats["failed"], 2);
  EXPECT_EQ(stats["enqueued"], 2);
  EXPECT_EQ(stats["retries"], 1);
  EXPECT_EQ(stats["processes"], 1);
  EXPECT_EQ(stats["workers"], 1);
  EXPECT_EQ(stats["queues"]["default"], 2);

  auto procs = ruby({"processes"});
  ASSERT_EQ(procs.size(), 1u);
  EXPECT_EQ(procs[0]["identity"], b.identity);
  EXPECT_EQ(procs[0]["pid"], 4242);
  EXPECT_EQ(procs[0]["concurrency"], 10);
  EXPECT_EQ(procs[0]["busy"], 1);
  EXPECT_EQ(procs[0]["quiet"], "false");
  EXPECT_EQ(procs[0]["stopping"], false);
  EXPECT_DOUBLE_EQ(procs[0]["beat"].get<double>(), 1700000001.25);

  auto workers = ruby({"workers"});
  ASSERT_EQ(workers.size(), 1u);
  EXPECT_EQ(workers[0]["process"], b.identity);
  EXPECT_EQ(workers[0]["tid"], "t1");
  EXPECT_EQ(workers[0]["payload"]["jid"], "aaaaaaaaaaaaaaaaaaaaaaaa");

  auto retries = ruby({"list", "retries"});
  ASSERT_EQ(retries.size(), 1u);
  EXPECT_EQ(retries[0]["jid"], "bbbbbbbbbbbbbbbbbbbbbbbb");
  EXPECT_EQ(retries[0]["error_class"], "RuntimeError");
  EXPECT_DOUBLE_EQ(retries[0]["score"].get<double>(), 1700000100.5);
}

TEST_F(SidekiqApiTest, RubyPushedJobIsFetchedByRedisStore) {
  auto jids = ruby({"push", "marks", "1", "3", "critical"});
  ASSERT_EQ(jids.size(), 3u);
  std::vector<std::string> queues{"critical"};
  auto got = store_->fetch("kiq:1:x", queues, 10, std::chrono::milliseconds(0));
  ASSERT_EQ(got.size(), 3u);
  auto first = json::parse(got[0].payload);
  EXPECT_EQ(first["jid"], jids[0]);  // FIFO across the Ruby LPUSH / kiq RPOP ends
  EXPECT_EQ(first["class"], "MarkJob");
  EXPECT_EQ(ruby({"queue_size", "critical"}), 0);
  store_->requeue("kiq:1:x", got);
  EXPECT_EQ(ruby({"queue_size", "critical"}), 3);
}

}  // namespace
}  // namespace kiq
