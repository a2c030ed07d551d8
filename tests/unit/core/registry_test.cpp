// JobRegistry and JobContext accessors.
#include <gtest/gtest.h>

#include "kiq/client.hpp"
#include "kiq/store/memory.hpp"

namespace kiq {
namespace {

struct WelcomeJob {
  static constexpr const char* name = "WelcomeJob";
  static JobOptions options() { return {.queue = "mail", .retry = 3}; }
  void perform(JobContext& ctx, const Json& args) { ctx.kv().set("welcomed", args[0].dump()); }
};
struct PlainJob {
  static constexpr const char* name = "PlainJob";
  void perform(JobContext&, const Json&) {}
};

TEST(JobRegistryTest, AddFindAndNames) {
  JobRegistry r;
  r.add("A", [](JobContext&, const Json&) {});
  r.add<WelcomeJob>().add<PlainJob>();
  EXPECT_EQ(r.size(), 3u);
  ASSERT_NE(r.find("WelcomeJob"), nullptr);
  EXPECT_EQ(r.find("WelcomeJob")->options.queue, "mail");
  EXPECT_EQ(r.find("WelcomeJob")->options.retry, RetryOption(3));
  EXPECT_EQ(r.find("PlainJob")->options.queue, "default");
  EXPECT_EQ(r.find("Missing"), nullptr);
  EXPECT_EQ(r.names(), (std::vector<std::string>{"A", "PlainJob", "WelcomeJob"}));
  EXPECT_THROW(r.add("", [](JobContext&, const Json&) {}), std::invalid_argument);
  EXPECT_THROW(r.add("X", nullptr), std::invalid_argument);
}

TEST(JobRegistryTest, TypedPerformRunsAFreshInstance) {
  JobRegistry r;
  r.add<WelcomeJob>();
  auto store = std::make_shared<MemoryStore>();
  Client client(store);
  JobContext ctx(Json{{"class", "WelcomeJob"}, {"args", {42}}}, "mail", r.find("WelcomeJob"), client, *store);
  r.find("WelcomeJob")->perform(ctx, ctx.args());
  EXPECT_EQ(store->kv().get("welcomed"), std::optional<std::string>("42"));
}

TEST(JobContextTest, AccessorsReadTheHash) {
  auto store = std::make_shared<MemoryStore>();
  Client client(store);
  Json job = {{"class", "X"}, {"args", {1, 2}}, {"jid", "abc"}, {"retry_count", 2},
              {"enqueued_at", 1700000000.5}, {"created_at", 1700000000.25},
              {"scheduled_at", 1700000001.0}, {"retry", 5}};
  JobContext ctx(job, "q", nullptr, client, *store);
  EXPECT_EQ(ctx.jid(), "abc");
  EXPECT_EQ(ctx.job_class(), "X");
  EXPECT_EQ(ctx.queue(), "q");
  EXPECT_EQ(ctx.args(), Json::array({1, 2}));
  EXPECT_EQ(ctx.retry_count(), std::optional<int>(2));
  EXPECT_TRUE(ctx.is_retry());
  EXPECT_EQ(ctx.enqueued_at(), std::optional<double>(1700000000.5));
  EXPECT_EQ(ctx.created_at(), std::optional<double>(1700000000.25));
  EXPECT_EQ(ctx.scheduled_at(), std::optional<double>(1700000001.0));
  EXPECT_EQ(ctx.options(), nullptr);
  EXPECT_TRUE(ctx.will_retry_on_failure());  // retry_count 3 < 5
  ctx.job()["retry_count"] = 4;
  EXPECT_EQ(ctx.outcome_if_failed(std::runtime_error("x")), FailureOutcome::kDead);
  ctx.job()["retry"] = false;
  EXPECT_EQ(ctx.outcome_if_failed(std::runtime_error("x")), FailureOutcome::kDropped);

  JobContext bare(Json{{"class", 5}}, "q", nullptr, client, *store);
  EXPECT_EQ(bare.jid(), "");
  EXPECT_EQ(bare.job_class(), "");
  EXPECT_EQ(bare.args(), Json::array());
  EXPECT_FALSE(bare.retry_count().has_value());
  EXPECT_FALSE(bare.enqueued_at().has_value());
}

TEST(JobContextTest, OutcomeNames) {
  EXPECT_EQ(to_string(FailureOutcome::kRetry), "retry");
  EXPECT_EQ(to_string(FailureOutcome::kDead), "dead");
  EXPECT_EQ(to_string(FailureOutcome::kDropped), "dropped");
}

}  // namespace
}  // namespace kiq
