// RedisStore against a private redis-server: the exact Sidekiq keys, types and values (read back
// with raw commands, as Ruby Sidekiq and its Web UI would), kiq's reliable-fetch bookkeeping,
// Lua script reloading, AUTH/SELECT, and behaviour when Redis goes away and comes back.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <signal.h>

#include <cstdlib>
#include <set>
#include <thread>

#include "kiq/store/redis.hpp"
#include "support/redis_server.hpp"

namespace kiq {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using testing::RedisServer;

std::string job(const std::string& jid, const std::string& queue = "default",
                const std::string& args = "[]") {
  return R"({"class":"HardJob","args":)" + args + R"(,"queue":")" + queue + R"(","jid":")" + jid +
         R"(","retry":true,"created_at":1700000000.5,"enqueued_at":1700000000.25})";
}

class RedisStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (testing::redis_server_available()) server_ = std::make_unique<RedisServer>();
  }
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override {
    if (!server_) GTEST_SKIP() << "redis-server not available";
    redis().command({"FLUSHALL"});
    store_ = make_redis_store(redis().url());
  }

  static RedisServer& redis() { return *server_; }
  std::string raw(const std::vector<std::string>& argv) { return redis().command(argv); }
  RedisStore& store() { return *store_; }

  static std::unique_ptr<RedisServer> server_;
  std::shared_ptr<RedisStore> store_;
};

std::unique_ptr<RedisServer> RedisStoreTest::server_;

TEST_F(RedisStoreTest, PushWritesSidekiqKeysInOnePipeline) {
  std::vector<std::string> payloads{job("a1"), job("a2")};
  store().push("default", payloads);
  EXPECT_EQ(raw({"TYPE", "queues"}), "set");
  EXPECT_EQ(raw({"SMEMBERS", "queues"}), "default");
  EXPECT_EQ(raw({"TYPE", "queue:default"}), "list");
  // LPUSH a1 a2: the last listed ends up leftmost; the consumer end (right) has a1.
  EXPECT_EQ(raw({"LINDEX", "queue:default", "0"}), job("a2"));
  EXPECT_EQ(raw({"LINDEX", "queue:default", "-1"}), job("a1"));
  EXPECT_EQ(store().queue_size("default"), 2);
  EXPECT_THAT(store().queue_range("default", 0, 10), ElementsAre(job("a2"), job("a1")));
}

TEST_F(RedisStoreTest, ScheduleIsOneZaddWithFullPrecisionScores) {
  const double at1 = 1700000123.123456789, at2 = 1700000001.5;
  std::vector<ScoredPayload> jobs{{at1, job("s1")}, {at2, job("s2")}};
  store().schedule(jobs);
  EXPECT_EQ(raw({"TYPE", "schedule"}), "zset");
  EXPECT_EQ(std::strtod(raw({"ZSCORE", "schedule", job("s1")}).c_str(), nullptr), at1);
  EXPECT_EQ(std::strtod(raw({"ZSCORE", "schedule", job("s2")}).c_str(), nullptr), at2);
  EXPECT_EQ(raw({"EXISTS", "queues"}), "0");  // no SADD queues at schedule time
  auto r = store().range(SortedSetName::kSchedule, 0, 10);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].payload, job("s2"));
  EXPECT_EQ(r[1].score, at1);
}

TEST_F(RedisStoreTest, FetchMovesIntoInProgressListAndAckRemoves) {
  std::vector<std::string> payloads{job("f1"), job("f2"), job("f3")};
  store().push("default", payloads);
  std::vector<std::string> queues{"default"};
  auto got = store().fetch("host:1:abc", queues, 2, std::chrono::milliseconds(0));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].queue, "default");
  EXPECT_EQ(got[0].payload, job("f1"));  // FIFO: oldest first
  EXPECT_EQ(got[1].payload, job("f2"));
  EXPECT_EQ(raw({"TYPE", "kiq:inprogress|host:1:abc|default"}), "hash");
  EXPECT_EQ(raw({"HLEN", "kiq:inprogress|host:1:abc|default"}), "2");
  // Each job's token is its field: fetch numbers, in fetch order.
  EXPECT_EQ(got[0].token, "1");
  EXPECT_EQ(got[1].token, "2");
  EXPECT_EQ(raw({"HGET", "kiq:inprogress|host:1:abc|default", got[1].token}), job("f2"));
  EXPECT_EQ(raw({"SMEMBERS", "kiq:inprogress"}), "host:1:abc");
  EXPECT_EQ(raw({"SMEMBERS", "kiq:inprogress|host:1:abc"}), "default");
  EXPECT_EQ(raw({"LLEN", "queue:default"}), "1");

  auto in = store().in_progress("host:1:abc");
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0].payload, job("f1"));
  EXPECT_EQ(in[0].token, got[0].token);

  store().ack("host:1:abc", got[0]);
  EXPECT_EQ(raw({"HVALS", "kiq:inprogress|host:1:abc|default"}), job("f2"));
  std::vector<FetchedJob> rest{got[1]};
  store().ack_many("host:1:abc", rest);
  EXPECT_EQ(raw({"HLEN", "kiq:inprogress|host:1:abc|default"}), "0");
  EXPECT_TRUE(store().in_progress("host:1:abc").empty());
  // The fetch numbers go on: a token is never reused while the identity owns jobs.
  auto third = store().fetch("host:1:abc", queues, 1, std::chrono::milliseconds(0));
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].token, "3");
}

