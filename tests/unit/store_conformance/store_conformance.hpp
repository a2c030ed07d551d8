// The Store conformance suite: every Store implementation must pass it unchanged, which is how
// MemoryStore and RedisStore keep identical behaviour.
//
// Use: include this header in ONE test source of a binary and instantiate the suite with a
// factory that returns a fresh, EMPTY store per test (Redis: FLUSHDB first):
//
//   INSTANTIATE_TEST_SUITE_P(Memory, StoreConformance,
//       ::testing::Values(kiq::conformance::StoreFactory{"memory", [] {
//         return std::make_shared<kiq::MemoryStore>(); }}));
//
// A few tests wait ~1.5 s for TTLs of 1 s to pass (Redis TTL granularity is one second); no test
// asserts on how long anything took. Link with GTest and a thread library; the suite spawns
// threads, so give the binary LABELS tsan.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "kiq/store.hpp"

namespace kiq::conformance {

struct StoreFactory {
  std::string name;
  std::function<std::shared_ptr<Store>()> make;
};
inline void PrintTo(const StoreFactory& f, std::ostream* os) { *os << f.name; }

class StoreConformance : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam().make();
    ASSERT_TRUE(store_) << "factory returned no store";
  }
  void TearDown() override { store_.reset(); }

  // A minimal Sidekiq-looking job JSON with the given jid (and enqueued_at when > 0).
  static std::string job(const std::string& jid, double enqueued_at = 0,
                         const std::string& queue = "default") {
    nlohmann::json j = {{"class", "TestJob"}, {"args", nlohmann::json::array({jid})},
                        {"queue", queue}, {"jid", jid}, {"retry", true},
                        {"created_at", 1700000000.5}};
    if (enqueued_at > 0) j["enqueued_at"] = enqueued_at;
    return j.dump();
  }
  static std::string jid_of(const std::string& payload) {
    return nlohmann::json::parse(payload).at("jid").get<std::string>();
  }
  static std::vector<std::string> jids(const std::vector<FetchedJob>& jobs) {
    std::vector<std::string> out;
    for (const auto& j : jobs) out.push_back(jid_of(j.payload));
    return out;
  }
  static std::vector<std::string> jids(const std::vector<ScoredPayload>& jobs) {
    std::vector<std::string> out;
    for (const auto& j : jobs) out.push_back(jid_of(j.payload));
    return out;
  }
  void push(const std::string& queue, std::vector<std::string> payloads) {
    store_->push(queue, payloads);
  }
  std::vector<FetchedJob> fetch(const std::string& identity, std::vector<std::string> queues,
                                std::size_t max = 1,
                                std::chrono::milliseconds timeout = std::chrono::milliseconds(100)) {
    return store_->fetch(identity, queues, max, timeout);
  }
  ProcessBeat beat(const std::string& identity, std::chrono::seconds ttl = std::chrono::seconds(60)) {
    ProcessBeat b;
    b.identity = identity;
    b.info_json = nlohmann::json{{"hostname", "h"}, {"identity", identity}, {"pid", 1}}.dump();
    b.busy = 2;
    b.beat = 1700000000.25;
    b.quiet = false;
    b.rss_kb = 1234;
    b.rtt_us = 56;
    b.utc_date = "2026-11-25";
    b.ttl = ttl;
    return b;
  }
  static void wait_past_ttl() { std::this_thread::sleep_for(std::chrono::milliseconds(1600)); }

  std::shared_ptr<Store> store_;
};

// ---- queues and fetch -------------------------------------------------------------------------

TEST_P(StoreConformance, PushThenFetchIsFifo) {
  push("default", {job("a"), job("b")});
  push("default", {job("c")});
  auto got = fetch("p1", {"default"}, 10);
  EXPECT_EQ(jids(got), (std::vector<std::string>{"a", "b", "c"}));
  for (const auto& j : got) EXPECT_EQ(j.queue, "default");
  EXPECT_EQ(store_->queue_size("default"), 0);
}

TEST_P(StoreConformance, QueueRangeIndexZeroIsNewest) {
  push("q", {job("a"), job("b"), job("c")});
  auto all = store_->queue_range("q", 0, 10);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(jid_of(all[0]), "c");
  EXPECT_EQ(jid_of(all[2]), "a");
  auto page = store_->queue_range("q", 1, 1);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(jid_of(page[0]), "b");
  EXPECT_EQ(store_->queue_size("q"), 3);
  EXPECT_TRUE(store_->queue_range("missing", 0, 10).empty());
}

TEST_P(StoreConformance, PushedPayloadIsStoredVerbatim) {
  std::string odd = R"({"class":"X","args":[1.5,"é"],"jid":"j1","extra":{"k":[1,2]}})";
  push("default", {odd});
  auto got = fetch("p1", {"default"});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, odd);
}

