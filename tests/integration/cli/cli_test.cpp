// The kiq CLI in-process (kiq::cli::run): exit codes, argument validation, and every admin
// command against a private redis-server, checked through raw Redis commands.
#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>
#include <set>

#include "integration/cli/kiq_process.hpp"
#include "kiq/kiq.hpp"
#include "support/free_port.hpp"
#include "support/redis_server.hpp"

namespace kiq {
namespace {

using testing::lines;
using testing::run_cli;

const std::regex kJid("[0-9a-f]{24}");

// Commands must not pick up a REDIS_URL from the environment running the tests.
class NoRedisUrl : public ::testing::Environment {
 public:
  void SetUp() override { unsetenv("REDIS_URL"); }
};
const auto* const kNoRedisUrl = ::testing::AddGlobalTestEnvironment(new NoRedisUrl);

TEST(CliUsage, NoSubcommandIsAUsageError) {
  EXPECT_EQ(run_cli({}).code, cli::kExitUsage);
  EXPECT_EQ(run_cli({"frobnicate"}).code, cli::kExitUsage);
}

TEST(CliUsage, HelpOnEveryCommandExitsZero) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--help"}, {"server", "--help"}, {"enqueue", "--help"},
        {"stats", "--help"}, {"queues", "--help"}, {"processes", "--help"}, {"quiet", "--help"},
        {"stop", "--help"}, {"retries", "--help"}, {"retries", "list", "--help"},
        {"scheduled", "retry", "--help"}, {"dead", "clear", "--help"}}) {
    auto r = run_cli(args);
    EXPECT_EQ(r.code, 0) << args[0];
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << args[0] << ": " << r.out;
  }
}

TEST(CliUsage, ArgsJsonMustBeAnArray) {
  auto bad_json = run_cli({"enqueue", "NoopJob", "[1,"});
  EXPECT_EQ(bad_json.code, cli::kExitUsage);
  EXPECT_NE(bad_json.err.find("not valid JSON"), std::string::npos) << bad_json.err;
  auto object = run_cli({"enqueue", "NoopJob", R"({"a":1})"});
  EXPECT_EQ(object.code, cli::kExitUsage);
  EXPECT_NE(object.err.find("must be a JSON array"), std::string::npos) << object.err;
}

TEST(CliUsage, BadFlagsAreUsageErrors) {
  EXPECT_EQ(run_cli({"enqueue", "NoopJob", "[]", "--retry", "maybe"}).code, cli::kExitUsage);
  EXPECT_EQ(run_cli({"enqueue", "NoopJob", "[]", "--in", "5", "--at", "1"}).code, cli::kExitUsage);
  EXPECT_EQ(run_cli({"enqueue", "NoopJob", "[]", "--count", "0"}).code, cli::kExitUsage);
  EXPECT_EQ(run_cli({"enqueue", "NoopJob"}).code, cli::kExitUsage);
  EXPECT_EQ(run_cli({"server", "-c", "0"}).code, cli::kExitUsage);
  for (const char* value : {"-1", "100001", "99999999999999999999"}) {
    auto r = run_cli({"server", "--fetch-batch", value});
    EXPECT_EQ(r.code, cli::kExitUsage) << value;
    EXPECT_NE(r.err.find("--fetch-batch"), std::string::npos) << r.err;
  }
  // Seconds must be finite and at most a year (NaN passes CLI11's own range checks; a huge
  // timeout overflowed the conversion to milliseconds).
  for (const char* flag :
       {"-t", "--poll-interval", "--heartbeat-interval", "--orphan-check-interval"}) {
    for (const char* value : {"nan", "inf", "1e300", "31536001", "-1"}) {
      auto r = run_cli({"server", flag, value});
      EXPECT_EQ(r.code, cli::kExitUsage) << flag << " " << value;
      EXPECT_NE(r.err.find(flag), std::string::npos) << r.err;
    }
  }
  EXPECT_EQ(run_cli({"server", "--process-ttl", "40000000"}).code, cli::kExitUsage);
  EXPECT_EQ(run_cli({"server", "--heartbeat-interval", "0.0001"}).code, cli::kExitUsage);  // 0 ms
  EXPECT_EQ(run_cli({"enqueue", "NoopJob", "[]", "--in", "nan"}).code, cli::kExitUsage);
  EXPECT_EQ(run_cli({"enqueue", "NoopJob", "[]", "--at", "nan"}).code, cli::kExitUsage);
  auto queue = run_cli({"server", "-q", "critical,x"});
  EXPECT_EQ(queue.code, cli::kExitUsage);
  // One "kiq:" (the library's messages start with one too).
  EXPECT_EQ(queue.err.rfind("kiq: error: --queue: queue 'critical,x': ", 0), 0u) << queue.err;
  EXPECT_EQ(run_cli({"retries", "retry"}).code, cli::kExitUsage);  // neither JID nor --all
  EXPECT_EQ(run_cli({"retries"}).code, cli::kExitUsage);
  EXPECT_EQ(run_cli({"stats", "--redis", "http://localhost"}).code, cli::kExitUsage);
}