// A job made by hand (no token) is found by its payload: the oldest copy goes first.
TEST_F(RedisStoreTest, AckOfAJobWithoutTokenRemovesTheOldestCopy) {
  std::vector<std::string> payloads{job("same"), job("same"), job("other")};
  store().push("default", payloads);
  std::vector<std::string> queues{"default"};
  auto got = store().fetch("w", queues, 3, std::chrono::milliseconds(0));
  ASSERT_EQ(got.size(), 3u);
  store().ack("w", FetchedJob{"default", job("same")});
  auto in = store().in_progress("w");
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0].token, got[1].token);
  EXPECT_EQ(in[1].payload, job("other"));
  store().ack("w", FetchedJob{"default", job("missing")});  // nothing to remove: no error
  store().requeue("w", std::vector<FetchedJob>{FetchedJob{"default", job("other")}});
  EXPECT_EQ(store().queue_size("default"), 1);
  EXPECT_EQ(raw({"HLEN", "kiq:inprogress|w|default"}), "1");
}

TEST_F(RedisStoreTest, FetchWalksQueuesInOrderAndFillsTheBatch) {
  std::vector<std::string> low{job("l1", "low"), job("l2", "low")};
  std::vector<std::string> high{job("h1", "high")};
  store().push("low", low);
  store().push("high", high);
  std::vector<std::string> queues{"high", "low"};
  auto got = store().fetch("w", queues, 10, std::chrono::milliseconds(0));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].queue, "high");
  EXPECT_EQ(got[1].queue, "low");
  EXPECT_EQ(got[1].payload, job("l1", "low"));
  EXPECT_THAT(raw({"SMEMBERS", "kiq:inprogress|w"}), ::testing::AnyOf("high low", "low high"));
}

// The fetch script moves jobs with RPOP <count> in chunks of 1000: a batch spanning chunks
// keeps FIFO order in the reply and in the in-progress list (oldest at its tail).
TEST_F(RedisStoreTest, FetchOfABatchLargerThanAChunkKeepsOrder) {
  std::vector<std::string> payloads;
  for (int i = 0; i < 2500; ++i) payloads.push_back(job("b" + std::to_string(i)));
  store().push("default", payloads);
  std::vector<std::string> queues{"default"};
  auto got = store().fetch("w", queues, 2100, std::chrono::milliseconds(0));
  ASSERT_EQ(got.size(), 2100u);
  for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i].payload, payloads[i]) << i;
  EXPECT_EQ(raw({"HLEN", "kiq:inprogress|w|default"}), "2100");
  EXPECT_EQ(raw({"HGET", "kiq:inprogress|w|default", "1"}), payloads[0]);
  EXPECT_EQ(raw({"HGET", "kiq:inprogress|w|default", "2100"}), payloads[2099]);
  for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i].token, std::to_string(i + 1)) << i;
  EXPECT_EQ(raw({"LINDEX", "queue:default", "-1"}), payloads[2100]);
  EXPECT_EQ(store().queue_size("default"), 400);
}

TEST_F(RedisStoreTest, FetchOnEmptyQueuesWaitsThenReturnsNothing) {
  std::vector<std::string> queues{"a", "b"};
  EXPECT_TRUE(store().fetch("w", queues, 5, std::chrono::milliseconds(250)).empty());
  std::vector<std::string> one{"a"};
  EXPECT_TRUE(store().fetch("w", one, 5, std::chrono::milliseconds(250)).empty());
  EXPECT_EQ(raw({"EXISTS", "kiq:inprogress|w|a"}), "0");
}