// push_bulk's path: many batches, in order, each like a push() (Redis pipelines them).
TEST_P(StoreConformance, PushBatchesLandInOrderLikePushes) {
  const int kBatches = 5, kEach = 300;  // > 1 MB in all on Redis: several socket buffers
  int made = 0, calls = 0;
  store_->push_batches("bulk", [&](std::vector<std::string>& batch) {
    batch.clear();  // it may hold an earlier batch
    ++calls;
    if (made == kBatches * kEach) return false;
    if (calls == 2) return true;  // an empty batch is skipped
    for (int i = 0; i < kEach; ++i, ++made) {
      batch.push_back(job("j" + std::to_string(made)) + std::string(400, ' '));
    }
    return true;
  });
  EXPECT_EQ(calls, kBatches + 2);
  EXPECT_EQ(store_->queue_size("bulk"), kBatches * kEach);
  auto got = fetch("p1", {"bulk"}, kBatches * kEach);
  ASSERT_EQ(got.size(), static_cast<std::size_t>(kBatches * kEach));
  for (int i = 0; i < kBatches * kEach; ++i) EXPECT_EQ(jid_of(got[i].payload), "j" + std::to_string(i));
  auto queues = store_->queues(1700000000);
  ASSERT_EQ(queues.size(), 1u);
  EXPECT_EQ(queues[0].name, "bulk");
}

TEST_P(StoreConformance, PushBatchesStopsAtAnErrorAndTheStoreStillWorks) {
  int calls = 0;
  EXPECT_THROW(store_->push_batches("bulk", [&](std::vector<std::string>& batch) {
    if (++calls == 3) throw std::runtime_error("cannot build batch 3");
    batch = {job("b" + std::to_string(calls))};
    return true;
  }), std::runtime_error);
  EXPECT_EQ(store_->queue_size("bulk"), 2);  // the batches before the error
  push("bulk", {job("after")});
  EXPECT_EQ(store_->queue_size("bulk"), 3);
  store_->push_batches("none", [](std::vector<std::string>&) { return false; });
  EXPECT_EQ(store_->queue_size("none"), 0);
  // A batch still in the vector when next_batch says "no more" is not pushed again.
  int rounds = 0;
  store_->push_batches("once", [&](std::vector<std::string>& batch) {
    if (++rounds == 1) batch = {job("x")};
    return rounds == 1;
  });
  EXPECT_EQ(store_->queue_size("once"), 1);
}

TEST_P(StoreConformance, FetchHonoursQueueOrder) {
  push("low", {job("l1")});
  push("high", {job("h1")});
  auto first = fetch("p1", {"high", "low"});
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].queue, "high");
  EXPECT_EQ(jid_of(first[0].payload), "h1");
  auto second = fetch("p1", {"high", "low"});
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].queue, "low");
  auto none = fetch("p1", {"high", "low"});
  EXPECT_TRUE(none.empty());
}

TEST_P(StoreConformance, FetchBatchStartsWithFirstNonEmptyQueue) {
  push("a", {job("a1"), job("a2")});
  push("b", {job("b1"), job("b2")});
  auto got = fetch("p1", {"empty", "a", "b"}, 3);
  ASSERT_GE(got.size(), 1u);
  ASSERT_LE(got.size(), 3u);
  EXPECT_EQ(got[0].queue, "a");
  EXPECT_EQ(jid_of(got[0].payload), "a1");
  EXPECT_EQ(store_->in_progress("p1").size(), got.size());
  EXPECT_EQ(store_->queue_size("a") + store_->queue_size("b") + static_cast<std::int64_t>(got.size()), 4);
}

TEST_P(StoreConformance, FetchOnEmptyQueuesTimesOut) {
  auto got = fetch("p1", {"nothing", "here"}, 5, std::chrono::milliseconds(50));
  EXPECT_TRUE(got.empty());
  EXPECT_TRUE(store_->in_progress("p1").empty());
}

TEST_P(StoreConformance, BlockedFetchWakesUpOnPush) {
  std::thread producer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    push("late", {job("x")});
  });
  auto got = fetch("p1", {"late"}, 1, std::chrono::seconds(10));
  producer.join();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(jid_of(got[0].payload), "x");
}

