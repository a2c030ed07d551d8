// kill -9 and redis-restart chaos against the real `kiq` binary (see chaos_run.hpp). Sizes follow
// issue 5 (20,000 MarkJobs); KIQ_CHAOS_JOBS overrides the count for quick local runs.
#include <cstdlib>
#include <iostream>
#include <string>

#include <gtest/gtest.h>

#include "chaos/chaos_run.hpp"
#include "support/redis_server.hpp"

namespace kiq::chaos {
namespace {

ChaosOptions base_options() {
  ChaosOptions o;
  const char* dir = std::getenv("KIQ_BINARY_DIR");
  o.kiq_binary = std::string(dir ? dir : ".") + "/kiq";
  if (const char* jobs = std::getenv("KIQ_CHAOS_JOBS")) o.jobs = std::atoi(jobs);
  o.log = [](const std::string& line) { std::cout << line << std::endl; };
  return o;
}

void expect_no_loss(const ChaosReport& report) {
  std::cout << report.summary() << std::endl;
  ::testing::Test::RecordProperty("chaos_summary", report.summary());
  EXPECT_TRUE(report.ok()) << report.summary();
  EXPECT_EQ(report.lost, 0);
  EXPECT_EQ(report.left_queued, 0);
  EXPECT_EQ(report.left_in_progress, 0);
  EXPECT_EQ(report.retry, 0);
  EXPECT_EQ(report.dead, 0);
}

TEST(Chaos, KillNineThreeTimesLosesNoJob) {
  if (!testing::redis_server_available()) GTEST_SKIP() << "redis-server not installed";
  ChaosOptions o = base_options();
  o.kills = 3;
  ChaosReport report = run_chaos(o);
  expect_no_loss(report);
  EXPECT_EQ(report.kills, 3);
  EXPECT_EQ(report.recovery_s.size(), 3u);
}

TEST(Chaos, RedisRestartedTwiceLosesNoJobAndServerSurvives) {
  if (!testing::redis_server_available()) GTEST_SKIP() << "redis-server not installed";
  ChaosOptions o = base_options();
  o.kills = 0;
  o.redis_restarts = 2;
  ChaosReport report = run_chaos(o);
  expect_no_loss(report);
  EXPECT_EQ(report.redis_restarts, 2);
  EXPECT_TRUE(report.server_survived);
  EXPECT_TRUE(report.process_visible);
}

}  // namespace
}  // namespace kiq::chaos