TEST_F(RedisStoreTest, AckAndRetryAndKillAreAtomicMoves) {
  std::vector<std::string> payloads{job("r1"), job("k1")};
  store().push("default", payloads);
  std::vector<std::string> queues{"default"};
  auto got = store().fetch("w", queues, 2, std::chrono::milliseconds(0));
  ASSERT_EQ(got.size(), 2u);
  const std::string failed = job("r1") + " ";  // the retried payload differs from the fetched one
  store().ack_and_retry("w", got[0], 1700000100.25, failed);
  EXPECT_EQ(raw({"TYPE", "retry"}), "zset");
  EXPECT_EQ(raw({"ZSCORE", "retry", failed}), "1700000100.25");
  EXPECT_EQ(raw({"HLEN", "kiq:inprogress|w|default"}), "1");

  // Two old dead entries: one too old, one within the age limit.
  store().add(SortedSetName::kDead, 1000, job("ancient"));
  store().add(SortedSetName::kDead, 1700000000, job("recent"));
  DeadSetLimits limits{.max_age_seconds = 86400, .max_jobs = 10000};
  store().ack_and_kill("w", got[1], 1700000050.5, job("k1"), limits);
  EXPECT_EQ(raw({"HLEN", "kiq:inprogress|w|default"}), "0");
  EXPECT_EQ(raw({"ZRANGE", "dead", "0", "-1"}), job("recent") + " " + job("k1"));
  EXPECT_EQ(raw({"ZSCORE", "dead", job("k1")}), "1700000050.5");

  // Size limit: Sidekiq's ZREMRANGEBYRANK dead 0 -max_jobs keeps max_jobs - 1.
  for (int i = 0; i < 5; ++i) store().add(SortedSetName::kDead, 1700000060 + i, job("d" + std::to_string(i)));
  store().trim_dead(1700000100, {.max_age_seconds = 86400, .max_jobs = 3});
  EXPECT_EQ(store().size(SortedSetName::kDead), 2);
  auto newest = store().range(SortedSetName::kDead, 0, 1, /*reverse=*/true);
  ASSERT_EQ(newest.size(), 1u);
  EXPECT_EQ(newest[0].payload, job("d4"));
}

TEST_F(RedisStoreTest, RequeuePutsJobsBackAtTheConsumerEnd) {
  std::vector<std::string> payloads{job("q1"), job("q2"), job("q3")};
  store().push("default", payloads);
  std::vector<std::string> queues{"default"};
  auto got = store().fetch("w", queues, 2, std::chrono::milliseconds(0));
  ASSERT_EQ(got.size(), 2u);
  store().requeue("w", got);
  EXPECT_EQ(raw({"HLEN", "kiq:inprogress|w|default"}), "0");
  EXPECT_EQ(raw({"LLEN", "queue:default"}), "3");
  // RPUSH q1 q2: q2 is now the next job, then q1, then q3.
  auto again = store().fetch("w", queues, 3, std::chrono::milliseconds(0));
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(again[0].payload, job("q2"));
  EXPECT_EQ(again[1].payload, job("q1"));
  EXPECT_EQ(again[2].payload, job("q3"));
  // A job no longer in progress (e.g. already recovered elsewhere) is not pushed twice.
  store().ack("w", again[0]);
  std::vector<FetchedJob> stale{again[0]};
  store().requeue("w", stale);
  EXPECT_EQ(raw({"LLEN", "queue:default"}), "0");
}

TEST_F(RedisStoreTest, RecoverOrphansOnlyForExpiredProcesses) {
  std::vector<std::string> payloads{job("o1"), job("o2"), job("o3"), job("o4")};
  store().push("default", payloads);
  std::vector<std::string> queues{"default"};
  ProcessBeat alive{.identity = "alive:1:aaa", .info_json = "{}", .beat = 1700000000, .utc_date = "2023-11-14"};
  store().heartbeat(alive);
  auto a = store().fetch("alive:1:aaa", queues, 2, std::chrono::milliseconds(0));
  auto d = store().fetch("dead:2:bbb", queues, 2, std::chrono::milliseconds(0));
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(store().recover_orphans(), 2u);
  EXPECT_EQ(raw({"LLEN", "queue:default"}), "2");
  EXPECT_EQ(raw({"EXISTS", "kiq:inprogress|dead:2:bbb|default"}), "0");
  EXPECT_EQ(raw({"EXISTS", "kiq:inprogress|dead:2:bbb"}), "0");
  EXPECT_EQ(raw({"EXISTS", "kiq:seq|dead:2:bbb"}), "0");
  EXPECT_EQ(raw({"SMEMBERS", "kiq:inprogress"}), "alive:1:aaa");
  EXPECT_EQ(store().in_progress("alive:1:aaa").size(), 2u);
  // Recovered jobs are next, in their original order (o3 was fetched before o4).
  auto next = store().fetch("x", queues, 1, std::chrono::milliseconds(0));
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].payload, job("o3"));
  // recover(identity) ignores liveness.
  EXPECT_EQ(store().recover("alive:1:aaa"), 2u);
  EXPECT_TRUE(store().in_progress("alive:1:aaa").empty());
  EXPECT_EQ(store().recover_orphans(), 1u);  // "x" never had a heartbeat
  EXPECT_EQ(raw({"EXISTS", "kiq:inprogress"}), "0");
}