TEST_P(StoreConformance, ConcurrentFetchersNeverShareAJob) {
  constexpr int kJobs = 200;
  std::vector<std::string> payloads;
  for (int i = 0; i < kJobs; ++i) payloads.push_back(job("j" + std::to_string(i)));
  push("default", payloads);
  std::vector<std::vector<std::string>> seen(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::string me = "p" + std::to_string(t);
      for (;;) {
        auto got = store_->fetch(me, std::vector<std::string>{"default"}, 3,
                                 std::chrono::milliseconds(50));
        if (got.empty()) return;
        for (const auto& j : got) {
          seen[t].push_back(jid_of(j.payload));
          store_->ack(me, j);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  std::multiset<std::string> all;
  for (const auto& s : seen) all.insert(s.begin(), s.end());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), static_cast<std::size_t>(kJobs));
}

TEST_P(StoreConformance, QueuesListsKnownQueuesWithSizeAndLatency) {
  double now = 1700000100.0;
  push("a", {job("a1", now - 10), job("a2", now - 1)});
  push("b", {job("b1")});  // no enqueued_at: latency 0
  auto qs = store_->queues(now);
  std::sort(qs.begin(), qs.end(), [](auto& x, auto& y) { return x.name < y.name; });
  ASSERT_EQ(qs.size(), 2u);
  EXPECT_EQ(qs[0].name, "a");
  EXPECT_EQ(qs[0].size, 2);
  EXPECT_NEAR(qs[0].latency_seconds, 10.0, 0.01);  // the oldest job decides
  EXPECT_EQ(qs[1].name, "b");
  EXPECT_EQ(qs[1].size, 1);
  EXPECT_EQ(qs[1].latency_seconds, 0);
}

TEST_P(StoreConformance, ClearQueueRemovesJobsAndName) {
  push("a", {job("a1"), job("a2")});
  push("b", {job("b1")});
  EXPECT_EQ(store_->clear_queue("a"), 2);
  EXPECT_EQ(store_->queue_size("a"), 0);
  auto qs = store_->queues(1700000000.0);
  ASSERT_EQ(qs.size(), 1u);
  EXPECT_EQ(qs[0].name, "b");
  EXPECT_EQ(store_->clear_queue("never"), 0);
}

// ---- reliable fetch bookkeeping ---------------------------------------------------------------

TEST_P(StoreConformance, FetchedJobStaysInProgressUntilAck) {
  push("default", {job("a")});
  auto got = fetch("p1", {"default"});
  ASSERT_EQ(got.size(), 1u);
  auto mine = store_->in_progress("p1");
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].queue, "default");
  EXPECT_EQ(mine[0].payload, got[0].payload);
  EXPECT_TRUE(store_->in_progress("p2").empty());
  store_->ack("p1", got[0]);
  EXPECT_TRUE(store_->in_progress("p1").empty());
  EXPECT_EQ(store_->queue_size("default"), 0);
}

TEST_P(StoreConformance, AckManyAcksEach) {
  push("default", {job("a"), job("b"), job("c")});
  auto got = fetch("p1", {"default"}, 3);
  ASSERT_FALSE(got.empty());
  while (got.size() < 3) {
    auto more = fetch("p1", {"default"}, 3 - got.size());
    ASSERT_FALSE(more.empty());
    got.insert(got.end(), more.begin(), more.end());
  }
  store_->ack_many("p1", std::vector<FetchedJob>(got.begin(), got.begin() + 2));
  auto left = store_->in_progress("p1");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].payload, got[2].payload);
}

TEST_P(StoreConformance, AckAndRetryMovesToRetrySet) {
  push("default", {job("a")});
  auto got = fetch("p1", {"default"});
  ASSERT_EQ(got.size(), 1u);
  auto hash = nlohmann::json::parse(job("a"));
  hash["retry_count"] = 0;
  std::string updated = hash.dump();
  store_->ack_and_retry("p1", got[0], 1700000123.5, updated);
  EXPECT_TRUE(store_->in_progress("p1").empty());
  auto retries = store_->range(SortedSetName::kRetry, 0, 10);
  ASSERT_EQ(retries.size(), 1u);
  EXPECT_EQ(retries[0].payload, updated);
  EXPECT_DOUBLE_EQ(retries[0].score, 1700000123.5);
  EXPECT_EQ(store_->size(SortedSetName::kRetry), 1);
  EXPECT_EQ(store_->queue_size("default"), 0);
}

TEST_P(StoreConformance, AckAndKillMovesToDeadSetAndTrimsByAge) {
  double now = 1700000000.0;
  DeadSetLimits limits;  // 180 days, 10k
  store_->add(SortedSetName::kDead, now - limits.max_age_seconds - 5, job("ancient"));
  store_->add(SortedSetName::kDead, now - 100, job("recent"));
  push("default", {job("a")});
  auto got = fetch("p1", {"default"});
  ASSERT_EQ(got.size(), 1u);
  store_->ack_and_kill("p1", got[0], now, job("a"), limits);
  EXPECT_TRUE(store_->in_progress("p1").empty());
  auto dead = store_->range(SortedSetName::kDead, 0, 10, /*reverse=*/true);
  EXPECT_EQ(jids(dead), (std::vector<std::string>{"a", "recent"}));
  EXPECT_DOUBLE_EQ(dead[0].score, now);
}

