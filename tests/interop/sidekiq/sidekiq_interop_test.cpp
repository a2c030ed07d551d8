// Interop with real Ruby Sidekiq 6.4.1: each test has its own redis-server, a `kiq server`
// process and/or a Ruby `sidekiq` process, and checks what one side sees of the other through
// Sidekiq's own client and API (sidekiq_tool.rb prints it as JSON).
//
// Skipped when ruby or the sidekiq gem is missing, unless KIQ_REQUIRE_INTEROP is set (then
// that is a failure).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <set>

#include "integration/cli/kiq_process.hpp"
#include "kiq/kiq.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"

namespace kiq {
namespace {

using testing::ChildOptions;
using testing::ChildProcess;
using testing::lines;
using testing::run_cli;
using testing::wait_until;

std::string source_dir() {
  const char* dir = std::getenv("KIQ_SOURCE_DIR");
#ifdef KIQ_TEST_SOURCE_DIR
  if (dir == nullptr) dir = KIQ_TEST_SOURCE_DIR;
#endif
  return std::string(dir != nullptr ? dir : ".") + "/tests/interop/sidekiq";
}

// ruby + the sidekiq gem, checked once.
bool sidekiq_available() {
  static const bool available = [] {
    ChildOptions quiet;
    quiet.stdout_path = "/dev/null";
    quiet.stderr_path = "/dev/null";
    try {
      auto ruby = ChildProcess::spawn("ruby", {"-e", "require 'sidekiq'; require 'sidekiq/api'"}, quiet);
      return ruby.wait().success();
    } catch (const std::exception&) {
      return false;
    }
  }();
  return available;
}

class SidekiqInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!sidekiq_available() || !testing::redis_server_available()) {
      if (std::getenv("KIQ_REQUIRE_INTEROP") != nullptr) {
        FAIL() << "ruby, the sidekiq gem or redis-server is missing and KIQ_REQUIRE_INTEROP is set";
      }
      GTEST_SKIP() << "ruby/sidekiq or redis-server not installed";
    }
    redis_ = std::make_unique<testing::RedisServer>();
  }
  void TearDown() override {
    if (!HasFailure()) return;
    for (const std::string& name : {"kiq.log", "sidekiq.log", "ruby.err"}) {
      std::string text = testing::read_file(dir_.file(name));
      if (!text.empty()) std::cerr << "---- " << name << ":\n" << text << '\n';
    }
  }

  // Runs sidekiq_tool.rb and parses the JSON it prints.
  Json ruby(const std::vector<std::string>& args) {
    std::vector<std::string> argv{source_dir() + "/sidekiq_tool.rb"};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildOptions options;
    options.env = {"REDIS_URL=" + redis_->url()};
    options.stdout_path = dir_.file("ruby.out");
    options.stderr_path = dir_.file("ruby.err");
    auto child = ChildProcess::spawn("ruby", argv, options);
    auto status = child.wait_for(std::chrono::seconds(60));
    if (!status || !status->success()) {
      ADD_FAILURE() << "ruby sidekiq_tool.rb " << args.at(0) << " failed: "
                    << testing::read_file(dir_.file("ruby.err"));
      return Json();
    }
    return Json::parse(testing::read_file(dir_.file("ruby.out")));
  }
  ChildProcess start_kiq(const std::vector<std::string>& extra) {
    return testing::start_kiq_server(redis_->url(), extra, dir_.file("kiq.log"));
  }
  ChildProcess start_sidekiq(const std::vector<std::string>& extra) {
    std::vector<std::string> args{"-r", source_dir() + "/jobs.rb"};
    args.insert(args.end(), extra.begin(), extra.end());
    ChildOptions options;
    options.env = {"REDIS_URL=" + redis_->url()};
    options.stdout_path = dir_.file("sidekiq.log");
    options.stderr_path = dir_.file("sidekiq.log");
    return ChildProcess::spawn("sidekiq", args, options);
  }
  testing::CliResult kiq(std::vector<std::string> args) {
    args.push_back("--redis");
    args.push_back(redis_->url());
    return run_cli(args);
  }
  std::string redis(const std::vector<std::string>& argv) { return redis_->command(argv); }
  static void stop(ChildProcess& process) {
    auto status = process.terminate(std::chrono::seconds(30));
    EXPECT_TRUE(status.success()) << "server exit: " << status.describe();
  }

  std::unique_ptr<testing::RedisServer> redis_;
  testing::TempDir dir_{"kiq-interop"};
};

// 1. Sidekiq::Client.push from Ruby -> kiq runs every job.
TEST_F(SidekiqInterop, RubyClientEnqueuesKiqServerRuns) {
  Json jids = ruby({"push", "marks", "0", "300"});
  ASSERT_EQ(jids.size(), 300u);
  ChildProcess server = start_kiq({"-c", "5"});
  EXPECT_TRUE(wait_until([&] { return redis({"SCARD", "marks"}) == "300"; }))
      << "kiq ran " << redis({"SCARD", "marks"}) << " of 300 Ruby-enqueued jobs";
  std::string members = " " + redis({"SMEMBERS", "marks"}) + " ";
  for (int i = 0; i < 300; i += 37) {
    EXPECT_NE(members.find(" " + std::to_string(i) + " "), std::string::npos) << i;
  }
  EXPECT_EQ(ruby({"queue_size", "default"}), 0);
  stop(server);
  EXPECT_EQ(ruby({"stats"})["processed"], 300);
}