// Fetch numbers compare as numbers, not text ("10" after "9"): recovery keeps the fetch order.
TEST_F(RedisStoreTest, RecoverKeepsTheFetchOrderPastTenJobs) {
  std::vector<std::string> payloads;
  for (int i = 0; i < 25; ++i) payloads.push_back(job("n" + std::to_string(i)));
  store().push("default", payloads);
  std::vector<std::string> queues{"default"};
  ASSERT_EQ(store().fetch("gone:1:aaa", queues, 25, std::chrono::milliseconds(0)).size(), 25u);
  auto in = store().in_progress("gone:1:aaa");
  ASSERT_EQ(in.size(), 25u);
  for (std::size_t i = 0; i < in.size(); ++i) ASSERT_EQ(in[i].payload, payloads[i]) << i;
  EXPECT_EQ(store().recover_orphans(), 25u);
  auto again = store().fetch("x", queues, 25, std::chrono::milliseconds(0));
  ASSERT_EQ(again.size(), 25u);
  for (std::size_t i = 0; i < again.size(); ++i) ASSERT_EQ(again[i].payload, payloads[i]) << i;
}

// In-progress LISTs written by kiq before the hash are recovered too, oldest first.
TEST_F(RedisStoreTest, RecoverTakesBackInProgressListsOfOlderVersions) {
  raw({"LPUSH", "kiq:inprogress|old:1:aaa|default", job("l1"), job("l2")});  // l1 fetched first
  raw({"SADD", "kiq:inprogress|old:1:aaa", "default"});
  raw({"SADD", "kiq:inprogress", "old:1:aaa"});
  EXPECT_EQ(store().recover_orphans(), 2u);
  EXPECT_EQ(raw({"EXISTS", "kiq:inprogress|old:1:aaa|default"}), "0");
  std::vector<std::string> queues{"default"};
  auto next = store().fetch("x", queues, 2, std::chrono::milliseconds(0));
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next[0].payload, job("l1"));
  EXPECT_EQ(next[1].payload, job("l2"));
}

TEST_F(RedisStoreTest, PopDueIsInclusiveLimitedAndRemoves) {
  store().add(SortedSetName::kRetry, 100, job("p1"));
  store().add(SortedSetName::kRetry, 200, job("p2"));
  store().add(SortedSetName::kRetry, 200.5, job("p3"));
  store().add(SortedSetName::kRetry, 300, job("p4"));
  EXPECT_THAT(store().pop_due("poller", SortedSetName::kRetry, 200, 1), ElementsAre(job("p1")));
  EXPECT_THAT(store().pop_due("poller", SortedSetName::kRetry, 200, 10), ElementsAre(job("p2")));
  EXPECT_TRUE(store().pop_due("poller", SortedSetName::kRetry, 50, 10).empty());
  EXPECT_THAT(store().pop_due("poller", SortedSetName::kRetry, 1e9, 10), ElementsAre(job("p3"), job("p4")));
  EXPECT_EQ(raw({"EXISTS", "retry"}), "0");
}

// The claim is written by the same script that removes the member: the keys Ruby never reads.
TEST_F(RedisStoreTest, PopDueRecordsClaimsInAPrivateHashUntilCompleted) {
  store().add(SortedSetName::kSchedule, 1700000123.5, job("c1"));
  auto due = store().pop_due("host:2:def", SortedSetName::kSchedule, 1700000200, 10);
  ASSERT_THAT(due, ElementsAre(job("c1")));
  EXPECT_EQ(raw({"TYPE", "kiq:claims|host:2:def|schedule"}), "hash");
  EXPECT_EQ(std::stod(raw({"HGET", "kiq:claims|host:2:def|schedule", job("c1")})), 1700000123.5);
  EXPECT_EQ(raw({"SMEMBERS", "kiq:inprogress"}), "host:2:def");
  EXPECT_EQ(raw({"EXISTS", "schedule"}), "0");
  store().complete_claims("host:2:def", SortedSetName::kSchedule, due);
  EXPECT_EQ(raw({"EXISTS", "kiq:claims|host:2:def|schedule"}), "0");
  EXPECT_EQ(store().recover_orphans(), 0u);
  EXPECT_EQ(raw({"EXISTS", "kiq:inprogress"}), "0");
}

TEST_F(RedisStoreTest, TakeFindsTheMemberByJidNotBySubstring) {
  const std::string jid = "0123456789abcdef01234567";
  store().add(SortedSetName::kRetry, 10, job("other", "default", "[\"" + jid + "\"]"));
  store().add(SortedSetName::kRetry, 20, job(jid));
  store().add(SortedSetName::kRetry, 30, "not json " + jid);
  auto t = store().take(SortedSetName::kRetry, jid);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->payload, job(jid));
  EXPECT_EQ(t->score, 20);
  EXPECT_FALSE(store().take(SortedSetName::kRetry, jid).has_value());
  EXPECT_FALSE(store().take(SortedSetName::kRetry, "*").has_value());
  EXPECT_EQ(store().size(SortedSetName::kRetry), 2);
  EXPECT_EQ(store().clear(SortedSetName::kRetry), 2);
  EXPECT_EQ(raw({"EXISTS", "retry"}), "0");
}

