// `kiq demo` end to end: runs the scenarios and prints the expected trees (plain, no colour).
#include <gtest/gtest.h>

#include <sstream>

#include "kiq/demo.hpp"

namespace kiq {
namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

TEST(Demo, RunsEveryScenarioAndPrintsTheTrees) {
  std::ostringstream out, err;
  demo::DemoOptions options;
  options.timeout_seconds = 60;  // generous: only avoids hangs
  ASSERT_EQ(demo::run(options, out, err), 0) << err.str() << out.str();
  const std::string text = out.str();
  EXPECT_EQ(text.find("\x1b["), std::string::npos) << "no colour when not a terminal";
  EXPECT_NE(text.find("scaled by 0.01"), std::string::npos);
  EXPECT_EQ(count(text, "\ntrace "), 6u) << text;  // one per web request in child style
  for (const char* expected :
       {"POST /orders/101/pay", "job.retry", "payment.success=true", "payment.error.permanent=true",
        "customer.notify", "report.process_section.sales", "report.process_section.customers",
        "schedule.drift", "low_success_rate", "batch.success_rate=0.7", "kiq.job.outcome=retry",
        "✗ ERROR"})
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
  EXPECT_NE(text.find("failed 1 (retried 1, dead 0)"), std::string::npos) << text;
}

TEST(Demo, RejectsABadTimeScale) {
  std::ostringstream out, err;
  demo::DemoOptions options;
  options.time_scale = 0;
  EXPECT_EQ(demo::run(options, out, err), 2);
  EXPECT_NE(err.str().find("--time-scale"), std::string::npos);
}

}  // namespace
}  // namespace kiq
