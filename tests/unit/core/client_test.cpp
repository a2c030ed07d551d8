// Client: Sidekiq job hash normalization, scheduling rules, push_bulk chunking, middleware.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <regex>

#include "kiq/client.hpp"
#include "kiq/store/memory.hpp"

namespace kiq {
namespace {

// Counts store calls so chunking is observable.
class CountingStore : public MemoryStore {
 public:
  void push(std::string_view queue, std::span<const std::string> payloads) override {
    ++push_calls;
    MemoryStore::push(queue, payloads);
  }
  void schedule(std::span<const ScoredPayload> jobs) override {
    ++schedule_calls;
    MemoryStore::schedule(jobs);
  }
  int push_calls = 0;
  int schedule_calls = 0;
};

class ClientTest : public ::testing::Test {
 protected:
  std::shared_ptr<CountingStore> store = std::make_shared<CountingStore>();
  Client client{store};

  std::vector<Json> queued(const std::string& queue = "default") {
    std::vector<Json> out;
    for (const auto& p : store->queue_range(queue, 0, 100000)) out.push_back(Json::parse(p));
    return out;
  }
  std::string raw_queued(const std::string& queue = "default") {
    auto all = store->queue_range(queue, 0, 1);
    return all.empty() ? "" : all[0];
  }
};

TEST_F(ClientTest, PerformAsyncWritesSidekiqHash) {
  double before = epoch_now();
  auto jid = client.perform_async("HardJob", {1, "x"});
  ASSERT_TRUE(jid.has_value());
  auto jobs = queued();
  ASSERT_EQ(jobs.size(), 1u);
  const Json& j = jobs[0];
  EXPECT_EQ(j["class"], "HardJob");
  EXPECT_EQ(j["args"], Json::array({1, "x"}));
  EXPECT_EQ(j["queue"], "default");
  EXPECT_EQ(j["retry"], true);
  EXPECT_TRUE(j["retry"].is_boolean());
  EXPECT_EQ(j["jid"], *jid);
  EXPECT_TRUE(std::regex_match(*jid, std::regex("^[0-9a-f]{24}$"))) << *jid;
  ASSERT_TRUE(j["created_at"].is_number_float());
  ASSERT_TRUE(j["enqueued_at"].is_number_float());
  EXPECT_GE(j["created_at"].get<double>(), before - 1);
  EXPECT_GE(j["enqueued_at"].get<double>(), j["created_at"].get<double>());
  EXPECT_FALSE(j.contains("at"));
  EXPECT_FALSE(j.contains("scheduled_at"));
  EXPECT_EQ(j.size(), 7u) << j.dump();  // nothing but Sidekiq's keys
  EXPECT_EQ(store->queues(epoch_now()).at(0).name, "default");
}

TEST_F(ClientTest, JidsAreUnique) {
  std::set<std::string> jids;
  for (int i = 0; i < 1000; ++i) jids.insert(new_jid());
  EXPECT_EQ(jids.size(), 1000u);
}

TEST_F(ClientTest, IntegralTimestampsKeepAFractionalPart) {
  Json item = {{"class", "X"}, {"args", Json::array()}, {"created_at", 1700000000.0}};
  client.push(item);
  std::string raw = raw_queued();
  EXPECT_NE(raw.find("\"created_at\":1700000000.0"), std::string::npos) << raw;
  Json timestamp = 1700000000.5;
  EXPECT_EQ(timestamp.dump(), "1700000000.5");
}

TEST_F(ClientTest, TypeOptionsAreWrittenIntoTheHash) {
  JobRegistry registry;
  JobOptions o;
  o.queue = "critical";
  o.retry = 5;
  o.backtrace = 10;
  o.dead = false;
  o.retry_queue = "slow";
  o.tags = {"a", "b"};
  registry.add("Opt", [](JobContext&, const Json&) {}, o);
  Client c(store, {}, &registry);
  c.perform_async("Opt", {1});
  auto jobs = queued("critical");
  ASSERT_EQ(jobs.size(), 1u);
  const Json& j = jobs[0];
  EXPECT_EQ(j["queue"], "critical");
  EXPECT_TRUE(j["retry"].is_number_integer());
  EXPECT_EQ(j["retry"], 5);
  EXPECT_EQ(j["backtrace"], 10);
  EXPECT_EQ(j["dead"], false);
  EXPECT_EQ(j["retry_queue"], "slow");
  EXPECT_EQ(j["tags"], Json::array({"a", "b"}));
}

TEST_F(ClientTest, RetryFalseIsWrittenAsFalse) {
  client.set({.retry = false}).perform_async("X", {});
  EXPECT_EQ(queued()[0]["retry"], false);
  EXPECT_TRUE(queued()[0]["retry"].is_boolean());
}

TEST_F(ClientTest, SetOverridesQueueAndKeepsUnknownKeys) {
  PushOptions o;
  o.queue = "mailers";
  o.extra = {{"traceparent", "00-abc"}, {"cattr", {{"user", 1}}}};
  client.set(o).perform_async("X", {1});
  auto jobs = queued("mailers");
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["traceparent"], "00-abc");
  EXPECT_EQ(jobs[0]["cattr"]["user"], 1);
}

TEST_F(ClientTest, RawPushPreservesGivenJidCreatedAtAndUnknownKeys) {
  Json item = {{"class", "X"}, {"args", {1}}, {"jid", "0123456789abcdef01234567"},
               {"created_at", 1600000000.25}, {"bid", "batch1"}, {"queue", "q"}};
  auto jid = client.push(item);
  EXPECT_EQ(jid, std::optional<std::string>("0123456789abcdef01234567"));
  auto j = queued("q").at(0);
  EXPECT_EQ(j["created_at"], 1600000000.25);
  EXPECT_EQ(j["bid"], "batch1");
}

TEST_F(ClientTest, InvalidItemsAreRejectedClearly) {
  EXPECT_THROW(client.push(Json{{"args", Json::array()}}), std::invalid_argument);
  EXPECT_THROW(client.push(Json{{"class", "X"}}), std::invalid_argument);
  EXPECT_THROW(client.push(Json{{"class", "X"}, {"args", "notarray"}}), std::invalid_argument);
  EXPECT_THROW(client.push(Json{{"class", "X"}, {"args", Json::array()}, {"at", "soon"}}),
               std::invalid_argument);
  EXPECT_THROW(client.push(Json{{"class", "X"}, {"args", Json::array()}, {"queue", ""}}),
               std::invalid_argument);
  EXPECT_THROW(client.push(Json::array()), std::invalid_argument);
  try {
    client.push(Json{{"class", "X"}, {"args", 5}});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("args"));
  }
  EXPECT_EQ(store->queue_size("default"), 0);
}

