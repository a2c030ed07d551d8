// Server end to end on MemoryStore: running, retrying, dead set, bad input, scheduling, queue
// order, quiet/stop with requeue, heartbeat content, signals, middleware.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "server/server_test_util.hpp"

namespace kiq {
namespace {

using test::eventually;
using test::fast_options;
using namespace std::chrono_literals;

class ServerTest : public ::testing::Test {
 protected:
  std::shared_ptr<MemoryStore> store = std::make_shared<MemoryStore>();
  JobRegistry registry;
  Client client{store, {}, &registry};

  std::vector<Json> set_jobs(SortedSetName set) {
    std::vector<Json> out;
    for (const auto& e : store->range(set, 0, 1000)) out.push_back(Json::parse(e.payload));
    return out;
  }
};

TEST_F(ServerTest, RunsJobsAndCountsThem) {
  registry.add("Add", [](JobContext& ctx, const Json& args) { ctx.kv().incr("sum", args[0].get<int>()); });
  for (int i = 1; i <= 50; ++i) client.perform_async("Add", {i});
  Server server(fast_options(4), registry, store);
  server.start();
  ASSERT_TRUE(server.drain(20s));
  EXPECT_EQ(store->kv().get("sum"), std::optional<std::string>("1275"));
  EXPECT_EQ(server.stats().processed, 50);
  EXPECT_EQ(server.stats().failed, 0);
  EXPECT_TRUE(store->in_progress(server.identity()).empty());
  server.stop();
  EXPECT_EQ(store->stats(epoch_now()).processed, 50);  // flushed by the final beat
  EXPECT_TRUE(store->processes().empty());              // removed on stop
}

// "As long as it takes" (milliseconds::max()) for drain, wait_until_idle, wait_stopped and the
// stop timeout, and a key that never expires: deadlines saturate instead of overflowing
// (UBSan; in practice a deadline in the past, so drain() returned false at once).
TEST_F(ServerTest, ForeverTimeoutsWait) {
  constexpr auto forever = std::chrono::milliseconds::max();
  registry.add("Add", [](JobContext& ctx, const Json& args) {
    ctx.kv().set("last", args[0].dump(), std::chrono::seconds::max());
  });
  for (int i = 1; i <= 5; ++i) client.perform_async("Add", {i});
  ServerOptions options = fast_options(2);
  options.timeout = forever;
  Server server(options, registry, store);
  server.start();
  EXPECT_TRUE(server.drain(forever));
  EXPECT_TRUE(server.wait_until_idle(forever));
  EXPECT_EQ(server.stats().processed, 5);
  EXPECT_TRUE(store->kv().get("last").has_value());
  server.stop();
  EXPECT_TRUE(server.wait_stopped(forever));
}

// The names of this process's threads (/proc/self/task/*/comm), sorted.
std::vector<std::string> thread_names() {
  std::vector<std::string> names;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (std::getline(comm, name)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST_F(ServerTest, ThreadsAreNamedForTopAndPerf) {
  const std::vector<std::string> expected = {"kiq-fetcher",  "kiq-heartbeat", "kiq-poller",
                                             "kiq-worker-0", "kiq-worker-1",  "kiq-worker-2"};
  auto all_named = [&] {
    const std::vector<std::string> names = thread_names();
    return std::all_of(expected.begin(), expected.end(), [&](const std::string& name) {
      return std::count(names.begin(), names.end(), name) == 1;
    });
  };
  ASSERT_FALSE(all_named());  // no server yet
  Server server(fast_options(3), registry, store);
  server.start();
  // Each thread names itself as it starts: wait for all of them.
  EXPECT_TRUE(eventually(all_named)) << ::testing::PrintToString(thread_names());
  server.stop();
}

TEST_F(ServerTest, JobContextDescribesTheJob) {
  std::mutex mu;
  Json seen;
  registry.add("Ctx", [&](JobContext& ctx, const Json& args) {
    std::lock_guard lock(mu);
    seen = {{"jid", ctx.jid()}, {"class", ctx.job_class()}, {"queue", ctx.queue()},
            {"args", args}, {"retry", ctx.is_retry()}, {"enqueued", ctx.enqueued_at().has_value()},
            {"will_retry", ctx.will_retry_on_failure()}};
  }, {.queue = "ctxq"});
  auto jid = client.perform_async("Ctx", {7, "x"});
  auto options = fast_options();
  options.queues = {{"ctxq", 0}};
  Server server(options, registry, store);
  server.start();
  ASSERT_TRUE(server.drain(20s));
  server.stop();
  std::lock_guard lock(mu);
  EXPECT_EQ(seen["jid"], *jid);
  EXPECT_EQ(seen["class"], "Ctx");
  EXPECT_EQ(seen["queue"], "ctxq");
  EXPECT_EQ(seen["args"], Json::array({7, "x"}));
  EXPECT_EQ(seen["retry"], false);
  EXPECT_EQ(seen["enqueued"], true);
  EXPECT_EQ(seen["will_retry"], true);
}

TEST_F(ServerTest, FailureGoesToRetrySetWithSidekiqFields) {
  registry.add("Fail", [](JobContext&, const Json& args) {
    throw std::runtime_error(args[0].get<std::string>());
  });
  double before = epoch_now();
  auto jid = client.perform_async("Fail", {"card declined"});
  Server server(fast_options(), registry, store);
  server.start();
  ASSERT_TRUE(eventually([&] { return store->size(SortedSetName::kRetry) == 1; }));
  ASSERT_TRUE(server.wait_until_idle(20s));
  server.stop();
  auto entries = store->range(SortedSetName::kRetry, 0, 10);
  Json j = Json::parse(entries[0].payload);
  EXPECT_EQ(j["jid"], *jid);
  EXPECT_EQ(j["retry_count"], 0);
  EXPECT_EQ(j["error_class"], "std::runtime_error");
  EXPECT_EQ(j["error_message"], "card declined");
  EXPECT_TRUE(j["failed_at"].is_number_float());
  EXPECT_EQ(j["queue"], "default");
  EXPECT_GE(entries[0].score, before + 15);
  EXPECT_EQ(server.stats().failed, 1);
  EXPECT_EQ(server.stats().processed, 1);
  EXPECT_EQ(server.stats().retried, 1);
  EXPECT_EQ(store->stats(epoch_now()).failed, 1);
}

TEST_F(ServerTest, FailingJobIsRetriedThenSucceeds) {
  std::atomic<int> runs{0};
  std::atomic<int> retry_count_seen{-2};
  registry.add("Flaky", [&](JobContext& ctx, const Json&) {
    if (++runs == 1) throw std::runtime_error("temporary");
    retry_count_seen = ctx.retry_count().value_or(-1);
  });
  client.perform_async("Flaky", {});
  auto options = fast_options();
  options.time_scale = 0.0001;  // 15..24 s becomes a few ms
  Server server(options, registry, store);
  server.start();
  ASSERT_TRUE(eventually([&] { return runs.load() == 2; }));
  ASSERT_TRUE(server.drain(20s));
  server.stop();
  EXPECT_EQ(retry_count_seen.load(), 0);
  EXPECT_EQ(store->size(SortedSetName::kRetry), 0);
  EXPECT_EQ(store->size(SortedSetName::kDead), 0);
}

TEST_F(ServerTest, ExhaustedRetriesGoToDeadAfterTheCallback) {
  std::atomic<int> exhausted{0};
  JobOptions o;
  o.retry = 1;
  o.retries_exhausted = [&](const Json& job, const std::exception&) {
    EXPECT_EQ(job["retry_count"], 1);
    ++exhausted;
  };
  registry.add("AlwaysFails", [](JobContext&, const Json&) { throw std::logic_error("broken"); }, o);
  client.perform_async("AlwaysFails", {});
  auto options = fast_options();
  options.time_scale = 0.0001;
  Server server(options, registry, store);
  server.start();
  ASSERT_TRUE(eventually([&] { return store->size(SortedSetName::kDead) == 1; }));
  ASSERT_TRUE(server.drain(20s));
  server.stop();
  Json dead = set_jobs(SortedSetName::kDead).at(0);
  EXPECT_EQ(dead["retry_count"], 1);
  EXPECT_EQ(dead["error_class"], "std::logic_error");
  EXPECT_TRUE(dead.contains("retried_at"));
  EXPECT_EQ(exhausted.load(), 1);
  EXPECT_EQ(store->size(SortedSetName::kRetry), 0);
  EXPECT_EQ(server.stats().dead, 1);
}

TEST_F(ServerTest, RetryFalseDropsTheJob) {
  registry.add("NoRetry", [](JobContext&, const Json&) { throw std::runtime_error("x"); },
               {.retry = false});
  client.perform_async("NoRetry", {});
  Server server(fast_options(), registry, store);
  server.start();
  ASSERT_TRUE(eventually([&] { return server.stats().failed == 1; }));
  ASSERT_TRUE(server.wait_until_idle(20s));
  server.stop();
  EXPECT_EQ(store->size(SortedSetName::kRetry), 0);
  EXPECT_EQ(store->size(SortedSetName::kDead), 0);
  EXPECT_EQ(store->queue_size("default"), 0);
}

TEST_F(ServerTest, UnknownClassIsRetriedAndFinallyDead) {
  client.push(Json{{"class", "Nobody"}, {"args", Json::array()}, {"retry", 1}});
  auto options = fast_options();
  options.time_scale = 0.0001;
  Server server(options, registry, store);
  server.start();
  ASSERT_TRUE(eventually([&] { return store->size(SortedSetName::kDead) == 1; }));
  server.stop();
  Json dead = set_jobs(SortedSetName::kDead).at(0);
  EXPECT_EQ(dead["error_class"], "kiq::UnknownJobClass");
  EXPECT_NE(dead["error_message"].get<std::string>().find("Nobody"), std::string::npos);
  EXPECT_EQ(dead["retry_count"], 1);
  EXPECT_EQ(server.stats().failed, 2);
}

TEST_F(ServerTest, BadInputGoesToDeadSetAndTheServerKeepsRunning) {
  registry.add("Good", [](JobContext& ctx, const Json&) { ctx.kv().incr("good"); });
  std::vector<std::string> bad = {
      "this is not json {",
      "[1,2,3]",
      R"({"args":[1],"jid":"abc"})",
      R"({"class":"Good","args":"nope","jid":"def","custom":1})",
      R"({"class":42,"args":[]})",
      std::string("{\"class\":\"Good\",\"args\":[\"\xff\"]}"),  // invalid UTF-8 inside JSON
  };
  store->push("default", bad);
  client.perform_async("Good", {});
  Server server(fast_options(), registry, store);
  server.start();
  ASSERT_TRUE(eventually([&] { return store->kv().get("good") == std::optional<std::string>("1"); }));
  ASSERT_TRUE(eventually([&] { return store->size(SortedSetName::kDead) == 6; }));
  ASSERT_TRUE(server.wait_until_idle(20s));
  EXPECT_TRUE(server.running());
  server.stop();
  int wrapped_raw = 0;
  for (const auto& j : set_jobs(SortedSetName::kDead)) {
    EXPECT_EQ(j["error_class"], "kiq::InvalidJob") << j.dump();
    EXPECT_FALSE(j["error_message"].get<std::string>().empty());
    EXPECT_TRUE(j["jid"].is_string());
    if (j.contains("raw_payload")) ++wrapped_raw;
    if (j.value("jid", "") == "def") {
      EXPECT_EQ(j["custom"], 1);  // original keys kept
      EXPECT_NE(j["error_message"].get<std::string>().find("args"), std::string::npos);
    }
  }
  EXPECT_GE(wrapped_raw, 2);  // the non-JSON and the non-object entries
}

TEST_F(ServerTest, ScheduledJobsRunWhenDue) {
  std::atomic<bool> ran{false};
  std::atomic<bool> had_scheduled_at{false};
  registry.add("Later", [&](JobContext& ctx, const Json&) {
    had_scheduled_at = ctx.scheduled_at().has_value();
    ran = true;
  });
  client.perform_in(0.2, "Later", {});
  EXPECT_EQ(store->size(SortedSetName::kSchedule), 1);
  Server server(fast_options(), registry, store);
  server.start();
  ASSERT_TRUE(eventually([&] { return ran.load(); }));
  server.stop();
  EXPECT_TRUE(had_scheduled_at.load());
  EXPECT_EQ(store->size(SortedSetName::kSchedule), 0);
}

TEST_F(ServerTest, PollerRepushesThroughClientMiddleware) {
  struct Spy : ClientMiddleware {
    bool call(ClientCall& c, const std::function<bool()>& next) override {
      std::lock_guard lock(mu);
      origins.push_back(c.origin);
      c.job["seen_by_spy"] = true;
      return next();
    }
    std::mutex mu;
    std::vector<PushOrigin> origins;
  };
  auto spy = std::make_shared<Spy>();
  std::mutex mu;
  Json seen;
  registry.add("Sched", [&](JobContext& ctx, const Json&) {
    std::lock_guard lock(mu);
    seen = ctx.job();
  });
  Json item = {{"class", "Sched"}, {"args", Json::array()}, {"jid", "aaaaaaaaaaaaaaaaaaaaaaaa"},
               {"created_at", 1600000000.5}, {"retry", true}, {"queue", "default"}};
  store->add(SortedSetName::kSchedule, epoch_now() - 1, item.dump());
  auto options = fast_options();
  options.client_middleware.add(spy);
  Server server(options, registry, store);
  server.start();
  ASSERT_TRUE(eventually([&] { std::lock_guard lock(mu); return !seen.is_null(); }));
  server.stop();
  std::lock_guard lock(mu);
  EXPECT_EQ(seen["jid"], "aaaaaaaaaaaaaaaaaaaaaaaa");
  EXPECT_EQ(seen["created_at"], 1600000000.5);
  EXPECT_TRUE(seen["enqueued_at"].is_number_float());
  EXPECT_EQ(seen["seen_by_spy"], true);
  std::lock_guard spy_lock(spy->mu);
  EXPECT_EQ(spy->origins, std::vector<PushOrigin>{PushOrigin::kScheduler});
}

TEST_F(ServerTest, StrictQueueOrderDrainsHigherQueuesFirst) {
  std::mutex mu;
  std::vector<std::string> order;
  registry.add("Rec", [&](JobContext& ctx, const Json&) {
    std::lock_guard lock(mu);
    order.push_back(ctx.queue());
  });
  for (int i = 0; i < 3; ++i) {
    client.set({.queue = "low"}).perform_async("Rec", {});
    client.set({.queue = "high"}).perform_async("Rec", {});
  }
  auto options = fast_options(1);
  options.fetch_batch = 1;
  options.queues = {{"high", 0}, {"low", 0}};
  Server server(options, registry, store);
  server.start();
  ASSERT_TRUE(server.drain(20s));
  server.stop();
  std::lock_guard lock(mu);
  EXPECT_EQ(order, (std::vector<std::string>{"high", "high", "high", "low", "low", "low"}));
}

TEST_F(ServerTest, QuietStopsFetching) {
  std::atomic<int> runs{0};
  registry.add("Count", [&](JobContext&, const Json&) { ++runs; });
  Server server(fast_options(), registry, store);
  server.start();
  client.perform_async("Count", {});
  ASSERT_TRUE(eventually([&] { return runs.load() == 1; }));
  server.quiet();
  EXPECT_TRUE(server.quieted());
  // After quiet, the fetcher ends its current wait and takes nothing more.
  std::this_thread::sleep_for(200ms);
  client.perform_async("Count", {});
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(store->queue_size("default"), 1);
  ASSERT_TRUE(eventually([&] { return !store->processes().empty() && store->processes()[0].quiet; }));
  server.stop();
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(store->queue_size("default"), 1);
}

TEST_F(ServerTest, StopRequeuesJobsStillRunningAtTheDeadline) {
  auto gate = std::make_shared<test::Gate>();
  std::atomic<int> started{0};
  registry.add("Block", [gate, &started](JobContext&, const Json&) {
    ++started;
    gate->wait();
  });
  client.perform_async("Block", {1});
  client.perform_async("Block", {2});
  std::string original = store->queue_range("default", 0, 10).at(1);  // the older one
  auto options = fast_options(1);  // one runs, one waits in the buffer
  options.timeout = 200ms;
  Server server(options, registry, store);
  server.start();
  ASSERT_TRUE(eventually([&] { return started.load() == 1 && store->queue_size("default") == 0; }));
  server.stop();
  EXPECT_EQ(store->queue_size("default"), 2);
  EXPECT_TRUE(store->in_progress(server.identity()).empty());
  EXPECT_EQ(server.stats().requeued, 2);
  auto queued = store->queue_range("default", 0, 10);
  EXPECT_NE(std::find(queued.begin(), queued.end(), original), queued.end());  // JSON untouched
  EXPECT_TRUE(store->processes().empty());
  gate->open();  // the abandoned worker finishes; its result must not ack anything
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(store->queue_size("default"), 2);
  EXPECT_EQ(store->size(SortedSetName::kRetry), 0);
}

TEST_F(ServerTest, GracefulStopWaitsForRunningJobs) {
  auto gate = std::make_shared<test::Gate>();
  std::atomic<bool> started{false}, finished{false};
  registry.add("Slow", [gate, &started, &finished](JobContext&, const Json&) {
    started = true;
    gate->wait();
    finished = true;
  });
  client.perform_async("Slow", {});
  Server server(fast_options(), registry, store);
  server.start();
  ASSERT_TRUE(eventually([&] { return started.load(); }));
  std::thread opener([&] {
    std::this_thread::sleep_for(100ms);
    gate->open();
  });
  server.stop();  // timeout 3 s: the job finishes first
  opener.join();
  EXPECT_TRUE(finished.load());
  EXPECT_EQ(store->queue_size("default"), 0);
  EXPECT_EQ(server.stats().requeued, 0);
  EXPECT_EQ(server.stats().processed, 1);
}

TEST_F(ServerTest, HeartbeatPublishesProcessInfoAndWork) {
  auto gate = std::make_shared<test::Gate>();
  registry.add("Busy", [gate](JobContext&, const Json&) { gate->wait(); });
  auto options = fast_options(3);
  options.queues = {{"critical", 3}, {"default", 1}};
  options.tag = "app";
  options.labels = {"blue"};
  client.perform_async("Busy", {});
  std::string payload = store->queue_range("default", 0, 1).at(0);
  Server server(options, registry, store);
  server.start();
  ASSERT_TRUE(eventually([&] { return store->work().size() == 1; }));
  auto procs = store->processes();
  ASSERT_EQ(procs.size(), 1u);
  EXPECT_EQ(procs[0].identity, server.identity());
  EXPECT_EQ(procs[0].busy, 1);
  EXPECT_GT(procs[0].rss_kb, 0);
  Json info = Json::parse(procs[0].info_json);
  EXPECT_EQ(info["identity"], server.identity());
  EXPECT_EQ(info["concurrency"], 3);
  EXPECT_EQ(info["queues"], Json::array({"critical", "default"}));
  EXPECT_EQ(info["weights"], Json::array({{{"critical", 3}, {"default", 1}}}));
  EXPECT_EQ(info["tag"], "app");
  EXPECT_EQ(info["labels"], Json::array({"blue"}));
  EXPECT_TRUE(info["started_at"].is_number_float());
  EXPECT_TRUE(info["pid"].is_number_integer());
  EXPECT_TRUE(info["hostname"].is_string());
  EXPECT_EQ(info["version"], kVersion);
  auto work = store->work().at(0);
  EXPECT_EQ(work.identity, server.identity());
  Json w = Json::parse(work.work_json);
  EXPECT_EQ(w["queue"], "default");
  EXPECT_TRUE(w["payload"].is_string());  // the job JSON as a string (double encoded)
  EXPECT_EQ(w["payload"], payload);
  EXPECT_TRUE(w["run_at"].is_number_integer());
  gate->open();
  ASSERT_TRUE(eventually([&] { return store->work().empty(); }));
  server.stop();
}

TEST_F(ServerTest, IdentityHasSidekiqShape) {
  std::string id = make_identity();
  auto first = id.find(':'), last = id.rfind(':');
  ASSERT_NE(first, last);
  EXPECT_EQ(id.size() - last - 1, 12u);
  EXPECT_EQ(id.substr(first + 1, last - first - 1), std::to_string(getpid()));
}

TEST_F(ServerTest, SignalsFromTheStoreQuietAndStop) {
  Server server(fast_options(), registry, store);
  server.start();
  store->signal(server.identity(), "TSTP");
  ASSERT_TRUE(eventually([&] { return server.quieted(); }));
  store->signal(server.identity(), "TERM");
  EXPECT_TRUE(server.wait_stopped(20s));
  EXPECT_FALSE(server.running());
}

TEST_F(ServerTest, ServerMiddlewareWrapsJobsAndCanSkip) {
  struct Mw : ServerMiddleware {
    Mw(std::string n, std::vector<std::string>& log, std::mutex& mu, bool skip = false)
        : name(std::move(n)), log(log), mu(mu), skip(skip) {}
    void call(JobContext& ctx, const std::function<void()>& next) override {
      { std::lock_guard lock(mu); log.push_back(name + ">" + ctx.job_class()); }
      ctx.job()["touched_by_" + name] = true;
      if (skip && ctx.job_class() == "Skipped") return;
      next();
      { std::lock_guard lock(mu); log.push_back("<" + name); }
    }
    std::string name;
    std::vector<std::string>& log;
    std::mutex& mu;
    bool skip;
  };
  std::mutex mu;
  std::vector<std::string> log;
  std::atomic<int> performed{0};
  registry.add("Run", [&](JobContext&, const Json&) { ++performed; });
  registry.add("Skipped", [&](JobContext&, const Json&) { ++performed; });
  registry.add("Boom", [](JobContext&, const Json&) { throw std::runtime_error("x"); });
  auto options = fast_options(1);
  options.server_middleware.add(std::make_shared<Mw>("outer", log, mu));
  options.server_middleware.add(std::make_shared<Mw>("inner", log, mu, true));
  client.perform_async("Run", {});
  Server server(options, registry, store);
  server.start();
  ASSERT_TRUE(server.drain(20s));
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(log, (std::vector<std::string>{"outer>Run", "inner>Run", "<inner", "<outer"}));
  }
  client.perform_async("Skipped", {});
  client.perform_async("Boom", {});
  ASSERT_TRUE(eventually([&] { return store->size(SortedSetName::kRetry) == 1; }));
  ASSERT_TRUE(server.wait_until_idle(20s));
  server.stop();
  EXPECT_EQ(performed.load(), 1);
  Json retry = set_jobs(SortedSetName::kRetry).at(0);
  EXPECT_EQ(retry["touched_by_outer"], true);  // middleware changes persist into the retry
  EXPECT_EQ(server.stats().processed, 3);
}

TEST_F(ServerTest, JobsEnqueueJobsThroughTheServersClientChain) {
  struct Tagger : ClientMiddleware {
    bool call(ClientCall& c, const std::function<bool()>& next) override {
      c.job["tagged"] = true;
      return next();
    }
  };
  std::atomic<bool> child_tagged{false};
  registry.add("Parent", [](JobContext& ctx, const Json&) { ctx.client().perform_async("Child", {1}); });
  registry.add("Child", [&](JobContext& ctx, const Json&) { child_tagged = ctx.job().value("tagged", false); });
  auto options = fast_options();
  options.client_middleware.add(std::make_shared<Tagger>());
  client.perform_async("Parent", {});
  Server server(options, registry, store);
  server.start();
  ASSERT_TRUE(eventually([&] { return child_tagged.load(); }));
  server.stop();
}

TEST_F(ServerTest, RecoversOrphansOfDeadProcessesOnStart) {
  std::atomic<int> runs{0};
  registry.add("Orphan", [&](JobContext&, const Json&) { ++runs; });
  client.perform_async("Orphan", {});
  auto taken = store->fetch("ghost:1:000000000000", std::vector<std::string>{"default"}, 1, 10ms);
  ASSERT_EQ(taken.size(), 1u);
  Server server(fast_options(), registry, store);
  server.start();
  ASSERT_TRUE(eventually([&] { return runs.load() == 1; }));
  server.stop();
  EXPECT_TRUE(store->in_progress("ghost:1:000000000000").empty());
  EXPECT_EQ(server.stats().recovered, 1);
}

TEST_F(ServerTest, InvalidOptionsAreRejected) {
  auto options = fast_options();
  options.concurrency = 0;
  EXPECT_THROW(Server(options, registry, store), std::invalid_argument);
  options = fast_options();
  options.queues.clear();
  EXPECT_THROW(Server(options, registry, store), std::invalid_argument);
  options = fast_options();
  options.queues = {{"", 1}};
  EXPECT_THROW(Server(options, registry, store), std::invalid_argument);
  EXPECT_THROW(Server(fast_options(), registry, nullptr), std::invalid_argument);
  options = fast_options();
  options.fetch_batch = ServerOptions::kMaxFetchBatch + 1;
  EXPECT_THROW(Server(options, registry, store), std::invalid_argument);
  options.fetch_batch = ServerOptions::kMaxFetchBatch;
  EXPECT_NO_THROW(Server(options, registry, store));
}

TEST_F(ServerTest, RunBlocksUntilRequestStop) {
  Server server(fast_options(), registry, store);
  std::thread runner([&] { server.run(); });
  ASSERT_TRUE(eventually([&] { return store->processes().size() == 1; }));
  server.request_stop();
  runner.join();
  EXPECT_FALSE(server.running());
}

// `kiq server` takes SIGTERM during start-up this way (stop before run): run() must return and
// the server must be destroyed without starting threads nobody joins (was std::terminate).
TEST_F(ServerTest, StopBeforeRunStartsNothing) {
  Server server(fast_options(), registry, store);
  server.stop();
  server.run();
  EXPECT_FALSE(server.running());
  EXPECT_TRUE(store->processes().empty());
}


// A MemoryStore that fails some calls, as a store does during an outage.
class FlakyStore : public MemoryStore {
 public:
  std::atomic<int> failing_beats{0};
  std::atomic<int> failing_fetches{0};
  std::atomic<int> beats{0};    // attempts
  std::atomic<int> fetches{0};  // attempts
  std::optional<std::string> heartbeat(const ProcessBeat& beat) override {
    ++beats;
    if (failing_beats > 0) {
      --failing_beats;
      throw StoreError("connection refused (test)");
    }
    return MemoryStore::heartbeat(beat);
  }
  std::vector<FetchedJob> fetch(std::string_view identity, std::span<const std::string> queues,
                                std::size_t max, std::chrono::milliseconds timeout) override {
    ++fetches;
    if (failing_fetches > 0) {
      --failing_fetches;
      throw StoreError("connection reset (test)");
    }
    return MemoryStore::fetch(identity, queues, max, timeout);
  }
};

TEST(ServerOutageTest, FailedBeatsKeepTheirCountersAndFetchErrorsAreSurvived) {
  auto store = std::make_shared<FlakyStore>();
  JobRegistry registry;
  std::atomic<int> runs{0};
  registry.add("Work", [&](JobContext&, const Json&) { ++runs; });
  Client client(store);
  auto options = fast_options();
  Server server(options, registry, store);
  server.start();
  ASSERT_TRUE(eventually([&] { return store->processes().size() == 1; }));  // alive: it fetches
  store->failing_fetches = 2;
  store->failing_beats = 1000;  // every beat fails while the jobs run
  for (int i = 0; i < 5; ++i) client.perform_async("Work", {i});
  ASSERT_TRUE(eventually([&] { return runs.load() == 5; }));
  EXPECT_EQ(store->stats(epoch_now()).processed, 0);  // nothing flushed yet
  store->failing_beats = 0;                          // the store is back
  ASSERT_TRUE(eventually([&] { return store->stats(epoch_now()).processed == 5; }));
  EXPECT_TRUE(server.running());
  server.stop();
  EXPECT_EQ(store->stats(epoch_now()).processed, 5);  // counted once, not lost, not doubled
}

// Jobs held by an identity that has no process key look orphaned to other processes (they would
// run them again): a server whose start-up beat failed fetches nothing until a beat succeeds,
// then recovers orphans and runs the jobs.
TEST(ServerOutageTest, NothingIsFetchedBeforeAHeartbeatSucceeds) {
  auto store = std::make_shared<FlakyStore>();
  JobRegistry registry;
  std::atomic<int> runs{0};
  registry.add("Work", [&](JobContext&, const Json&) { ++runs; });
  Client client(store);
  for (int i = 0; i < 5; ++i) client.perform_async("Work", {i});
  store->failing_beats = 1000000;
  Server server(fast_options(), registry, store);
  server.start();
  ASSERT_TRUE(eventually([&] { return store->beats.load() >= 3; }));  // start-up + 2 retries
  EXPECT_EQ(store->fetches.load(), 0);
  EXPECT_EQ(runs.load(), 0);
  EXPECT_EQ(store->queue_size("default"), 5);
  store->failing_beats = 0;
  ASSERT_TRUE(eventually([&] { return runs.load() == 5; }));
  EXPECT_EQ(store->processes().size(), 1u);
  server.stop();
}

}  // namespace
}  // namespace kiq