TEST_F(RedisStoreTest, QueuesSummaryAndClear) {
  std::vector<std::string> payloads{job("x1"), job("x2")};
  store().push("default", payloads);
  std::vector<std::string> c{job("c1", "critical")};
  store().push("critical", c);
  auto qs = store().queues(1700000010.25);
  ASSERT_EQ(qs.size(), 2u);
  EXPECT_EQ(qs[0].name, "critical");
  EXPECT_EQ(qs[1].name, "default");
  EXPECT_EQ(qs[1].size, 2);
  EXPECT_DOUBLE_EQ(qs[1].latency_seconds, 10.0);
  EXPECT_EQ(store().clear_queue("default"), 2);
  EXPECT_EQ(raw({"SMEMBERS", "queues"}), "critical");
  EXPECT_EQ(raw({"EXISTS", "queue:default"}), "0");
}

TEST_F(RedisStoreTest, HeartbeatWritesSidekiqProcessKeysAndReturnsSignal) {
  ProcessBeat b;
  b.identity = "myhost:123:0123456789ab";
  b.info_json = R"({"hostname":"myhost","pid":123,"concurrency":10,"queues":["default"]})";
  b.busy = 2;
  b.beat = 1700000000.125;
  b.quiet = true;
  b.rss_kb = 4096;
  b.rtt_us = 150;
  b.work = {{"t1", R"({"queue":"default","payload":"{}","run_at":1700000000})"}};
  b.processed_delta = 5;
  b.failed_delta = 1;
  b.utc_date = "2023-11-14";
  b.ttl = std::chrono::seconds(60);
  store().signal(b.identity, "TSTP");
  EXPECT_EQ(raw({"TTL", b.identity + "-signals"}), "60");

  auto sig = store().heartbeat(b);
  ASSERT_TRUE(sig.has_value());
  EXPECT_EQ(*sig, "TSTP");
  EXPECT_EQ(raw({"TYPE", b.identity}), "hash");
  EXPECT_EQ(raw({"HGET", b.identity, "info"}), b.info_json);
  EXPECT_EQ(raw({"HGET", b.identity, "busy"}), "2");
  EXPECT_EQ(raw({"HGET", b.identity, "beat"}), "1700000000.125");
  EXPECT_EQ(raw({"HGET", b.identity, "quiet"}), "true");
  EXPECT_EQ(raw({"HGET", b.identity, "rss"}), "4096");
  EXPECT_EQ(raw({"HGET", b.identity, "rtt_us"}), "150");
  EXPECT_EQ(raw({"TTL", b.identity}), "60");
  EXPECT_EQ(raw({"SMEMBERS", "processes"}), b.identity);
  EXPECT_EQ(raw({"TYPE", b.identity + ":work"}), "hash");
  EXPECT_EQ(raw({"HGETALL", b.identity + ":work"}), "t1 " + b.work[0].second);
  EXPECT_EQ(raw({"TTL", b.identity + ":work"}), "60");
  EXPECT_EQ(raw({"GET", "stat:processed"}), "5");
  EXPECT_EQ(raw({"GET", "stat:failed"}), "1");
  EXPECT_EQ(raw({"GET", "stat:processed:2023-11-14"}), "5");
  EXPECT_EQ(raw({"TTL", "stat:failed:2023-11-14"}), "157680000");

  // Next beat: no signal, no work (hash removed), counters add up.
  b.work.clear();
  b.quiet = false;
  EXPECT_FALSE(store().heartbeat(b).has_value());
  EXPECT_EQ(raw({"EXISTS", b.identity + ":work"}), "0");
  EXPECT_EQ(raw({"HGET", b.identity, "quiet"}), "false");
  EXPECT_EQ(raw({"GET", "stat:processed"}), "10");

  auto procs = store().processes();
  ASSERT_EQ(procs.size(), 1u);
  EXPECT_EQ(procs[0].identity, b.identity);
  EXPECT_EQ(procs[0].busy, 2);
  EXPECT_EQ(procs[0].beat, 1700000000.125);
  EXPECT_EQ(procs[0].rss_kb, 4096);

  auto s = store().stats(1700000000);
  EXPECT_EQ(s.processed, 10);
  EXPECT_EQ(s.failed, 2);
  EXPECT_EQ(s.processes_size, 1);
  EXPECT_EQ(s.busy, 2);

  store().remove_process(b.identity);
  EXPECT_EQ(raw({"EXISTS", b.identity}), "0");
  EXPECT_EQ(raw({"SCARD", "processes"}), "0");
}

TEST_F(RedisStoreTest, ProcessesPrunesExpiredIdentitiesAndWorkListsRunningJobs) {
  ProcessBeat b{.identity = "h:1:aaaaaaaaaaaa", .info_json = "{}", .busy = 1, .beat = 1,
                .work = {{"tid1", "{\"queue\":\"q\"}"}}, .utc_date = "2023-11-14"};
  store().heartbeat(b);
  raw({"SADD", "processes", "gone:2:bbbbbbbbbbbb"});  // hash expired long ago
  auto procs = store().processes();
  ASSERT_EQ(procs.size(), 1u);
  EXPECT_EQ(raw({"SMEMBERS", "processes"}), "h:1:aaaaaaaaaaaa");
  auto w = store().work();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].identity, b.identity);
  EXPECT_EQ(w[0].tid, "tid1");
  EXPECT_EQ(w[0].work_json, "{\"queue\":\"q\"}");
}

