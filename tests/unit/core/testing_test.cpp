// Test mode: inline runs at push time through server middleware; fake collects and drains.
#include <gtest/gtest.h>

#include "kiq/testing.hpp"

namespace kiq {
namespace {

struct Log {
  std::vector<std::string> lines;
};

class Around : public ServerMiddleware {
 public:
  explicit Around(Log& log) : log_(log) {}
  void call(JobContext& ctx, const std::function<void()>& next) override {
    log_.lines.push_back("mw>" + ctx.job_class());
    next();
  }

 private:
  Log& log_;
};

class TestingModeTest : public ::testing::Test {
 protected:
  TestingModeTest() {
    registry.add("Greet", [this](JobContext& ctx, const Json& args) {
      log.lines.push_back("greet " + args[0].get<std::string>());
      ctx.kv().set("greeted", args[0].get<std::string>());
    });
    registry.add("Parent", [this](JobContext& ctx, const Json&) {
      log.lines.push_back("parent");
      ctx.client().perform_async("Greet", {"child"});
    });
    registry.add("Boom", [](JobContext&, const Json&) { throw std::runtime_error("boom"); });
    server.add(std::make_shared<Around>(log));
  }
  Log log;
  JobRegistry registry;
  ServerChain server;
};

TEST_F(TestingModeTest, InlineRunsImmediatelyThroughMiddleware) {
  testing::Harness h(registry, testing::Mode::kInline, server);
  auto jid = h.client().perform_async("Greet", {"bob"});
  ASSERT_TRUE(jid);
  EXPECT_EQ(log.lines, (std::vector<std::string>{"mw>Greet", "greet bob"}));
  EXPECT_EQ(h.store().kv().get("greeted"), std::optional<std::string>("bob"));
  EXPECT_EQ(h.size(), 0u);
}

TEST_F(TestingModeTest, InlineRunsNestedAndScheduledJobs) {
  testing::Harness h(registry, testing::Mode::kInline, server);
  h.client().perform_in(3600, "Parent", {});
  EXPECT_EQ(log.lines, (std::vector<std::string>{"mw>Parent", "parent", "mw>Greet", "greet child"}));
}

TEST_F(TestingModeTest, InlineExceptionsReachTheCaller) {
  testing::Harness h(registry, testing::Mode::kInline);
  EXPECT_THROW(h.client().perform_async("Boom", {}), std::runtime_error);
  EXPECT_THROW(h.client().perform_async("Nope", {}), UnknownJobClass);
}

TEST_F(TestingModeTest, FakeCollectsThenDrains) {
  testing::Harness h(registry, testing::Mode::kFake, server);
  h.client().perform_async("Greet", {"a"});
  h.client().perform_async("Parent", {});
  ASSERT_EQ(h.size(), 2u);
  auto greets = h.jobs("Greet");
  ASSERT_EQ(greets.size(), 1u);
  EXPECT_EQ(greets[0]["args"], Json::array({"a"}));
  EXPECT_TRUE(greets[0]["jid"].is_string());
  EXPECT_TRUE(log.lines.empty());
  EXPECT_EQ(h.drain(), 3u);  // Greet, Parent, and the Greet that Parent enqueued
  EXPECT_EQ(h.size(), 0u);
  EXPECT_EQ(log.lines.back(), "greet child");
}

TEST_F(TestingModeTest, FakeDrainByClassAndClear) {
  testing::Harness h(registry, testing::Mode::kFake);
  h.client().perform_async("Greet", {"a"});
  h.client().perform_async("Boom", {});
  EXPECT_EQ(h.drain("Greet"), 1u);
  EXPECT_EQ(h.jobs().size(), 1u);
  EXPECT_THROW(h.drain(), std::runtime_error);
  h.client().perform_async("Greet", {"b"});
  h.clear();
  EXPECT_EQ(h.size(), 0u);
  h.set_mode(testing::Mode::kInline);
  h.client().perform_async("Greet", {"c"});
  EXPECT_EQ(log.lines.back(), "greet c");
}

}  // namespace
}  // namespace kiq