TEST_P(StoreConformance, DeadSetTrimBySizeKeepsMaxMinusOneLikeSidekiq) {
  // Sidekiq runs ZREMRANGEBYRANK dead 0 -max_jobs, which leaves max_jobs - 1 entries.
  DeadSetLimits limits;
  limits.max_jobs = 3;
  double now = 1700000000.0;
  for (int i = 0; i < 5; ++i) store_->add(SortedSetName::kDead, now + i, job("d" + std::to_string(i)));
  store_->trim_dead(now + 10, limits);
  auto dead = store_->range(SortedSetName::kDead, 0, 10);
  EXPECT_EQ(jids(dead), (std::vector<std::string>{"d3", "d4"}));
}

TEST_P(StoreConformance, RequeuePutsJobsAtTheConsumerEnd) {
  push("default", {job("old"), job("older_not"), job("newest")});
  auto got = fetch("p1", {"default"});  // takes "old"
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(jid_of(got[0].payload), "old");
  store_->requeue("p1", got);
  EXPECT_TRUE(store_->in_progress("p1").empty());
  auto again = fetch("p2", {"default"});
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(jid_of(again[0].payload), "old");  // back in front of the others
  EXPECT_EQ(again[0].payload, got[0].payload);  // untouched JSON
}

TEST_P(StoreConformance, RequeueOfSeveralJobsIsRpushInOrder) {
  push("default", {job("a"), job("b"), job("c")});
  std::vector<FetchedJob> got;
  while (got.size() < 2) {
    auto more = fetch("p1", {"default"}, 2 - got.size());
    ASSERT_FALSE(more.empty());
    got.insert(got.end(), more.begin(), more.end());
  }
  store_->requeue("p1", got);  // RPUSH queue:default a b -> b is popped first
  auto next = fetch("p2", {"default"}, 1);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(jid_of(next[0].payload), "b");
}

TEST_P(StoreConformance, RecoverOrphansOnlyTakesJobsOfDeadProcesses) {
  push("default", {job("alive_job"), job("orphan_job"), job("waiting")});
  store_->heartbeat(beat("alive"));
  auto a = fetch("alive", {"default"});
  auto o = fetch("ghost", {"default"});  // "ghost" never beat: its process hash does not exist
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(o.size(), 1u);
  EXPECT_EQ(store_->recover_orphans(), 1u);
  EXPECT_TRUE(store_->in_progress("ghost").empty());
  EXPECT_EQ(store_->in_progress("alive").size(), 1u);
  auto next = fetch("p3", {"default"});
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(jid_of(next[0].payload), "orphan_job");  // back at the front of the queue
  store_->ack("p3", next[0]);
  EXPECT_EQ(store_->recover_orphans(), 0u);
}

TEST_P(StoreConformance, RecoverOrphansAfterHeartbeatExpires) {
  push("default", {job("a")});
  store_->heartbeat(beat("shortlived", std::chrono::seconds(1)));
  ASSERT_EQ(fetch("shortlived", {"default"}).size(), 1u);
  EXPECT_EQ(store_->recover_orphans(), 0u);  // still alive
  wait_past_ttl();
  EXPECT_EQ(store_->recover_orphans(), 1u);
  EXPECT_EQ(store_->queue_size("default"), 1);
  EXPECT_TRUE(store_->in_progress("shortlived").empty());
}

TEST_P(StoreConformance, RecoverIdentityIgnoresLiveness) {
  push("q1", {job("a")});
  push("q2", {job("b")});
  store_->heartbeat(beat("me"));
  ASSERT_EQ(fetch("me", {"q1"}).size(), 1u);
  ASSERT_EQ(fetch("me", {"q2"}).size(), 1u);
  EXPECT_EQ(store_->recover("me"), 2u);
  EXPECT_TRUE(store_->in_progress("me").empty());
  EXPECT_EQ(store_->queue_size("q1"), 1);
  EXPECT_EQ(store_->queue_size("q2"), 1);
  EXPECT_EQ(store_->recover("me"), 0u);
}

// ---- sorted sets ------------------------------------------------------------------------------