TEST_F(ClientTest, PerformInSchedulesWithoutAtAndEnqueuedAt) {
  double before = epoch_now();
  auto jid = client.perform_in(60, "Later", {1});
  ASSERT_TRUE(jid);
  EXPECT_EQ(store->queue_size("default"), 0);
  auto sched = store->range(SortedSetName::kSchedule, 0, 10);
  ASSERT_EQ(sched.size(), 1u);
  EXPECT_GE(sched[0].score, before + 60);
  EXPECT_LE(sched[0].score, epoch_now() + 60);
  Json j = Json::parse(sched[0].payload);
  EXPECT_FALSE(j.contains("at"));
  EXPECT_FALSE(j.contains("enqueued_at"));
  EXPECT_EQ(j["scheduled_at"], sched[0].score);
  EXPECT_EQ(j["jid"], *jid);
  EXPECT_TRUE(store->queues(epoch_now()).empty());  // no SADD queues for scheduled pushes
}

TEST_F(ClientTest, AtRules) {
  EXPECT_EQ(resolve_at(10, 1700000000.0), std::optional<double>(1700000010.0));   // relative
  EXPECT_EQ(resolve_at(1800000000.0, 1700000000.0), std::optional<double>(1800000000.0));
  EXPECT_FALSE(resolve_at(0, 1700000000.0).has_value());
  EXPECT_FALSE(resolve_at(-5, 1700000000.0).has_value());
  EXPECT_FALSE(resolve_at(1600000000.0, 1700000000.0).has_value());  // past -> now
}

