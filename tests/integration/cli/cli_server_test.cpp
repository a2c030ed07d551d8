// `kiq server` as a real process against a private redis-server: runs jobs enqueued with
// `kiq enqueue`, shows up in `kiq processes`, goes quiet on SIGTSTP and stops gracefully on
// SIGTERM (unfinished jobs back on their queue, process entry removed, exit code 0).
#include <gtest/gtest.h>
#include <signal.h>

#include "integration/cli/kiq_process.hpp"
#include "kiq/kiq.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"

namespace kiq {
namespace {

using testing::ChildProcess;
using testing::lines;
using testing::run_cli;
using testing::wait_until;

class KiqServerProcess : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::redis_server_available()) GTEST_SKIP() << "redis-server not installed";
    redis_ = std::make_unique<testing::RedisServer>();
  }
  void TearDown() override {
    if (HasFailure() && !log_.empty()) std::cerr << "kiq server log:\n" << testing::read_file(log_);
  }
  ChildProcess start(const std::vector<std::string>& extra) {
    log_ = dir_.file("server.log");
    return testing::start_kiq_server(redis_->url(), extra, log_);
  }
  testing::CliResult kiq(std::vector<std::string> args) {
    args.push_back("--redis");
    args.push_back(redis_->url());
    return run_cli(args);
  }
  std::string redis(const std::vector<std::string>& argv) { return redis_->command(argv); }
  Json processes() {
    auto r = kiq({"processes", "--json"});
    return r.code == 0 ? Json::parse(r.out) : Json::array();
  }

  std::unique_ptr<testing::RedisServer> redis_;
  testing::TempDir dir_{"kiq-cli-server"};
  std::string log_;
};

TEST_F(KiqServerProcess, RunsEnqueuedJobsAndStopsOnSigterm) {
  ChildProcess server = start({"-c", "4", "-q", "critical,2", "-q", "default", "--tag", "cli-test"});
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(kiq({"enqueue", "MarkJob", Json::array({"marks", i}).dump(),
                   "--queue", i % 2 ? "critical" : "default"}).code, 0);
  }
  EXPECT_TRUE(wait_until([&] { return redis({"SCARD", "marks"}) == "50"; }));

  ASSERT_TRUE(wait_until([&] { return processes().size() == 1; }));
  Json p = processes()[0];
  EXPECT_EQ(p["pid"], server.pid());
  EXPECT_EQ(p["concurrency"], 4);
  EXPECT_EQ(p["queues"], Json::parse(R"(["critical","default"])"));
  EXPECT_EQ(p["tag"], "cli-test");
  EXPECT_EQ(p["quiet"], false);

  server.signal(SIGTERM);
  auto status = server.wait_for(std::chrono::seconds(30));
  ASSERT_TRUE(status.has_value()) << "kiq server did not stop on SIGTERM";
  EXPECT_TRUE(status->success()) << status->describe();
  EXPECT_EQ(redis({"SCARD", "processes"}), "0");
  EXPECT_EQ(redis({"GET", "stat:processed"}), "50");
}

TEST_F(KiqServerProcess, SigtstpQuietsAndSigtermRequeuesUnfinishedJobs) {
  ChildProcess server = start({"-c", "2", "-t", "1"});
  ASSERT_TRUE(wait_until([&] { return processes().size() == 1; }));
  std::string identity = processes()[0]["identity"];

  auto sleeper = kiq({"enqueue", "SleepJob", "[60000]"});
  ASSERT_EQ(sleeper.code, 0);
  ASSERT_TRUE(wait_until([&] {
    Json ps = processes();
    return ps.size() == 1 && ps[0]["busy"] == 1;
  })) << "SleepJob never showed as busy";

  server.signal(SIGTSTP);
  ASSERT_TRUE(wait_until([&] {
    Json ps = processes();
    return ps.size() == 1 && ps[0]["quiet"] == true;
  })) << "quiet never showed in the heartbeat";
  ASSERT_EQ(kiq({"enqueue", "NoopJob", "[]"}).code, 0);

  server.signal(SIGTERM);
  auto status = server.wait_for(std::chrono::seconds(30));
  ASSERT_TRUE(status.has_value()) << "kiq server did not stop on SIGTERM";
  EXPECT_TRUE(status->success()) << status->describe();
  // The quiet server fetched nothing more; the SleepJob went back to the queue at the deadline.
  EXPECT_EQ(redis({"LLEN", "queue:default"}), "2");
  EXPECT_NE(redis({"LRANGE", "queue:default", "0", "-1"}).find(lines(sleeper.out).at(0)),
            std::string::npos);
  EXPECT_EQ(redis({"SISMEMBER", "processes", identity}), "0");
}

TEST_F(KiqServerProcess, StopCommandStopsTheServer) {
  ChildProcess server = start({"-c", "1"});
  ASSERT_TRUE(wait_until([&] { return processes().size() == 1; }));
  ASSERT_EQ(kiq({"stop", "--all"}).code, 0);
  auto status = server.wait_for(std::chrono::seconds(30));
  ASSERT_TRUE(status.has_value()) << "kiq stop did not stop the server";
  EXPECT_TRUE(status->success()) << status->describe();
}

TEST_F(KiqServerProcess, FailingJobGoesToTheRetrySet) {
  ChildProcess server = start({"-c", "2"});
  ASSERT_EQ(kiq({"enqueue", "FailingJob", R"(["it broke"])"}).code, 0);
  ASSERT_TRUE(wait_until([&] { return redis({"ZCARD", "retry"}) == "1"; }));
  auto r = kiq({"retries", "list", "--json"});
  Json job = Json::parse(r.out).at(0)["job"];
  EXPECT_EQ(job["error_message"], "it broke");
  EXPECT_EQ(job["retry_count"], 0);
  EXPECT_NE(job["error_class"].get<std::string>().find("runtime_error"), std::string::npos);
}

TEST_F(KiqServerProcess, UnreachableRedisExitsWithOne) {
  redis_->stop();
  ChildProcess server = start({});
  auto status = server.wait_for(std::chrono::seconds(30));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->code, cli::kExitFailure) << status->describe();
  EXPECT_NE(testing::read_file(log_).find("cannot reach Redis"), std::string::npos);
}

}  // namespace
}  // namespace kiq
