// RedisStore under concurrency and outages: many fetchers never share or lose a job, orphan
// recovery racing with itself moves each job exactly once, and a Redis restart (persistence on)
// in the middle of a producer/consumer run loses nothing (at-least-once: every job acked).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "kiq/store/redis.hpp"
#include "support/redis_server.hpp"

namespace kiq {
namespace {

using testing::RedisServer;
using Clock = std::chrono::steady_clock;

std::string job(int n, const std::string& queue = "default") {
  return R"({"class":"MarkJob","args":[)" + std::to_string(n) + R"(],"queue":")" + queue +
         R"(","jid":"j)" + std::to_string(n) + R"(","retry":true,"enqueued_at":1700000000.5})";
}

int number_of(const std::string& payload) {
  auto p = payload.find("\"args\":[");
  return std::stoi(payload.substr(p + 8));
}

// Thread-safe record of acknowledged job numbers.
class Seen {
 public:
  void add(int n) {
    std::lock_guard lock(mu_);
    if (!seen_.insert(n).second) ++duplicates_;
  }
  std::size_t size() {
    std::lock_guard lock(mu_);
    return seen_.size();
  }
  int duplicates() {
    std::lock_guard lock(mu_);
    return duplicates_;
  }

 private:
  std::mutex mu_;
  std::set<int> seen_;
  int duplicates_ = 0;
};

TEST(RedisReliability, ConcurrentFetchersNeverShareOrLoseAJob) {
  if (!testing::redis_server_available()) GTEST_SKIP();
  RedisServer redis;
  auto store = make_redis_store(redis.url());
  constexpr int kJobs = 2000;
  std::vector<std::string> batch;
  for (int i = 0; i < kJobs; ++i) batch.push_back(job(i, i % 2 ? "a" : "b"));
  store->push("default", batch);  // queue name differs from payload "queue": store must not care

  Seen seen;
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      const std::string id = "host:" + std::to_string(w) + ":000000000000";
      std::vector<std::string> queues{"other", "default"};
      for (;;) {
        auto jobs = store->fetch(id, queues, 7, std::chrono::milliseconds(200));
        if (jobs.empty()) return;
        for (const auto& j : jobs) seen.add(number_of(j.payload));
        store->ack_many(id, jobs);
      }
    });
  }
  for (auto& t : workers) t.join();
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(seen.duplicates(), 0);
  EXPECT_EQ(store->queue_size("default"), 0);
  for (int w = 0; w < 4; ++w) {
    EXPECT_TRUE(store->in_progress("host:" + std::to_string(w) + ":000000000000").empty());
  }
}