// NaN or infinity would be a schedule entry no poller takes (and JSON has no such numbers):
// every way of giving a time refuses them, and nothing is stored.
TEST_F(ClientTest, NonFiniteTimesAreRejected) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (double bad : {nan, inf, -inf}) {
    EXPECT_THROW(resolve_at(bad, 1700000000.0), std::invalid_argument);
    EXPECT_THROW(client.perform_in(bad, "X", {}), std::invalid_argument);
    EXPECT_THROW(client.perform_at(bad, "X", {}), std::invalid_argument);
    EXPECT_THROW(client.push_bulk("X", {Json::array({1})}, bad), std::invalid_argument);
    EXPECT_THROW(client.push(Json{{"class", "X"}, {"args", Json::array()}, {"at", bad}}),
                 std::invalid_argument);
  }
  EXPECT_EQ(store->queue_size("default"), 0);
  EXPECT_EQ(store->size(SortedSetName::kSchedule), 0);
}

TEST_F(ClientTest, PerformAtInThePastRunsImmediately) {
  client.perform_at(epoch_now() - 100, "X", {});
  client.perform_in(0, "X", {});
  EXPECT_EQ(store->queue_size("default"), 2);
  EXPECT_EQ(store->size(SortedSetName::kSchedule), 0);
  EXPECT_FALSE(queued()[0].contains("scheduled_at"));
}

TEST_F(ClientTest, PushBulkChunksOneStoreCallPerBatch) {
  std::vector<Json> args;
  for (int i = 0; i < 2500; ++i) args.push_back(Json::array({i}));
  auto jids = client.push_bulk("Bulk", args);
  EXPECT_EQ(jids.size(), 2500u);
  EXPECT_EQ(std::set<std::string>(jids.begin(), jids.end()).size(), 2500u);
  EXPECT_EQ(store->push_calls, 3);  // 1000 + 1000 + 500
  EXPECT_EQ(store->queue_size("default"), 2500);
  auto oldest = Json::parse(store->queue_range("default", 2499, 1).at(0));
  EXPECT_EQ(oldest["args"], Json::array({0}));  // FIFO: first pushed is consumed first
  EXPECT_TRUE(oldest.contains("enqueued_at"));
}

TEST_F(ClientTest, PushBulkScheduledAndSmallBatch) {
  std::vector<Json> args = {Json::array({1}), Json::array({2}), Json::array({3})};
  auto jids = client.push_bulk("Bulk", args, 3600.0, 2);
  EXPECT_EQ(jids.size(), 3u);
  EXPECT_EQ(store->schedule_calls, 2);
  EXPECT_EQ(store->size(SortedSetName::kSchedule), 3);
  EXPECT_THROW(client.push_bulk("Bulk", {Json(1)}), std::invalid_argument);
}

TEST_F(ClientTest, PushBulkChecksEveryArgsBeforePushingAny) {
  std::vector<Json> args(1500, Json::array());
  args.push_back(Json("not an array"));
  EXPECT_THROW(client.push_bulk("Bulk", args), std::invalid_argument);
  EXPECT_EQ(store->queue_size("default"), 0);
}

TEST_F(ClientTest, PushBulkCopiesPushesCountJobsWithTheSameArgs) {
  auto jids = client.push_bulk_copies("Bulk", Json::array({1, "x"}), 2500);
  EXPECT_EQ(jids.size(), 2500u);
  EXPECT_EQ(std::set<std::string>(jids.begin(), jids.end()).size(), 2500u);
  EXPECT_EQ(store->push_calls, 3);
  auto jobs = queued();
  ASSERT_EQ(jobs.size(), 2500u);
  for (const Json& j : jobs) {
    EXPECT_EQ(j["args"], Json::array({1, "x"}));
    EXPECT_EQ(j["class"], "Bulk");
    EXPECT_EQ(j.size(), 7u) << j.dump();
  }
  EXPECT_EQ(jobs.back()["jid"], jids.front());  // FIFO: the first jid is consumed first

  auto scheduled = client.push_bulk_copies("Bulk", Json::array(), 3, 3600.0);
  EXPECT_EQ(scheduled.size(), 3u);
  EXPECT_EQ(store->size(SortedSetName::kSchedule), 3);
  EXPECT_TRUE(client.push_bulk_copies("Bulk", Json::array(), 0).empty());
  EXPECT_THROW(client.push_bulk_copies("Bulk", Json(1), 2), std::invalid_argument);
}