TEST_P(StoreConformance, ScheduleAddsToScheduleSet) {
  std::vector<ScoredPayload> jobs = {{1700000300.0, job("s2")}, {1700000200.0, job("s1")}};
  store_->schedule(jobs);
  auto all = store_->range(SortedSetName::kSchedule, 0, 10);
  EXPECT_EQ(jids(all), (std::vector<std::string>{"s1", "s2"}));
  EXPECT_DOUBLE_EQ(all[0].score, 1700000200.0);
  EXPECT_EQ(store_->size(SortedSetName::kSchedule), 2);
  EXPECT_TRUE(store_->queues(1700000000.0).empty());  // no SADD queues at schedule time
}

TEST_P(StoreConformance, PopDueReturnsDueMembersInScoreOrderWithLimit) {
  store_->add(SortedSetName::kRetry, 30, job("c"));
  store_->add(SortedSetName::kRetry, 10, job("a"));
  store_->add(SortedSetName::kRetry, 20, job("b"));
  store_->add(SortedSetName::kRetry, 40, job("d"));
  auto first = store_->pop_due("poller", SortedSetName::kRetry, 35, 2);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(jid_of(first[0]), "a");
  EXPECT_EQ(jid_of(first[1]), "b");
  auto second = store_->pop_due("poller", SortedSetName::kRetry, 35, 10);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(jid_of(second[0]), "c");
  EXPECT_TRUE(store_->pop_due("poller", SortedSetName::kRetry, 35, 10).empty());
  EXPECT_EQ(store_->size(SortedSetName::kRetry), 1);
  EXPECT_TRUE(store_->pop_due("poller", SortedSetName::kSchedule, 1e12, 10).empty());  // sets are separate
}

TEST_P(StoreConformance, PopDueIncludesScoreEqualToNow) {
  store_->add(SortedSetName::kSchedule, 100.5, job("edge"));
  EXPECT_EQ(store_->pop_due("poller", SortedSetName::kSchedule, 100.5, 10).size(), 1u);
}

TEST_P(StoreConformance, PopDueRejectsAnEmptyIdentity) {
  store_->add(SortedSetName::kSchedule, 1, job("kept"));
  EXPECT_THROW(store_->pop_due("", SortedSetName::kSchedule, 10, 10), std::invalid_argument);
  EXPECT_EQ(store_->size(SortedSetName::kSchedule), 1);
}

// Claims: what pop_due took is not lost until complete_claims says it was handed on.
TEST_P(StoreConformance, PopDueLeavesClaimsThatRecoverPutsBackWithTheirScores) {
  store_->add(SortedSetName::kRetry, 10, job("r1"));
  store_->add(SortedSetName::kSchedule, 20.25, job("s1"));
  store_->add(SortedSetName::kSchedule, 30, job("s2"));
  ASSERT_EQ(store_->pop_due("crashed", SortedSetName::kRetry, 100, 10).size(), 1u);
  ASSERT_EQ(store_->pop_due("crashed", SortedSetName::kSchedule, 100, 10).size(), 2u);
  EXPECT_EQ(store_->size(SortedSetName::kSchedule), 0);
  EXPECT_EQ(store_->recover("crashed"), 3u);
  auto sched = store_->range(SortedSetName::kSchedule, 0, 10);
  EXPECT_EQ(jids(sched), (std::vector<std::string>{"s1", "s2"}));
  ASSERT_EQ(sched.size(), 2u);
  EXPECT_DOUBLE_EQ(sched[0].score, 20.25);  // original run-at kept
  auto retry = store_->range(SortedSetName::kRetry, 0, 10);
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_EQ(jid_of(retry[0].payload), "r1");
  EXPECT_DOUBLE_EQ(retry[0].score, 10);
  EXPECT_EQ(store_->recover("crashed"), 0u);  // claims are gone once restored
}

TEST_P(StoreConformance, CompleteClaimsRemovesOnlyTheGivenClaims) {
  store_->add(SortedSetName::kSchedule, 1, job("done"));
  store_->add(SortedSetName::kSchedule, 2, job("pending"));
  auto due = store_->pop_due("poller", SortedSetName::kSchedule, 100, 10);
  ASSERT_EQ(due.size(), 2u);
  std::vector<std::string> done{due[0], job("never-claimed")};
  store_->complete_claims("poller", SortedSetName::kSchedule, done);
  store_->complete_claims("poller", SortedSetName::kRetry, std::span<const std::string>(due));  // other set
  store_->complete_claims("nobody", SortedSetName::kSchedule, std::span<const std::string>(due));
  EXPECT_EQ(store_->restore_claims("poller"), 1u);
  auto back = store_->range(SortedSetName::kSchedule, 0, 10);
  EXPECT_EQ(jids(back), (std::vector<std::string>{"pending"}));
  EXPECT_EQ(store_->restore_claims("poller"), 0u);
  due = store_->pop_due("poller", SortedSetName::kSchedule, 100, 10);
  store_->complete_claims("poller", SortedSetName::kSchedule, due);
  EXPECT_EQ(store_->recover("poller"), 0u);
  EXPECT_EQ(store_->size(SortedSetName::kSchedule), 0);
}