// 2. `kiq enqueue` -> Ruby Sidekiq runs every job.
TEST_F(SidekiqInterop, KiqEnqueueRubyServerRuns) {
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(kiq({"enqueue", "MarkJob", Json::array({"marks", std::to_string(i)}).dump()}).code, 0);
  }
  ASSERT_EQ(kiq({"enqueue", "MarkJob", R"(["bulk", "x"])", "--count", "60"}).code, 0);
  ASSERT_EQ(kiq({"enqueue", "MarkJob", R"(["marks", "critical"])", "--queue", "critical"}).code, 0);
  ChildProcess sidekiq = start_sidekiq({"-c", "5", "-q", "default", "-q", "critical"});
  EXPECT_TRUE(wait_until([&] { return redis({"SCARD", "marks"}) == "41"; }))
      << "Ruby ran " << redis({"SCARD", "marks"}) << " of 41 kiq-enqueued jobs";
  EXPECT_TRUE(wait_until([&] { return redis({"LLEN", "queue:default"}) == "0"; }));
  stop(sidekiq);
  EXPECT_EQ(redis({"SMEMBERS", "bulk"}), "x");
  EXPECT_EQ(ruby({"stats"})["processed"], 101);
  EXPECT_EQ(ruby({"stats"})["failed"], 0);
}

// 3. A kiq failure as Ruby's RetrySet sees it; Ruby's retry sends it back to kiq, kill to the
//    dead set.
TEST_F(SidekiqInterop, KiqFailureInRubyRetrySetRetryAndKill) {
  ChildProcess server = start_kiq({"-c", "2"});
  auto pushed = kiq({"enqueue", "FailingJob", R"(["kaboom"])"});
  ASSERT_EQ(pushed.code, 0);
  std::string jid = lines(pushed.out).at(0);

  Json retries;
  ASSERT_TRUE(wait_until([&] { retries = ruby({"list", "retries"}); return retries.size() == 1; }));
  EXPECT_EQ(retries[0]["jid"], jid);
  EXPECT_EQ(retries[0]["class"], "FailingJob");
  EXPECT_EQ(retries[0]["error_message"], "kaboom");
  EXPECT_NE(retries[0]["error_class"].get<std::string>().find("runtime_error"), std::string::npos)
      << retries[0]["error_class"];
  EXPECT_EQ(retries[0]["retry_count"], 0);
  EXPECT_TRUE(retries[0]["failed_at"].is_number_float());
  EXPECT_GT(retries[0]["score"].get<double>(), epoch_now());

  // Ruby's "retry now": retry_count - 1, pushed to the queue; kiq runs it, it fails again and
  // comes back with retry_count 0 and retried_at (Sidekiq's rules for a second failure).
  ASSERT_EQ(ruby({"retry_all", "retries"})["ok"], true);
  ASSERT_TRUE(wait_until([&] {
    retries = ruby({"list", "retries"});
    return retries.size() == 1 && retries[0]["item"].contains("retried_at");
  })) << "kiq did not run the job Ruby retried";
  EXPECT_EQ(retries[0]["jid"], jid);
  EXPECT_EQ(retries[0]["retry_count"], 0);

  ASSERT_EQ(ruby({"kill_all", "retries"})["ok"], true);
  Json dead = ruby({"list", "dead"});
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0]["jid"], jid);
  EXPECT_EQ(ruby({"list", "retries"}).size(), 0u);
  auto kiq_dead = kiq({"dead", "list", "--json"});
  EXPECT_EQ(Json::parse(kiq_dead.out).at(0)["job"]["jid"], jid);
  stop(server);
  Json stats = ruby({"stats"});
  EXPECT_EQ(stats["failed"], 2);
  EXPECT_EQ(stats["dead"], 1);
}