TEST(CliRuntime, UnreachableRedisIsARuntimeFailureWithOneClearLine) {
  std::string url = "redis://127.0.0.1:" + std::to_string(testing::free_port());
  for (std::vector<std::string> args : {std::vector<std::string>{"stats", "--redis", url},
                                        {"enqueue", "NoopJob", "[]", "--redis", url}}) {
    auto r = run_cli(args);
    EXPECT_EQ(r.code, cli::kExitFailure) << args[0];
    ASSERT_EQ(lines(r.err).size(), 1u) << r.err;
    EXPECT_NE(r.err.find("kiq: error: cannot reach Redis"), std::string::npos) << r.err;
  }
}

TEST(CliRuntime, RedisUrlFromTheEnvironment) {
  std::string url = "redis://127.0.0.1:" + std::to_string(testing::free_port());
  setenv("REDIS_URL", url.c_str(), 1);
  auto r = run_cli({"stats"});
  unsetenv("REDIS_URL");
  EXPECT_EQ(r.code, cli::kExitFailure);
  EXPECT_NE(r.err.find("cannot reach Redis"), std::string::npos) << r.err;
}

// --count is pushed in rounds of at most 100,000 (the jids held at once stay bounded, so a
// huge count streams instead of failing to reserve memory): every job once across rounds.
TEST(CliEmbedded, EnqueueCountSpanningRoundsPushesEveryJobOnce) {
  auto r = run_cli({"enqueue", "NoopJob", "[]", "--count", "100001"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto jids = lines(r.out);
  EXPECT_EQ(jids.size(), 100001u);
  EXPECT_EQ(std::set<std::string>(jids.begin(), jids.end()).size(), 100001u);
}

TEST(CliEmbedded, EnqueueWithoutRedisNotesTheEmbeddedStore) {
  auto r = run_cli({"enqueue", "NoopJob", "[]"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(std::regex_match(lines(r.out).at(0), kJid)) << r.out;
  EXPECT_NE(r.err.find("embedded store"), std::string::npos) << r.err;
}

// Runs one registered job directly (no server) on an embedded store.
void perform(const JobRegistry& jobs, Store& store, const std::string& name, Json args) {
  const JobType* type = jobs.find(name);
  ASSERT_NE(type, nullptr) << name;
  Client client(std::shared_ptr<Store>(&store, [](Store*) {}));
  Json job{{"class", name}, {"args", args}, {"jid", new_jid()}, {"queue", "default"}};
  JobContext ctx(job, "default", type, client, store);
  type->perform(ctx, ctx.args());
}

TEST(BuiltinJobs, BehaveAsDocumented) {
  JobRegistry jobs;
  cli::register_builtin_jobs(jobs);
  MemoryStore store;
  perform(jobs, store, "NoopJob", {1, "any", Json::object()});
  perform(jobs, store, "SleepJob", {1});
  perform(jobs, store, "MarkJob", {"marks", "a"});
  perform(jobs, store, "MarkJob", {"marks", 7});
  EXPECT_TRUE(store.kv().sismember("marks", "a"));
  EXPECT_TRUE(store.kv().sismember("marks", "7"));
  try {
    perform(jobs, store, "FailingJob", {"boom"});
    ADD_FAILURE() << "FailingJob did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "boom");
  }
  EXPECT_THROW(perform(jobs, store, "SleepJob", {"soon"}), std::invalid_argument);
  EXPECT_THROW(perform(jobs, store, "MarkJob", {"only-set"}), std::invalid_argument);
}

class CliRedis : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::redis_server_available()) GTEST_SKIP() << "redis-server not installed";
    redis_ = std::make_unique<testing::RedisServer>();
    url_ = redis_->url();
  }
  testing::CliResult kiq(std::vector<std::string> args) {
    args.push_back("--redis");
    args.push_back(url_);
    return run_cli(args);
  }
  std::string redis(const std::vector<std::string>& argv) { return redis_->command(argv); }
  Json queued_job(const std::string& queue, int index = 0) {
    return Json::parse(redis({"LINDEX", "queue:" + queue, std::to_string(index)}));
  }

  std::unique_ptr<testing::RedisServer> redis_;
  std::string url_;
};

TEST_F(CliRedis, EnqueuePushesASidekiqJobHash) {
  auto r = kiq({"enqueue", "MarkJob", R"(["s", 1])"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");  // no embedded-store note with --redis
  std::string jid = lines(r.out).at(0);
  EXPECT_TRUE(std::regex_match(jid, kJid)) << jid;
  EXPECT_EQ(redis({"SISMEMBER", "queues", "default"}), "1");
  Json job = queued_job("default");
  EXPECT_EQ(job["class"], "MarkJob");
  EXPECT_EQ(job["args"], Json::parse(R"(["s", 1])"));
  EXPECT_EQ(job["queue"], "default");
  EXPECT_EQ(job["retry"], true);
  EXPECT_EQ(job["jid"], jid);
  EXPECT_TRUE(job["created_at"].is_number_float());
  EXPECT_TRUE(job["enqueued_at"].is_number_float());
}

TEST_F(CliRedis, EnqueueQueueAndRetryOverrides) {
  ASSERT_EQ(kiq({"enqueue", "NoopJob", "[]", "--queue", "critical", "--retry", "3"}).code, 0);
  ASSERT_EQ(kiq({"enqueue", "NoopJob", "[]", "--queue", "low", "--retry", "false"}).code, 0);
  Json critical = queued_job("critical");
  EXPECT_EQ(critical["queue"], "critical");
  EXPECT_TRUE(critical["retry"].is_number_integer());
  EXPECT_EQ(critical["retry"], 3);
  EXPECT_EQ(queued_job("low")["retry"], false);
}

TEST_F(CliRedis, EnqueueInAndAtGoToTheSchedule) {
  double before = epoch_now();
  ASSERT_EQ(kiq({"enqueue", "NoopJob", "[1]", "--in", "60"}).code, 0);
  ASSERT_EQ(kiq({"enqueue", "NoopJob", "[2]", "--at", std::to_string(static_cast<long>(before) + 3600)}).code, 0);
  EXPECT_EQ(redis({"LLEN", "queue:default"}), "0");
  EXPECT_EQ(redis({"ZCARD", "schedule"}), "2");
  double first = std::stod(redis({"ZRANGE", "schedule", "0", "0", "WITHSCORES"}).substr(
      redis({"ZRANGE", "schedule", "0", "0", "WITHSCORES"}).rfind(' ') + 1));
  EXPECT_GE(first, before + 59);
  EXPECT_LE(first, before + 3600);
  auto scheduled = kiq({"scheduled", "list", "--json"});
  ASSERT_EQ(scheduled.code, 0) << scheduled.err;
  Json list = Json::parse(scheduled.out);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["job"]["args"], Json::array({1}));
  EXPECT_FALSE(list[0]["job"].contains("at"));
}

TEST_F(CliRedis, EnqueueCountUsesBulkPush) {
  auto r = kiq({"enqueue", "NoopJob", "[]", "--count", "2500", "--queue", "bulk"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto jids = lines(r.out);
  EXPECT_EQ(jids.size(), 2500u);
  EXPECT_EQ(std::set<std::string>(jids.begin(), jids.end()).size(), 2500u);
  EXPECT_EQ(redis({"LLEN", "queue:bulk"}), "2500");
  EXPECT_EQ(queued_job("bulk", 1234)["queue"], "bulk");
}

TEST_F(CliRedis, StatsAndQueues) {
  ASSERT_EQ(kiq({"enqueue", "NoopJob", "[]", "--count", "3"}).code, 0);
  ASSERT_EQ(kiq({"enqueue", "NoopJob", "[]", "--queue", "other"}).code, 0);
  ASSERT_EQ(kiq({"enqueue", "NoopJob", "[]", "--in", "100"}).code, 0);
  redis({"SET", "stat:processed", "42"});
  redis({"SET", "stat:failed", "7"});
  auto r = kiq({"stats", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  Json stats = Json::parse(r.out);
  EXPECT_EQ(stats["processed"], 42);
  EXPECT_EQ(stats["failed"], 7);
  EXPECT_EQ(stats["enqueued"], 4);
  EXPECT_EQ(stats["scheduled"], 1);
  EXPECT_EQ(stats["retries"], 0);
  EXPECT_EQ(stats["dead"], 0);
  EXPECT_EQ(stats["processes"], 0);
  EXPECT_EQ(stats["busy"], 0);
  auto text = kiq({"stats"});
  EXPECT_NE(text.out.find("processed: 42"), std::string::npos) << text.out;

  auto q = kiq({"queues", "--json"});
  ASSERT_EQ(q.code, 0) << q.err;
  std::map<std::string, std::int64_t> sizes;
  for (const Json& e : Json::parse(q.out)) sizes[e["name"]] = e["size"];
  EXPECT_EQ(sizes, (std::map<std::string, std::int64_t>{{"default", 3}, {"other", 1}}));
  EXPECT_NE(kiq({"queues"}).out.find("other"), std::string::npos);
}

// A failed job as Ruby's retry logic leaves it, added straight to the retry set.
std::string failed_job(const std::string& jid, int retry_count) {
  Json job{{"class", "NoopJob"}, {"args", Json::array({1})}, {"queue", "default"},
           {"retry", true}, {"jid", jid}, {"created_at", 1700000000.5},
           {"enqueued_at", 1700000000.6}, {"error_class", "RuntimeError"},
           {"error_message", "boom"}, {"retry_count", retry_count}, {"failed_at", 1700000001.5},
           {"custom_key", "kept"}};
  return job.dump();
}

TEST_F(CliRedis, RetriesListRetryDeleteKillClear) {
  const std::string a(24, 'a'), b(24, 'b'), c(24, 'c');
  redis({"ZADD", "retry", "1800000000.5", failed_job(a, 2)});
  redis({"ZADD", "retry", "1800000001.5", failed_job(b, 0)});
  redis({"ZADD", "retry", "1800000002.5", failed_job(c, 5)});

  auto list = kiq({"retries", "list", "--json", "--limit", "2"});
  ASSERT_EQ(list.code, 0) << list.err;
  Json entries = Json::parse(list.out);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0]["job"]["jid"], a);
  EXPECT_DOUBLE_EQ(entries[0]["score"].get<double>(), 1800000000.5);
  EXPECT_NE(kiq({"retries", "list"}).out.find("RuntimeError: boom"), std::string::npos);

  // retry: back to its queue now, retry_count - 1 (Sidekiq's "Retry now"), other keys kept.
  auto retried = kiq({"retries", "retry", a});
  ASSERT_EQ(retried.code, 0) << retried.err;
  EXPECT_EQ(redis({"ZCARD", "retry"}), "2");
  Json job = queued_job("default");
  EXPECT_EQ(job["jid"], a);
  EXPECT_EQ(job["retry_count"], 1);
  EXPECT_EQ(job["custom_key"], "kept");
  EXPECT_EQ(job["error_class"], "RuntimeError");

  EXPECT_EQ(kiq({"retries", "retry", a}).code, cli::kExitFailure);  // gone from the set

  ASSERT_EQ(kiq({"retries", "kill", b}).code, 0);
  EXPECT_EQ(redis({"ZCARD", "dead"}), "1");
  EXPECT_NE(redis({"ZRANGE", "dead", "0", "-1"}).find(b), std::string::npos);

  ASSERT_EQ(kiq({"retries", "delete", c}).code, 0);
  EXPECT_EQ(redis({"ZCARD", "retry"}), "0");

  redis({"ZADD", "retry", "1800000000.5", failed_job(a, 0)});
  redis({"ZADD", "retry", "1800000001.5", failed_job(c, 0)});
  ASSERT_EQ(kiq({"retries", "retry", "--all"}).code, 0);
  EXPECT_EQ(redis({"LLEN", "queue:default"}), "3");
  EXPECT_EQ(redis({"ZCARD", "retry"}), "0");

  ASSERT_EQ(kiq({"dead", "clear"}).code, 0);
  EXPECT_EQ(redis({"ZCARD", "dead"}), "0");
}

TEST_F(CliRedis, DeadSetRetryPushesBack) {
  const std::string d(24, 'd');
  redis({"ZADD", "dead", "1700000000.5", failed_job(d, 25)});
  auto list = kiq({"dead", "list", "--json"});
  ASSERT_EQ(Json::parse(list.out).size(), 1u);
  ASSERT_EQ(kiq({"dead", "retry", "--all"}).code, 0);
  EXPECT_EQ(queued_job("default")["retry_count"], 24);
  EXPECT_EQ(redis({"ZCARD", "dead"}), "0");
}

TEST_F(CliRedis, QuietAndStopSignalTheProcess) {
  ProcessBeat beat;
  beat.identity = "host:1:abc";
  beat.info_json = R"({"hostname":"host","pid":1,"identity":"host:1:abc"})";
  beat.beat = epoch_now();
  open_store(url_)->heartbeat(beat);
  ASSERT_EQ(kiq({"quiet", "host:1:abc"}).code, 0);
  ASSERT_EQ(kiq({"stop", "host:1:abc"}).code, 0);
  EXPECT_EQ(redis({"LRANGE", "host:1:abc-signals", "0", "-1"}), "TERM TSTP");
  EXPECT_EQ(kiq({"stop"}).code, cli::kExitUsage);
  // An identity no process heartbeats under (a typo, a stopped process): nothing is sent, and
  // the command says so instead of "sent".
  auto r = kiq({"stop", "host:2:typo"});
  EXPECT_EQ(r.code, cli::kExitFailure);
  EXPECT_NE(r.err.find("no running process host:2:typo"), std::string::npos) << r.err;
  EXPECT_EQ(redis({"EXISTS", "host:2:typo-signals"}), "0");
}

}  // namespace
}  // namespace kiq