TEST(RedisReliability, ConcurrentAcksAreAllAppliedAndErrorsStayWithTheirCaller) {
  if (!testing::redis_server_available()) GTEST_SKIP();
  RedisServer redis;
  auto store = make_redis_store(redis.url());
  constexpr int kJobs = 1000;
  std::vector<std::string> batch;
  for (int i = 0; i < kJobs; ++i) batch.push_back(job(i));
  store->push("default", batch);
  std::vector<std::string> queues{"default"};
  auto jobs = store->fetch("acker:1:x", queues, kJobs, std::chrono::milliseconds(0));
  ASSERT_EQ(jobs.size(), static_cast<std::size_t>(kJobs));
  // An in-progress key of the wrong type: its ack fails; no other caller may see that failure.
  redis.command({"SET", "kiq:inprogress|acker:1:x|broken", "x"});
  std::atomic<std::size_t> next{0};
  std::atomic<int> errors{0};
  std::atomic<int> foreign_errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      if (t == 0) {
        try {
          store->ack("acker:1:x", FetchedJob{"broken", job(0)});
        } catch (const StoreError&) {
          ++errors;
        }
      }
      for (std::size_t i = next++; i < jobs.size(); i = next++) {
        try {
          store->ack("acker:1:x", jobs[i]);
        } catch (const StoreError&) {
          ++foreign_errors;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  // The broken ack throws at its caller when that caller sent it, else it is logged.
  EXPECT_LE(errors.load(), 1);
  EXPECT_EQ(foreign_errors.load(), 0);
  EXPECT_TRUE(store->in_progress("acker:1:x").empty());
  EXPECT_EQ(redis.command({"HLEN", "kiq:inprogress|acker:1:x|default"}), "0");
}

TEST(RedisReliability, AFailedAckThrowsAtItsCallerWhenUncontended) {
  if (!testing::redis_server_available()) GTEST_SKIP();
  RedisServer redis;
  auto store = make_redis_store(redis.url());
  redis.command({"SET", "kiq:inprogress|acker:1:x|broken", "x"});
  EXPECT_THROW(store->ack("acker:1:x", FetchedJob{"broken", job(0)}), StoreError);
  store->push("default", std::vector<std::string>{job(1)});
  std::vector<std::string> queues{"default"};
  auto jobs = store->fetch("acker:1:x", queues, 1, std::chrono::milliseconds(0));
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_NO_THROW(store->ack("acker:1:x", jobs[0]));  // the earlier failure is not replayed
  EXPECT_EQ(redis.command({"HLEN", "kiq:inprogress|acker:1:x|default"}), "0");
}

TEST(RedisReliability, RacingOrphanRecoveryMovesEachJobOnce) {
  if (!testing::redis_server_available()) GTEST_SKIP();
  RedisServer redis;
  auto store = make_redis_store(redis.url());
  constexpr int kJobs = 500;
  std::vector<std::string> batch;
  for (int i = 0; i < kJobs; ++i) batch.push_back(job(i));
  store->push("default", batch);
  std::vector<std::string> queues{"default"};
  // Three crashed processes (no heartbeat) holding all jobs.
  std::size_t held = 0;
  for (int p = 0; p < 3; ++p) {
    held += store->fetch("crashed:" + std::to_string(p) + ":x", queues, 200,
                         std::chrono::milliseconds(0)).size();
  }
  ASSERT_EQ(held, static_cast<std::size_t>(kJobs));
  std::atomic<std::size_t> recovered{0};
  std::vector<std::thread> recoverers;
  for (int t = 0; t < 4; ++t) {
    recoverers.emplace_back([&] { recovered += store->recover_orphans(); });
  }
  for (auto& t : recoverers) t.join();
  EXPECT_EQ(recovered.load(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(store->queue_size("default"), kJobs);
  EXPECT_EQ(redis.command({"EXISTS", "kiq:inprogress"}), "0");
}

// Retries `op` on StoreError until `deadline` (Redis is coming back); rethrows after it.
template <class F>
auto retrying(Clock::time_point deadline, F op) {
  for (;;) {
    try {
      return op();
    } catch (const StoreError&) {
      if (Clock::now() > deadline) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

TEST(RedisReliability, RedisRestartMidRunLosesNoJob) {
  if (!testing::redis_server_available()) GTEST_SKIP();
  testing::RedisServerOptions opt;
  opt.persistence = true;
  RedisServer redis(opt);
  RedisOptions ro;
  ro.min_backoff = std::chrono::milliseconds(20);
  ro.max_backoff = std::chrono::milliseconds(300);
  auto store = make_redis_store(redis.url(), ro);
  const auto deadline = Clock::now() + std::chrono::seconds(120);  // only against hangs

  constexpr int kJobs = 3000;
  std::atomic<int> pushed{0};
  std::atomic<bool> producing{true};
  Seen seen;
  std::atomic<int> errors{0};

  std::thread producer([&] {
    for (int i = 0; i < kJobs; i += 10) {
      std::vector<std::string> batch;
      for (int k = i; k < i + 10; ++k) batch.push_back(job(k));
      // An enqueue that fails is reported to the caller; the caller (here) retries.
      retrying(deadline, [&] { store->push("default", batch); return 0; });
      pushed += 10;
    }
    producing = false;
  });
  std::vector<std::thread> workers;
  for (int w = 0; w < 3; ++w) {
    workers.emplace_back([&, w] {
      const std::string id = "worker:" + std::to_string(w) + ":000000000000";
      std::vector<std::string> queues{"default"};
      while (Clock::now() < deadline) {
        try {
          auto jobs = store->fetch(id, queues, 5, std::chrono::milliseconds(100));
          if (jobs.empty() && !producing) return;
          for (const auto& j : jobs) seen.add(number_of(j.payload));
          store->ack_many(id, jobs);
        } catch (const StoreError&) {
          ++errors;  // the server's loop would back off and retry: so do we
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      }
    });
  }
  for (int restart = 0; restart < 2; ++restart) {
    while (pushed < kJobs * (restart + 1) / 3 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    redis.restart();
  }
  producer.join();
  for (auto& t : workers) t.join();

  // Jobs fetched when the connection dropped are still in progress: a restarted worker
  // reclaims them (recover), and the drain picks them up.
  std::size_t reclaimed = 0;
  for (int w = 0; w < 3; ++w) {
    reclaimed += retrying(deadline, [&] {
      return store->recover("worker:" + std::to_string(w) + ":000000000000");
    });
  }
  std::vector<std::string> queues{"default"};
  for (;;) {
    auto jobs = retrying(deadline, [&] {
      return store->fetch("drain:0:000000000000", queues, 50, std::chrono::milliseconds(0));
    });
    if (jobs.empty()) break;
    for (const auto& j : jobs) seen.add(number_of(j.payload));
    retrying(deadline, [&] { store->ack_many("drain:0:000000000000", jobs); return 0; });
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kJobs)) << "reclaimed " << reclaimed;
  EXPECT_EQ(store->queue_size("default"), 0);
  // Errors during the restarts are allowed (and usual), never required: a restart that falls
  // between two operations is absorbed by the reconnect-and-retry of idle connections.
  RecordProperty("store_errors", errors.load());
  RecordProperty("duplicates", seen.duplicates());
}

}  // namespace
}  // namespace kiq