// 4. Sidekiq::ProcessSet and Sidekiq::Workers see the kiq server and its running job.
TEST_F(SidekiqInterop, RubyProcessSetAndWorkersSeeKiq) {
  ChildProcess server = start_kiq({"-c", "3", "-q", "critical,2", "-q", "default", "--tag", "interop"});
  Json processes;
  ASSERT_TRUE(wait_until([&] { processes = ruby({"processes"}); return processes.size() == 1; }));
  Json p = processes[0];
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  EXPECT_EQ(p["hostname"], host);
  EXPECT_EQ(p["pid"], server.pid());
  EXPECT_EQ(p["concurrency"], 3);
  EXPECT_EQ(p["queues"], Json::parse(R"(["critical","default"])"));
  EXPECT_EQ(p["tag"], "interop");
  EXPECT_TRUE(p["labels"].is_array());
  EXPECT_TRUE(p["started_at"].is_number());
  EXPECT_LE(p["started_at"].get<double>(), epoch_now());
  std::string identity = p["identity"];
  EXPECT_EQ(identity.rfind(std::string(host) + ":" + std::to_string(server.pid()) + ":", 0), 0u) << identity;
  EXPECT_EQ(p["quiet"], "false");
  EXPECT_EQ(p["stopping"], false);
  EXPECT_GT(p["rss"].get<std::int64_t>(), 0);

  auto sleeper = kiq({"enqueue", "SleepJob", "[4000]"});
  std::string jid = lines(sleeper.out).at(0);
  Json workers;
  ASSERT_TRUE(wait_until([&] { workers = ruby({"workers"}); return workers.size() == 1; }))
      << "Sidekiq::Workers never showed the running SleepJob";
  EXPECT_EQ(workers[0]["process"], identity);
  EXPECT_EQ(workers[0]["queue"], "default");
  EXPECT_EQ(workers[0]["payload"]["class"], "SleepJob");
  EXPECT_EQ(workers[0]["payload"]["jid"], jid);
  EXPECT_TRUE(workers[0]["run_at"].is_number_integer());
  EXPECT_TRUE(wait_until([&] { return ruby({"processes"}).at(0)["busy"] == 1; }));

  // Quiet from Ruby's side (the Web UI button): kiq's heartbeat picks it up.
  ChildOptions options;
  options.env = {"REDIS_URL=" + redis_->url()};
  options.stdout_path = dir_.file("ruby.out");
  options.stderr_path = dir_.file("ruby.err");
  auto quiet = ChildProcess::spawn("ruby", {"-r", source_dir() + "/jobs.rb", "-r", "sidekiq/api", "-e",
                                            "Sidekiq::ProcessSet.new.each(&:quiet!)"}, options);
  ASSERT_TRUE(quiet.wait().success()) << testing::read_file(dir_.file("ruby.err"));
  EXPECT_TRUE(wait_until([&] { return ruby({"processes"}).at(0)["stopping"] == true; }));
  stop(server);
  EXPECT_EQ(ruby({"processes"}).size(), 0u);
}

// 5. perform_in from Ruby: kiq's poller moves it to the queue when due and runs it.
TEST_F(SidekiqInterop, RubyScheduledJobsRunByKiqWhenDue) {
  ruby({"push_in", "2", "marks", "later"});
  ruby({"push_in", "3600", "marks", "much-later"});
  ASSERT_EQ(ruby({"list", "scheduled"}).size(), 2u);
  ChildProcess server = start_kiq({"-c", "2", "--poll-interval", "0.3"});
  EXPECT_TRUE(wait_until([&] { return redis({"SISMEMBER", "marks", "later"}) == "1"; }));
  Json scheduled = ruby({"list", "scheduled"});
  ASSERT_EQ(scheduled.size(), 1u);  // the far one stays scheduled
  EXPECT_EQ(scheduled[0]["args"][1], "much-later");
  EXPECT_EQ(redis({"SISMEMBER", "marks", "much-later"}), "0");
  stop(server);
}

// 6. Sidekiq's Web UI renders kiq's processes, queues and retries.
TEST_F(SidekiqInterop, SidekiqWebUiRendersKiqState) {
  ChildProcess server = start_kiq({"-c", "2", "-q", "default", "-q", "webq", "--tag", "webtag"});
  auto failing = kiq({"enqueue", "FailingJob", R"(["web-visible failure"])"});
  std::string jid = lines(failing.out).at(0);
  ASSERT_TRUE(wait_until([&] { return redis({"ZCARD", "retry"}) == "1"; }));
  ASSERT_EQ(kiq({"enqueue", "NoopJob", "[]", "--queue", "parked", "--count", "3"}).code, 0);
  ASSERT_TRUE(wait_until([&] { return ruby({"processes"}).size() == 1; }));
  std::string identity = ruby({"processes"}).at(0)["identity"];

  Json pages = ruby({"web", "/", "/busy", "/queues", "/queues/parked", "/retries", "/stats"});
  ASSERT_EQ(pages.size(), 6u);
  for (const Json& page : pages) EXPECT_EQ(page["status"], 200) << page["path"];
  auto body = [&](int i) { return pages[i]["body"].get<std::string>(); };
  EXPECT_NE(body(1).find(identity), std::string::npos) << "busy page lacks the kiq process";
  EXPECT_NE(body(1).find("webtag"), std::string::npos);
  EXPECT_NE(body(2).find("parked"), std::string::npos);
  EXPECT_NE(body(3).find("NoopJob"), std::string::npos);
  EXPECT_NE(body(4).find(jid), std::string::npos) << "retries page lacks the kiq failure";
  EXPECT_NE(body(4).find("web-visible failure"), std::string::npos);
  Json stats = Json::parse(body(5));
  EXPECT_EQ(stats["sidekiq"]["retries"], 1);
  EXPECT_EQ(stats["sidekiq"]["enqueued"], 3);
  stop(server);
}

}  // namespace
}  // namespace kiq