// ---- middleware -----------------------------------------------------------------------------

class Recorder : public ClientMiddleware {
 public:
  Recorder(std::string name, std::vector<std::string>& log, bool stop = false)
      : name_(std::move(name)), log_(log), stop_(stop) {}
  bool call(ClientCall& call, const std::function<bool()>& next) override {
    log_.push_back(name_ + ">");
    call.job[name_] = true;
    if (stop_) return false;
    bool r = next();
    log_.push_back("<" + name_);
    return r;
  }

 private:
  std::string name_;
  std::vector<std::string>& log_;
  bool stop_;
};

TEST_F(ClientTest, MiddlewareRunsInOrderAndMayAddKeys) {
  std::vector<std::string> log;
  ClientChain chain;
  chain.add(std::make_shared<Recorder>("b", log));
  chain.prepend(std::make_shared<Recorder>("a", log));
  Client c(store, chain);
  ASSERT_TRUE(c.perform_async("X", {}));
  EXPECT_EQ(log, (std::vector<std::string>{"a>", "b>", "<b", "<a"}));
  auto j = queued()[0];
  EXPECT_EQ(j["a"], true);
  EXPECT_EQ(j["b"], true);
}

TEST_F(ClientTest, MiddlewareCanStopThePush) {
  std::vector<std::string> log;
  ClientChain chain;
  chain.add(std::make_shared<Recorder>("stopper", log, true));
  chain.add(std::make_shared<Recorder>("never", log));
  Client c(store, chain);
  EXPECT_FALSE(c.perform_async("X", {}).has_value());
  EXPECT_EQ(log, (std::vector<std::string>{"stopper>"}));
  EXPECT_EQ(store->queue_size("default"), 0);
  EXPECT_TRUE(c.push_bulk("X", {Json::array()}).empty());
}

TEST_F(ClientTest, MiddlewareSeesOriginAndQueue) {
  struct Spy : ClientMiddleware {
    bool call(ClientCall& c, const std::function<bool()>& next) override {
      origin = c.origin;
      queue = c.queue;
      return next();
    }
    PushOrigin origin = PushOrigin::kClient;
    std::string queue;
  };
  auto spy = std::make_shared<Spy>();
  ClientChain chain;
  chain.add(spy);
  Client c(store, chain);
  c.push(Json{{"class", "X"}, {"args", Json::array()}, {"queue", "q1"}}, PushOrigin::kRetry);
  EXPECT_EQ(spy->origin, PushOrigin::kRetry);
  EXPECT_EQ(spy->queue, "q1");
}

struct TypedJob {
  static constexpr const char* name = "TypedJob";
  static JobOptions options() { return {.queue = "typed", .retry = 2}; }
  void perform(JobContext&, const Json&) {}
};

TEST_F(ClientTest, TypedHelpersUseTheClassOptions) {
  auto jid = client.perform_async<TypedJob>(42, "welcome");
  ASSERT_TRUE(jid);
  auto j = queued("typed").at(0);
  EXPECT_EQ(j["class"], "TypedJob");
  EXPECT_EQ(j["args"], Json::array({42, "welcome"}));
  EXPECT_EQ(j["retry"], 2);
  client.perform_in<TypedJob>(100, 1);
  EXPECT_EQ(store->size(SortedSetName::kSchedule), 1);
  client.set({.queue = "other"}).perform_async<TypedJob>(7);
  EXPECT_EQ(store->queue_size("other"), 1);
}

TEST(RetryOptionTest, JsonForms) {
  EXPECT_EQ(RetryOption(true).to_json(), Json(true));
  EXPECT_EQ(RetryOption(false).to_json(), Json(false));
  EXPECT_EQ(RetryOption(3).to_json(), Json(3));
  EXPECT_EQ(RetryOption::from_json(Json(5)).count(), std::optional<int>(5));
  EXPECT_FALSE(RetryOption::from_json(Json(5.0)).count().has_value());  // Float -> default 25
  EXPECT_TRUE(RetryOption::from_json(Json(5.0)).enabled());
  EXPECT_FALSE(RetryOption::from_json(Json(nullptr)).enabled());
  EXPECT_TRUE(RetryOption::from_json(Json("yes")).enabled());
}

}  // namespace
}  // namespace kiq