TEST_P(StoreConformance, RestoreClaimsLeavesInProgressJobsAlone) {
  push("default", {job("running")});
  ASSERT_EQ(fetch("me", {"default"}).size(), 1u);
  store_->add(SortedSetName::kRetry, 5, job("due"));
  ASSERT_EQ(store_->pop_due("me", SortedSetName::kRetry, 10, 10).size(), 1u);
  EXPECT_EQ(store_->restore_claims("me"), 1u);
  EXPECT_EQ(store_->size(SortedSetName::kRetry), 1);
  EXPECT_EQ(store_->in_progress("me").size(), 1u);
}

TEST_P(StoreConformance, RecoverOrphansRestoresClaimsOfDeadIdentitiesOnly) {
  store_->heartbeat(beat("alive"));
  store_->add(SortedSetName::kSchedule, 1, job("of-alive"));
  store_->add(SortedSetName::kSchedule, 2, job("of-dead"));
  ASSERT_EQ(store_->pop_due("alive", SortedSetName::kSchedule, 1, 10).size(), 1u);
  ASSERT_EQ(store_->pop_due("dead", SortedSetName::kSchedule, 2, 10).size(), 1u);
  EXPECT_EQ(store_->recover_orphans(), 1u);
  EXPECT_EQ(jids(store_->range(SortedSetName::kSchedule, 0, 10)), (std::vector<std::string>{"of-dead"}));
  EXPECT_EQ(store_->recover_orphans(), 0u);
  store_->remove_process("alive");
  EXPECT_EQ(store_->recover_orphans(), 1u);
  EXPECT_EQ(store_->size(SortedSetName::kSchedule), 2);
}

TEST_P(StoreConformance, RecoverOrphansRestoresClaimsOnceTheHeartbeatExpires) {
  store_->heartbeat(beat("shortlived", std::chrono::seconds(1)));
  store_->add(SortedSetName::kRetry, 1, job("claimed"));
  ASSERT_EQ(store_->pop_due("shortlived", SortedSetName::kRetry, 1, 10).size(), 1u);
  EXPECT_EQ(store_->recover_orphans(), 0u);  // still alive
  wait_past_ttl();
  EXPECT_EQ(store_->recover_orphans(), 1u);
  EXPECT_EQ(store_->size(SortedSetName::kRetry), 1);
}

TEST_P(StoreConformance, ScoreTiesAreOrderedByMemberBytes) {
  std::string b = job("b"), a = job("a");
  store_->add(SortedSetName::kSchedule, 5, b);
  store_->add(SortedSetName::kSchedule, 5, a);
  auto all = store_->range(SortedSetName::kSchedule, 0, 10);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_LT(all[0].payload, all[1].payload);
}

TEST_P(StoreConformance, AddingTheSameMemberUpdatesItsScore) {
  std::string a = job("a");
  store_->add(SortedSetName::kRetry, 5, a);
  store_->add(SortedSetName::kRetry, 50, a);
  auto all = store_->range(SortedSetName::kRetry, 0, 10);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_DOUBLE_EQ(all[0].score, 50);
}

TEST_P(StoreConformance, RangePagesBothDirections) {
  for (int i = 0; i < 5; ++i) store_->add(SortedSetName::kDead, 100 + i, job("d" + std::to_string(i)));
  EXPECT_EQ(jids(store_->range(SortedSetName::kDead, 1, 2)), (std::vector<std::string>{"d1", "d2"}));
  EXPECT_EQ(jids(store_->range(SortedSetName::kDead, 0, 2, true)), (std::vector<std::string>{"d4", "d3"}));
  EXPECT_EQ(jids(store_->range(SortedSetName::kDead, 4, 10)), (std::vector<std::string>{"d4"}));
  EXPECT_TRUE(store_->range(SortedSetName::kDead, 5, 10).empty());
}

TEST_P(StoreConformance, TakeFindsByJidAndRemoves) {
  store_->add(SortedSetName::kRetry, 10, job("aaaa"));
  store_->add(SortedSetName::kRetry, 20, job("bbbb"));
  auto taken = store_->take(SortedSetName::kRetry, "bbbb");
  ASSERT_TRUE(taken.has_value());
  EXPECT_DOUBLE_EQ(taken->score, 20);
  EXPECT_EQ(jid_of(taken->payload), "bbbb");
  EXPECT_EQ(store_->size(SortedSetName::kRetry), 1);
  EXPECT_FALSE(store_->take(SortedSetName::kRetry, "bbbb").has_value());
  EXPECT_FALSE(store_->take(SortedSetName::kRetry, "aaa").has_value());  // no partial matches
  EXPECT_FALSE(store_->take(SortedSetName::kDead, "aaaa").has_value());
}