TEST_F(RedisStoreTest, StatsSumsQueuesAndSets) {
  std::vector<std::string> p{job("1"), job("2")};
  store().push("default", p);
  store().push("other", p);
  store().add(SortedSetName::kSchedule, 1, job("s"));
  store().add(SortedSetName::kRetry, 1, job("r"));
  store().add(SortedSetName::kDead, 1, job("d"));
  auto s = store().stats(0);
  EXPECT_EQ(s.enqueued, 4);
  EXPECT_EQ(s.scheduled_size, 1);
  EXPECT_EQ(s.retry_size, 1);
  EXPECT_EQ(s.dead_size, 1);
  EXPECT_EQ(s.processed, 0);
  EXPECT_EQ(s.busy, 0);
}

TEST_F(RedisStoreTest, KeyValueAndWithConnection) {
  auto& kv = store().kv();
  kv.set("k", "v", std::chrono::seconds(3600));
  EXPECT_EQ(kv.get("k"), "v");
  EXPECT_GT(kv.ttl("k"), 3500);
  kv.set("p", "1");
  EXPECT_EQ(kv.ttl("p"), -1);
  EXPECT_EQ(kv.ttl("missing"), -2);
  EXPECT_EQ(kv.get("missing"), std::nullopt);
  EXPECT_EQ(kv.incr("n", 5), 5);
  EXPECT_EQ(kv.incr("n"), 6);
  EXPECT_TRUE(kv.del("n"));
  EXPECT_FALSE(kv.del("n"));
  EXPECT_TRUE(kv.sadd("s", "a"));
  EXPECT_FALSE(kv.sadd("s", "a"));
  EXPECT_TRUE(kv.sismember("s", "a"));
  EXPECT_EQ(kv.scard("s"), 1);
  EXPECT_THAT(kv.smembers("s"), ElementsAre("a"));
  EXPECT_THROW(kv.incr("k"), StoreError);  // not an integer: a clear error, no crash

  auto reply = store().with_connection([](RedisConnection& c) {
    c.command({"SETEX", "job:result", "3600", "42"}).check();
    return c.command({"GET", "job:result"});
  });
  EXPECT_EQ(reply.type, RedisReply::Type::kString);
  EXPECT_EQ(reply.str, "42");
  store().with_connection([](RedisConnection& c) {
    auto r = c.command({"NOSUCHCOMMAND"});
    EXPECT_TRUE(r.is_error());
    EXPECT_THROW(r.check(), StoreError);
    auto p = c.pipeline({{"INCR", "c"}, {"INCR", "c"}});
    EXPECT_EQ(p[1].integer, 2);
  });
  // Replies left unread by job code must not leak into the next user of the connection.
  store().with_connection([](RedisConnection& c) { c.append({"GET", "no-such-key"}); });
  EXPECT_EQ(store().kv().get("job:result"), "42");
  EXPECT_GE(store().ping_us(), 0);
  EXPECT_EQ(store().describe(), redis().url());
}

TEST_F(RedisStoreTest, WrongTypeKeysGiveStoreErrors) {
  raw({"SET", "queue:broken", "x"});
  std::vector<std::string> p{job("1")};
  EXPECT_THROW(store().push("broken", p), StoreError);
  std::vector<std::string> queues{"broken"};
  EXPECT_THROW(store().fetch("w", queues, 1, std::chrono::milliseconds(0)), StoreError);
  // The store keeps working afterwards.
  store().push("default", p);
  EXPECT_EQ(store().queue_size("default"), 1);
}

TEST_F(RedisStoreTest, PushBatchesIsSaddThenOneLpushPerBatch) {
  int calls = 0;
  store().push_batches("bulk", [&](std::vector<std::string>& batch) {
    if (++calls > 2) return false;
    batch = {job("b" + std::to_string(calls) + "x"), job("b" + std::to_string(calls) + "y")};
    return true;
  });
  EXPECT_EQ(raw({"SMEMBERS", "queues"}), "bulk");
  // Each batch is an LPUSH of its payloads: the last listed of the last batch is leftmost.
  EXPECT_THAT(store().queue_range("bulk", 0, 10),
              ElementsAre(job("b2y"), job("b2x"), job("b1y"), job("b1x")));
}

TEST_F(RedisStoreTest, PushBatchesToAWrongTypeKeyIsAStoreError) {
  raw({"SET", "queue:broken", "x"});
  int calls = 0;
  EXPECT_THROW(store().push_batches("broken", [&](std::vector<std::string>& batch) {
    if (++calls > 3) return false;
    batch = {job("1")};
    return true;
  }), StoreError);
  std::vector<std::string> p{job("1")};
  store().push("default", p);  // the store keeps working
  EXPECT_EQ(store().queue_size("default"), 1);
}

