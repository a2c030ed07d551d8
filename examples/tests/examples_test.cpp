// The tutorial's jobs: what its RSpec tests assert (spans by name, attributes, ERROR status with
// an `exception` event) plus the trace shape (parent / child / link).
#include <gtest/gtest.h>

#include "kiq/examples/jobs.hpp"
#include "kiq/instrumentation/testing.hpp"
#include "unit/instrumentation/span_helpers.hpp"

namespace kiq {
namespace {

using namespace kiq::test;
using examples::FakeWorld;
using examples::PaymentGateway;
using otel::SpanKind;
using otel::StatusCode;
using otel::sdk::SpanData;
using testing::TracingHarness;
using tracing::PropagationStyle;

struct Fixture {
  explicit Fixture(tracing::TracingOptions options = {}) : world(FakeWorld::seeded(epoch_now())) {
    examples::register_all(registry, world);
    if (!options.semconv) options.semconv = tracing::SemconvMode::kOld;
    harness = std::make_unique<TracingHarness>(registry, options);
  }
  TracingHarness& t() { return *harness; }

  JobRegistry registry;
  std::shared_ptr<FakeWorld> world;
  std::unique_ptr<TracingHarness> harness;
};

tracing::TracingOptions style(PropagationStyle s) {
  tracing::TracingOptions o;
  o.propagation_style = s;
  return o;
}

bool is_child_of(const SpanData& child, const SpanData& parent) {
  return child.context.trace_id() == parent.context.trace_id() &&
         child.parent_span_id == parent.context.span_id();
}

// --- UserNotificationJob ----------------------------------------------------------------------

TEST(UserNotificationJob, CreatesCustomSpansForJobOperations) {
  tracing::TracingOptions o;
  o.span_naming = tracing::SpanNaming::kJobClass;  // the tutorial finds a span named after the job
  Fixture f(o);
  f.t().client().perform_async(examples::kUserNotificationJob, Json::array({7, "welcome"}));

  auto job = f.t().find("UserNotificationJob process");
  ASSERT_TRUE(job) << f.t().render();
  EXPECT_EQ(i64(*job, "user.id"), 7);
  EXPECT_EQ(str(*job, "notification.type"), "welcome");

  auto fetch = f.t().find("job.fetch_user");
  ASSERT_TRUE(fetch);
  EXPECT_EQ(i64(*fetch, "user.id"), 7);
  EXPECT_EQ(str(*fetch, "user.email"), "user7@example.com");
  EXPECT_TRUE(str(*fetch, "user.locale"));
  EXPECT_TRUE(is_child_of(*fetch, *job));

  auto build = f.t().find("job.build_notification");
  ASSERT_TRUE(build);
  EXPECT_EQ(str(*build, "notification.channels"), "email,push");
  EXPECT_TRUE(str(*build, "notification.subject"));

  for (const char* channel : {"job.send_email", "job.send_push"}) {
    auto send = f.t().find(channel);
    ASSERT_TRUE(send) << channel;
    EXPECT_EQ(boolean(*send, "notification.sent"), true);
    EXPECT_TRUE(is_child_of(*send, *job));
    EXPECT_EQ(str(*send, "sidekiq.job.jid"), str(*job, "sidekiq.job.jid"));
  }
  EXPECT_FALSE(f.t().find("job.send_sms"));
  EXPECT_EQ(f.world->outbox.sent().size(), 2u);
}

TEST(UserNotificationJob, CapturesErrorsInJobSpans) {
  Fixture f;
  EXPECT_THROW(f.t().client().perform_async(examples::kUserNotificationJob, Json::array({999, "welcome"})),
               examples::RecordNotFound);
  auto error = f.t().find_error();
  ASSERT_TRUE(error) << f.t().render();
  ASSERT_FALSE(error->events.empty());
  EXPECT_EQ(error->events.front().name, "exception");
  EXPECT_EQ(str(error->events.front().attributes, "exception.message"), "User not found");
  auto process = f.t().find("default process");
  ASSERT_TRUE(process);
  EXPECT_EQ(process->status_code, StatusCode::kError);
  EXPECT_EQ(str(*process, "kiq.job.outcome"), "retry");
}

TEST(UserNotificationJob, BadArgumentsGiveAClearError) {
  Fixture f;
  try {
    f.t().client().perform_async(examples::kUserNotificationJob, Json::array({"seven"}));
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("user_id"), std::string::npos) << e.what();
  }
}

// --- ReportGeneratorJob + ReportSectionJob ------------------------------------------------------

TEST(ReportGeneratorJob, SectionJobsJoinTheGeneratorsTrace) {
  Fixture f(style(PropagationStyle::kChild));
  f.t().client().perform_async(examples::kReportGeneratorJob, Json::array({1, "2026-11-01..2026-11-24"}));

  auto generate = f.t().find("report.generate");
  ASSERT_TRUE(generate) << f.t().render();
  EXPECT_EQ(i64(*generate, "organization.id"), 1);
  EXPECT_EQ(str(*generate, "report.date_range"), "2026-11-01..2026-11-24");
  EXPECT_EQ(str(*generate, "organization.name"), "Acme Corp");
  EXPECT_EQ(i64(*generate, "report.data_rows"), 12);
  auto fetch = f.t().find("report.fetch_data");
  ASSERT_TRUE(fetch);
  EXPECT_TRUE(is_child_of(*fetch, *generate));
  auto combine = f.t().find("report.combine_sections");
  ASSERT_TRUE(combine);
  EXPECT_TRUE(is_child_of(*combine, *generate));

  for (const char* section : {"sales", "inventory", "customers"}) {
    auto s = f.t().find(std::string("report.process_section.") + section);
    ASSERT_TRUE(s) << section;
    EXPECT_EQ(s->context.trace_id(), generate->context.trace_id()) << section;
    EXPECT_EQ(str(*s, "report.section"), section);
    EXPECT_EQ(i64(*s, "organization.id"), 1);
    EXPECT_GT(i64(*s, "section.items").value_or(0), 0);
    std::string key = std::string("report:1:") + section;
    EXPECT_TRUE(f.t().jobs().store().kv().get(key)) << key;
    auto ttl = f.t().jobs().store().kv().ttl(key);
    EXPECT_GT(ttl, 3500);
    EXPECT_LE(ttl, 3600);
  }
  // Each section's publish span is a child of report.generate; its process span of the publish.
  auto publishes = f.t().find_all("reports publish");
  int from_generate = 0;
  for (const auto& p : publishes) from_generate += is_child_of(p, *generate) ? 1 : 0;
  EXPECT_EQ(from_generate, 3);
  auto combine_job = f.t().find("report.combine");
  ASSERT_TRUE(combine_job);
  EXPECT_EQ(i64(*combine_job, "report.sections_found"), 3);
}

TEST(ReportGeneratorJob, LinkStyleLinksSectionJobsToPublishSpansInTheGeneratorsTrace) {
  Fixture f(style(PropagationStyle::kLink));
  f.t().client().perform_async(examples::kReportGeneratorJob, Json::array({2, "last_week"}));
  auto generate = f.t().find("report.generate");
  ASSERT_TRUE(generate);
  auto section = f.t().find("report.process_section.sales");
  ASSERT_TRUE(section);
  EXPECT_NE(section->context.trace_id(), generate->context.trace_id());
  // The section's process span (its parent) links to a publish span in the generator's trace.
  const SpanData* process = nullptr;
  auto all = f.t().spans();
  for (const auto& s : all)
    if (s.context.span_id() == section->parent_span_id) process = &s;
  ASSERT_TRUE(process);
  ASSERT_EQ(process->links.size(), 1u);
  EXPECT_EQ(process->links[0].context.trace_id(), generate->context.trace_id());
}

// --- PaymentProcessorJob -----------------------------------------------------------------------

TEST(PaymentProcessorJob, SuccessfulPayment) {
  Fixture f;
  f.t().client().perform_async(examples::kPaymentProcessorJob, Json::array({100, 1}));
  auto process = f.t().find("payment.process");
  ASSERT_TRUE(process) << f.t().render();
  EXPECT_EQ(i64(*process, "order.id"), 100);
  EXPECT_EQ(i64(*process, "payment_method.id"), 1);
  EXPECT_DOUBLE_EQ(dbl(*process, "order.amount").value_or(0), 25.0);
  EXPECT_EQ(str(*process, "payment_method.type"), "card");
  EXPECT_EQ(boolean(*process, "payment.success"), true);
  EXPECT_TRUE(str(*process, "payment.transaction_id"));
  EXPECT_FALSE(attr(*process, "job.retry_count"));
  auto charge = f.t().find("payment.charge");
  ASSERT_TRUE(charge);
  EXPECT_TRUE(is_child_of(*charge, *process));
  EXPECT_EQ(str(*charge, "currency"), "USD");
  EXPECT_DOUBLE_EQ(dbl(*charge, "amount").value_or(0), 25.0);
  EXPECT_TRUE(f.t().find("order.update"));
  EXPECT_EQ(f.world->orders.find(100).status, "paid");
  auto job = f.t().find("payments publish");
  ASSERT_TRUE(job);
  EXPECT_EQ(boolean(*job, "sidekiq.job.retry"), true);
}

TEST(PaymentProcessorJob, TemporaryErrorIsRecordedAndRetriedThenSucceeds) {
  Fixture f;
  f.world->gateway.script(2, {PaymentGateway::Outcome::kTemporary});
  EXPECT_THROW(f.t().client().perform_async(examples::kPaymentProcessorJob, Json::array({101, 2})),
               examples::TemporaryPaymentError);
  auto process = f.t().find("payment.process");
  ASSERT_TRUE(process);
  EXPECT_EQ(process->status_code, StatusCode::kError);
  EXPECT_EQ(process->status_description, "Gateway timeout, try again later");
  EXPECT_EQ(boolean(*process, "payment.error.temporary"), true);
  EXPECT_EQ(boolean(*process, "payment.error.retry"), true);
  EXPECT_TRUE(event(*process, "exception"));
  auto consumer = f.t().find("payments process");
  ASSERT_TRUE(consumer);
  EXPECT_EQ(str(*consumer, "kiq.job.outcome"), "retry");
  EXPECT_EQ(boolean(*consumer, "sidekiq.job.will_retry"), true);

  // The retry, as the engine would run it (retry_count 0 = first retry).
  f.t().reset();
  Json retry = {{"class", "PaymentProcessorJob"}, {"args", Json::array({101, 2})},
                {"queue", "payments"}, {"jid", "0123456789abcdef01234567"}, {"retry", 5},
                {"retry_count", 0}, {"error_class", "kiq::examples::TemporaryPaymentError"},
                {"enqueued_at", epoch_now()}};
  f.t().jobs().perform(retry);
  process = f.t().find("payment.process");
  ASSERT_TRUE(process) << f.t().render();
  EXPECT_EQ(i64(*process, "job.retry_count"), 0);
  auto e = event(*process, "job.retry");
  ASSERT_TRUE(e);
  EXPECT_EQ(str(e->attributes, "error_class"), "kiq::examples::TemporaryPaymentError");
  EXPECT_EQ(boolean(*process, "payment.success"), true);
  EXPECT_EQ(f.world->orders.find(101).status, "paid");
}

TEST(PaymentProcessorJob, PermanentErrorIsHandledAndTheCustomerNotified) {
  Fixture f(style(PropagationStyle::kChild));
  f.world->gateway.script(3, {PaymentGateway::Outcome::kPermanent});
  EXPECT_NO_THROW(f.t().client().perform_async(examples::kPaymentProcessorJob, Json::array({102, 3})));
  auto process = f.t().find("payment.process");
  ASSERT_TRUE(process);
  EXPECT_EQ(process->status_code, StatusCode::kError);
  EXPECT_EQ(boolean(*process, "payment.error.permanent"), true);
  EXPECT_EQ(boolean(*process, "payment.error.retry"), false);
  EXPECT_EQ(f.world->orders.find(102).status, "payment_failed");
  auto consumer = f.t().find("payments process");
  ASSERT_TRUE(consumer);
  EXPECT_EQ(consumer->status_code, StatusCode::kUnset);  // the job itself succeeded
  auto notify = f.t().find("customer.notify");
  ASSERT_TRUE(notify) << f.t().render();
  EXPECT_EQ(str(*notify, "notification.type"), "payment_failed");
  EXPECT_EQ(notify->context.trace_id(), process->context.trace_id());
}

TEST(PaymentProcessorJob, UnexpectedErrorIsRethrown) {
  Fixture f;
  f.world->gateway.script(4, {PaymentGateway::Outcome::kUnexpected});
  EXPECT_THROW(f.t().client().perform_async(examples::kPaymentProcessorJob, Json::array({103, 4})),
               std::logic_error);
  auto process = f.t().find("payment.process");
  ASSERT_TRUE(process);
  EXPECT_EQ(boolean(*process, "payment.error.unexpected"), true);
  EXPECT_EQ(process->status_code, StatusCode::kError);
}

// --- ScheduledReportJob ------------------------------------------------------------------------

TEST(ScheduledReportJob, LateRunRecordsDriftAndDeliversToRecipients) {
  Fixture f(style(PropagationStyle::kChild));
  double now = epoch_now();
  f.world->schedules.add({5, 1, "daily", now - 600, now + 86400, {1, 2}});
  f.t().client().perform_async(examples::kScheduledReportJob, Json::array({5}));
  auto exec = f.t().find("scheduled_report.execute");
  ASSERT_TRUE(exec) << f.t().render();
  EXPECT_EQ(i64(*exec, "schedule.id"), 5);
  EXPECT_EQ(str(*exec, "schedule.frequency"), "daily");
  EXPECT_EQ(i64(*exec, "organization.id"), 1);
  EXPECT_TRUE(str(*exec, "schedule.next_run"));
  EXPECT_GE(i64(*exec, "schedule.drift_seconds").value_or(0), 600);
  EXPECT_EQ(boolean(*exec, "schedule.completed"), true);
  auto drift = event(*exec, "schedule.drift");
  ASSERT_TRUE(drift);
  EXPECT_EQ(i64(drift->attributes, "drift_minutes"), 10);
  EXPECT_TRUE(str(drift->attributes, "expected_time"));
  EXPECT_TRUE(str(drift->attributes, "actual_time"));
  auto generate = f.t().find("report.generate");
  ASSERT_TRUE(generate);
  EXPECT_TRUE(is_child_of(*generate, *exec));
  EXPECT_TRUE(f.t().find("schedule.update_next_run"));
  auto deliveries = f.t().find_all("report.deliver");
  ASSERT_EQ(deliveries.size(), 2u);
  for (const auto& d : deliveries) EXPECT_EQ(d.context.trace_id(), exec->context.trace_id());
  EXPECT_DOUBLE_EQ(f.world->schedules.find(5).scheduled_for, now + 86400);
}

TEST(ScheduledReportJob, OnTimeRunHasNoDriftEvent) {
  Fixture f;
  f.world->schedules.add({6, 2, "hourly", epoch_now(), epoch_now() + 3600, {}});
  f.t().client().perform_async(examples::kScheduledReportJob, Json::array({6}));
  auto exec = f.t().find("scheduled_report.execute");
  ASSERT_TRUE(exec);
  EXPECT_LE(i64(*exec, "schedule.drift_seconds").value_or(99), 5);
  EXPECT_FALSE(event(*exec, "schedule.drift"));
}

// --- UserSyncJob -------------------------------------------------------------------------------

TEST(UserSyncJob, BatchBelowThresholdRecordsEventAndFailingUsers) {
  Fixture f;
  f.world->sync_api.fail_for({3, 6});
  f.t().client().perform_async(examples::kUserSyncJob, Json::array({Json::array({1, 2, 3, 4, 5, 6, 7, 8, 9, 10})}));
  auto batch = f.t().find("batch.user_sync");
  ASSERT_TRUE(batch) << f.t().render();
  EXPECT_EQ(i64(*batch, "batch.size"), 10);
  EXPECT_EQ(i64(*batch, "batch.successful"), 8);
  EXPECT_EQ(i64(*batch, "batch.failed"), 2);
  EXPECT_DOUBLE_EQ(dbl(*batch, "batch.success_rate").value_or(0), 0.8);
  auto low = event(*batch, "low_success_rate");
  ASSERT_TRUE(low);
  EXPECT_EQ(i64(low->attributes, "failed_count"), 2);
  auto users = f.t().find_all("user.sync");
  ASSERT_EQ(users.size(), 10u);
  for (const auto& u : users) {
    EXPECT_TRUE(is_child_of(u, *batch));
    bool failing = i64(u, "user.id") == 3 || i64(u, "user.id") == 6;
    EXPECT_EQ(boolean(u, "sync.success"), !failing);
    EXPECT_EQ(u.status_code, failing ? StatusCode::kError : StatusCode::kUnset);
    if (failing) EXPECT_EQ(u.events.at(0).name, "exception");
  }
  EXPECT_EQ(f.world->sync_api.synced().size(), 8u);
}

TEST(UserSyncJob, NinetyPercentIsNotLow) {
  Fixture f;
  f.world->sync_api.fail_for({4});
  f.t().client().perform_async(examples::kUserSyncJob, Json::array({Json::array({1, 2, 3, 4, 5, 6, 7, 8, 9, 10})}));
  auto batch = f.t().find("batch.user_sync");
  ASSERT_TRUE(batch);
  EXPECT_DOUBLE_EQ(dbl(*batch, "batch.success_rate").value_or(0), 0.9);
  EXPECT_FALSE(event(*batch, "low_success_rate"));
}

}  // namespace
}  // namespace kiq