TEST_P(StoreConformance, ClearEmptiesOneSet) {
  store_->add(SortedSetName::kRetry, 10, job("a"));
  store_->add(SortedSetName::kRetry, 11, job("b"));
  store_->add(SortedSetName::kDead, 11, job("c"));
  EXPECT_EQ(store_->clear(SortedSetName::kRetry), 2);
  EXPECT_EQ(store_->size(SortedSetName::kRetry), 0);
  EXPECT_EQ(store_->size(SortedSetName::kDead), 1);
}

// ---- processes and heartbeat ------------------------------------------------------------------

TEST_P(StoreConformance, HeartbeatRegistersProcessAndWork) {
  ProcessBeat b = beat("host:1:abcdefabcdef");
  nlohmann::json work = {{"queue", "default"}, {"payload", job("w1")}, {"run_at", 1700000000}};
  b.work = {{"tid1", work.dump()}};
  EXPECT_FALSE(store_->heartbeat(b).has_value());
  auto procs = store_->processes();
  ASSERT_EQ(procs.size(), 1u);
  EXPECT_EQ(procs[0].identity, "host:1:abcdefabcdef");
  EXPECT_EQ(procs[0].info_json, b.info_json);
  EXPECT_EQ(procs[0].busy, 2);
  EXPECT_DOUBLE_EQ(procs[0].beat, 1700000000.25);
  EXPECT_FALSE(procs[0].quiet);
  EXPECT_EQ(procs[0].rss_kb, 1234);
  EXPECT_EQ(procs[0].rtt_us, 56);
  auto w = store_->work();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].identity, "host:1:abcdefabcdef");
  EXPECT_EQ(w[0].tid, "tid1");
  EXPECT_EQ(nlohmann::json::parse(w[0].work_json), work);

  b.work.clear();  // the next beat replaces the work hash
  b.quiet = true;
  store_->heartbeat(b);
  EXPECT_TRUE(store_->work().empty());
  EXPECT_TRUE(store_->processes().at(0).quiet);
  EXPECT_EQ(store_->stats(0).processes_size, 1);
  EXPECT_EQ(store_->stats(0).busy, 2);
}

TEST_P(StoreConformance, HeartbeatFlushesStatCounters) {
  ProcessBeat b = beat("p1");
  b.processed_delta = 5;
  b.failed_delta = 2;
  store_->heartbeat(b);
  b.processed_delta = 1;
  b.failed_delta = 0;
  store_->heartbeat(b);
  auto s = store_->stats(0);
  EXPECT_EQ(s.processed, 6);
  EXPECT_EQ(s.failed, 2);
  EXPECT_EQ(store_->kv().get("stat:processed"), "6");
  EXPECT_EQ(store_->kv().get("stat:processed:2026-11-25"), "6");
  EXPECT_EQ(store_->kv().get("stat:failed:2026-11-25"), "2");
  EXPECT_GT(store_->kv().ttl("stat:processed:2026-11-25"), 100000000);  // ~5 years
  EXPECT_EQ(store_->kv().ttl("stat:processed"), -1);
}

TEST_P(StoreConformance, SignalsArePoppedOnePerBeatInOrder) {
  store_->heartbeat(beat("p1"));
  store_->signal("p1", "TSTP");
  store_->signal("p1", "TERM");
  EXPECT_EQ(store_->heartbeat(beat("p1")), std::optional<std::string>("TSTP"));
  EXPECT_EQ(store_->heartbeat(beat("p1")), std::optional<std::string>("TERM"));
  EXPECT_FALSE(store_->heartbeat(beat("p1")).has_value());
  EXPECT_FALSE(store_->heartbeat(beat("p2")).has_value());
}

TEST_P(StoreConformance, RemoveProcessDeletesItsRecords) {
  ProcessBeat b = beat("p1");
  b.work = {{"t", nlohmann::json{{"queue", "q"}, {"payload", job("x")}, {"run_at", 1}}.dump()}};
  store_->heartbeat(b);
  store_->heartbeat(beat("p2"));
  store_->remove_process("p1");
  auto procs = store_->processes();
  ASSERT_EQ(procs.size(), 1u);
  EXPECT_EQ(procs[0].identity, "p2");
  EXPECT_TRUE(store_->work().empty());
}