TEST_F(RedisStoreTest, PushBatchesCutOffMidwayIsNotRetried) {
  std::vector<std::string> p{job("warm")};
  store().push("default", p);  // the pooled connection has served: run() would retry on it
  int calls = 0;
  EXPECT_THROW(store().push_batches("bulk", [&](std::vector<std::string>& batch) {
    if (++calls == 3) raw({"CLIENT", "KILL", "TYPE", "normal"});
    if (calls > 4) return false;
    batch = {job("b" + std::to_string(calls))};
    return true;
  }), StoreError);
  // Batches Redis had stored (the kill may come before it read any) are not pushed a second
  // time on a fresh connection.
  EXPECT_LE(store().queue_size("bulk"), 3);
  auto all = store().queue_range("bulk", 0, 10);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), all.size());
}

TEST_F(RedisStoreTest, LuaScriptsAreReloadedAfterScriptFlush) {
  std::vector<std::string> p{job("1"), job("2")};
  store().push("default", p);
  std::vector<std::string> queues{"default"};
  ASSERT_EQ(store().fetch("w", queues, 1, std::chrono::milliseconds(0)).size(), 1u);
  raw({"SCRIPT", "FLUSH"});
  EXPECT_EQ(store().fetch("w", queues, 1, std::chrono::milliseconds(0)).size(), 1u);
  raw({"SCRIPT", "FLUSH"});
  EXPECT_EQ(store().recover("w"), 2u);
}

TEST_F(RedisStoreTest, BlockingFetchWakesUpOnPush) {
  std::vector<std::string> queues{"default"};
  std::thread producer([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::vector<std::string> p{job("late")};
    store().push("default", p);
  });
  auto got = store().fetch("w", queues, 5, std::chrono::seconds(30));
  producer.join();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, job("late"));
  EXPECT_EQ(raw({"HLEN", "kiq:inprogress|w|default"}), "1");
  EXPECT_EQ(raw({"SMEMBERS", "kiq:inprogress"}), "w");
}

// ---- AUTH / SELECT ----------------------------------------------------------------------------

TEST(RedisStoreAuth, PasswordAndDatabaseOnEveryConnection) {
  if (!testing::redis_server_available()) GTEST_SKIP();
  testing::RedisServerOptions opt;
  opt.password = "pa55";
  RedisServer redis(opt);
  auto store = make_redis_store(redis.url(3));
  std::vector<std::string> p{job("1")};
  store->push("default", p);
  EXPECT_EQ(redis.command({"SELECT", "3"}), "OK");
  // A fresh connection (command() opens one per call) is in db 0: the job is in db 3 only.
  EXPECT_EQ(redis.command({"EXISTS", "queue:default"}), "0");
  EXPECT_EQ(store->queue_size("default"), 1);

  auto bad = make_redis_store("redis://:wrong@127.0.0.1:" + std::to_string(redis.port()));
  try {
    bad->queue_size("default");
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("AUTH"));
    EXPECT_THAT(e.what(), ::testing::Not(HasSubstr("wrong")));  // no password in messages
  }
}

TEST(RedisStoreUnixSocket, ConnectsThroughTheSocket) {
  if (!testing::redis_server_available()) GTEST_SKIP();
  testing::RedisServerOptions opt;
  opt.unix_socket = true;
  RedisServer redis(opt);
  auto store = make_redis_store(redis.unix_url(2));
  std::vector<std::string> p{job("u1")};
  store->push("default", p);
  EXPECT_EQ(store->queue_size("default"), 1);
  EXPECT_EQ(redis.command({"EXISTS", "queue:default"}), "0");  // it went to db 2
  EXPECT_EQ(store->describe(), redis.unix_url(2));
}

// ---- outages ----------------------------------------------------------------------------------

// Collects kiq's log lines so the test can count outage messages.
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000)) {
    spdlog::default_logger()->sinks().push_back(sink_);
  }
  ~LogCapture() {
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }
  int count(const std::string& needle) const {
    int n = 0;
    for (const auto& line : sink_->last_formatted()) n += line.find(needle) != std::string::npos;
    return n;
  }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
};

// Retries `op` until it stops throwing StoreError (generous deadline, only against hangs).
template <class F>
void eventually(F op) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    try {
      op();
      return;
    } catch (const StoreError&) {
      if (std::chrono::steady_clock::now() > deadline) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

TEST(RedisStoreOutage, ThrowsDuringOutageLogsOnceAndRecovers) {
  if (!testing::redis_server_available()) GTEST_SKIP();
  testing::RedisServerOptions opt;
  opt.persistence = true;
  RedisServer redis(opt);
  RedisOptions ro;
  ro.min_backoff = std::chrono::milliseconds(20);
  ro.max_backoff = std::chrono::milliseconds(200);
  ro.connect_timeout = std::chrono::milliseconds(500);
  auto store = make_redis_store(redis.url(), ro);
  std::vector<std::string> p{job("before")};
  store->push("default", p);

  LogCapture logs;
  redis.stop();
  int failures = 0;
  for (int i = 0; i < 20; ++i) {
    try {
      store->queue_size("default");
    } catch (const StoreError& e) {
      ++failures;
      EXPECT_THAT(e.what(), HasSubstr(store->describe()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(failures, 20);
  EXPECT_EQ(logs.count("unavailable"), 1);

  redis.restart();
  std::int64_t size = -1;
  eventually([&] { size = store->queue_size("default"); });
  EXPECT_EQ(size, 1);  // appendfsync always: the job survived the restart
  EXPECT_EQ(logs.count("restored"), 1);
  std::vector<std::string> q{"default"};
  auto got = store->fetch("w", q, 1, std::chrono::milliseconds(0));
  ASSERT_EQ(got.size(), 1u);  // scripts are loaded again on the new server
}

TEST(RedisStoreOutage, DroppedIdleConnectionsAreReplacedTransparently) {
  if (!testing::redis_server_available()) GTEST_SKIP();
  RedisServer redis;
  auto store = make_redis_store(redis.url());
  std::vector<std::string> p{job("1")};
  store->push("default", p);
  LogCapture logs;
  redis.command({"CLIENT", "KILL", "TYPE", "normal"});
  // The pooled connection is dead; the operation is retried once on a new one.
  EXPECT_EQ(store->queue_size("default"), 1);
  EXPECT_EQ(logs.count("unavailable"), 0);
}

TEST(RedisStoreOutage, PushBatchesOnADroppedIdleConnectionIsRetriedOnce) {
  if (!testing::redis_server_available()) GTEST_SKIP();
  RedisServer redis;
  auto store = make_redis_store(redis.url());
  std::vector<std::string> p{job("1")};
  store->push("default", p);
  redis.command({"CLIENT", "KILL", "TYPE", "normal"});
  int calls = 0;
  store->push_batches("bulk", [&](std::vector<std::string>& batch) {
    if (++calls > 3) return false;
    batch = {job("b" + std::to_string(calls))};
    return true;
  });
  EXPECT_EQ(store->queue_size("bulk"), 3);  // each batch exactly once
}

TEST(RedisStoreOutage, RestartWhileIdleIsInvisible) {
  if (!testing::redis_server_available()) GTEST_SKIP();
  testing::RedisServerOptions opt;
  opt.persistence = true;
  RedisServer redis(opt);
  auto store = make_redis_store(redis.url());
  std::vector<std::string> p{job("1")};
  store->push("default", p);
  std::vector<std::string> q{"default"};
  ASSERT_EQ(store->fetch("w", q, 1, std::chrono::milliseconds(0)).size(), 1u);  // scripts loaded
  redis.restart();
  store->push("default", p);  // no StoreError: the dead pooled connection is replaced
  EXPECT_EQ(store->queue_size("default"), 1);
  EXPECT_EQ(store->in_progress("w").size(), 1u);
  EXPECT_EQ(store->fetch("w", q, 1, std::chrono::milliseconds(0)).size(), 1u);  // NOSCRIPT reload
}

TEST(RedisStoreOutage, HungServerTimesOutAndIsNotReportedRestoredUntilItAnswers) {
  if (!testing::redis_server_available()) GTEST_SKIP();
  RedisServer redis;
  RedisOptions ro;
  ro.command_timeout = std::chrono::milliseconds(300);
  ro.min_backoff = std::chrono::milliseconds(20);
  ro.max_backoff = std::chrono::milliseconds(100);
  auto store = make_redis_store(redis.url(), ro);
  EXPECT_EQ(store->queue_size("default"), 0);
  LogCapture logs;
  ::kill(redis.pid(), SIGSTOP);  // the kernel still accepts connections; nobody answers
  int timeouts = 0;
  for (int i = 0; i < 10; ++i) {
    try {
      store->queue_size("default");
    } catch (const StoreError& e) {
      timeouts += std::string(e.what()).find("timed out") != std::string::npos;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  EXPECT_GE(timeouts, 1);
  EXPECT_EQ(logs.count("unavailable"), 1);
  EXPECT_EQ(logs.count("restored"), 0);  // connecting to a hung server is not a recovery
  ::kill(redis.pid(), SIGCONT);
  std::int64_t size = -1;
  eventually([&] { size = store->queue_size("default"); });
  EXPECT_EQ(size, 0);
  EXPECT_EQ(logs.count("restored"), 1);
}

TEST(RedisStoreOutage, UnreachableServerFailsFastWithoutHanging) {
  RedisOptions ro;
  ro.connect_timeout = std::chrono::milliseconds(300);
  auto store = make_redis_store("redis://127.0.0.1:1/0", ro);
  EXPECT_THROW(store->queue_size("default"), StoreError);
  EXPECT_THROW(store->queue_size("default"), StoreError);  // backoff: refused without trying
  std::vector<std::string> q{"default"};
  EXPECT_THROW(store->fetch("w", q, 1, std::chrono::seconds(1)), StoreError);
}

}  // namespace
}  // namespace kiq