TEST_P(StoreConformance, ProcessesArePrunedWhenTheirHashExpires) {
  store_->heartbeat(beat("short", std::chrono::seconds(1)));
  store_->heartbeat(beat("long"));
  EXPECT_EQ(store_->processes().size(), 2u);
  wait_past_ttl();
  auto procs = store_->processes();
  ASSERT_EQ(procs.size(), 1u);
  EXPECT_EQ(procs[0].identity, "long");
  EXPECT_EQ(store_->stats(0).processes_size, 1);  // pruned from the processes set
}

TEST_P(StoreConformance, StatsSumQueuesAndSets) {
  push("a", {job("a1"), job("a2")});
  push("b", {job("b1")});
  store_->add(SortedSetName::kSchedule, 1, job("s"));
  store_->add(SortedSetName::kRetry, 1, job("r1"));
  store_->add(SortedSetName::kRetry, 2, job("r2"));
  store_->add(SortedSetName::kDead, 1, job("d"));
  auto s = store_->stats(1700000000.0);
  EXPECT_EQ(s.enqueued, 3);
  EXPECT_EQ(s.scheduled_size, 1);
  EXPECT_EQ(s.retry_size, 2);
  EXPECT_EQ(s.dead_size, 1);
  EXPECT_EQ(s.processed, 0);
  EXPECT_EQ(s.failed, 0);
  EXPECT_EQ(s.processes_size, 0);
}

// ---- key-value --------------------------------------------------------------------------------

TEST_P(StoreConformance, KeyValueStringsAndTtl) {
  KeyValue& kv = store_->kv();
  EXPECT_FALSE(kv.get("k").has_value());
  EXPECT_EQ(kv.ttl("k"), -2);
  kv.set("k", "v1");
  EXPECT_EQ(kv.get("k"), std::optional<std::string>("v1"));
  EXPECT_EQ(kv.ttl("k"), -1);
  kv.set("k", "v2", std::chrono::seconds(3600));
  EXPECT_EQ(kv.get("k"), std::optional<std::string>("v2"));
  EXPECT_GT(kv.ttl("k"), 3500);
  EXPECT_LE(kv.ttl("k"), 3600);
  kv.set("k", "v3");  // SET without EX clears the TTL
  EXPECT_EQ(kv.ttl("k"), -1);
  EXPECT_TRUE(kv.del("k"));
  EXPECT_FALSE(kv.del("k"));
  EXPECT_FALSE(kv.get("k").has_value());
}

// "Until deleted" as seconds::max(): both stores keep it, with the capped TTL (Redis refused the
// raw value; the memory store overflowed its deadline).
TEST_P(StoreConformance, KeyValueHugeTtlIsCapped) {
  KeyValue& kv = store_->kv();
  kv.set("forever", "v", std::chrono::seconds::max());
  EXPECT_EQ(kv.get("forever"), std::optional<std::string>("v"));
  EXPECT_LE(kv.ttl("forever"), KeyValue::kMaxTtl.count());
  EXPECT_GT(kv.ttl("forever"), KeyValue::kMaxTtl.count() - 60);
}

TEST_P(StoreConformance, KeyValueExpires) {
  store_->kv().set("short", "x", std::chrono::seconds(1));
  store_->kv().set("keep", "y");
  wait_past_ttl();
  EXPECT_FALSE(store_->kv().get("short").has_value());
  EXPECT_EQ(store_->kv().ttl("short"), -2);
  EXPECT_EQ(store_->kv().get("keep"), std::optional<std::string>("y"));
}

TEST_P(StoreConformance, KeyValueIncrAndSets) {
  KeyValue& kv = store_->kv();
  EXPECT_EQ(kv.incr("n"), 1);
  EXPECT_EQ(kv.incr("n", 41), 42);
  EXPECT_EQ(kv.get("n"), std::optional<std::string>("42"));
  kv.set("text", "abc");
  EXPECT_THROW(kv.incr("text"), StoreError);

  EXPECT_TRUE(kv.sadd("s", "a"));
  EXPECT_TRUE(kv.sadd("s", "b"));
  EXPECT_FALSE(kv.sadd("s", "a"));
  EXPECT_TRUE(kv.sismember("s", "a"));
  EXPECT_FALSE(kv.sismember("s", "z"));
  EXPECT_FALSE(kv.sismember("nope", "a"));
  EXPECT_EQ(kv.scard("s"), 2);
  EXPECT_EQ(kv.scard("nope"), 0);
  auto members = kv.smembers("s");
  std::sort(members.begin(), members.end());
  EXPECT_EQ(members, (std::vector<std::string>{"a", "b"}));
  EXPECT_THROW(kv.sadd("text", "x"), StoreError);
}

}  // namespace kiq::conformance
