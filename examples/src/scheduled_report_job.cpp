// ScheduledReportJob (queue reports): run a report schedule, measure how late it runs, deliver
// the report to each recipient (ReportDeliveryJob), move the schedule on.
#include <cmath>
#include <ctime>

#include "args.hpp"
#include "jobs_internal.hpp"
#include "kiq/client.hpp"

namespace kiq::examples::detail {
namespace {

std::string iso8601(double epoch) {
  auto secs = static_cast<std::time_t>(std::floor(epoch));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

constexpr double kDriftThresholdSeconds = 300;

}  // namespace

void scheduled_report(FakeWorld& w, JobContext& ctx, const Json& args) {
  const std::int64_t schedule_id = int_arg(kScheduledReportJob, args, 0, "schedule_id");
  auto tracer = app_tracer();

  tracer->in_span(
      "scheduled_report.execute", with_attributes({{"schedule.id", schedule_id}}),
      [&](otel::Span& span) {
        ReportSchedule schedule = w.schedules.find(schedule_id);
        span.set_attribute("schedule.frequency", schedule.frequency);
        span.set_attribute("schedule.next_run", iso8601(schedule.next_run_at));
        span.set_attribute("organization.id", schedule.organization_id);

        const double expected = schedule.scheduled_for;
        const double actual = epoch_now();
        const double drift = std::fabs(actual - expected);
        span.set_attribute("schedule.drift_seconds", static_cast<std::int64_t>(drift));
        if (drift > kDriftThresholdSeconds)
          span.add_event("schedule.drift", {{"drift_minutes", static_cast<std::int64_t>(drift / 60)},
                                            {"expected_time", iso8601(expected)},
                                            {"actual_time", iso8601(actual)}});

        tracer->in_span("report.generate", [&](otel::Span& generate) {
          Organization org = w.organizations.find(schedule.organization_id);
          double total = 0;
          for (const auto& t : org.transactions) total += t.amount;
          std::string report_id = fmt::format("report-{}-{}", schedule.id, static_cast<std::int64_t>(expected));
          generate.set_attribute("report.id", report_id);
          generate.set_attribute("report.total", total);
          generate.set_attribute("report.recipients", static_cast<std::int64_t>(schedule.recipients.size()));
          for (auto recipient : schedule.recipients)
            ctx.client().perform_async(kReportDeliveryJob, Json::array({recipient, report_id}));
        });

        tracer->in_span("schedule.update_next_run", [&] { w.schedules.calculate_next_run(schedule_id); });
        span.set_attribute("schedule.completed", true);
      });
}

void report_delivery(FakeWorld& w, JobContext&, const Json& args) {
  const std::int64_t recipient = int_arg(kReportDeliveryJob, args, 0, "recipient_id");
  const std::string report_id = string_arg(kReportDeliveryJob, args, 1, "report_id");
  app_tracer()->in_span(
      "report.deliver", with_attributes({{"recipient.id", recipient}, {"report.id", report_id}}),
      [&](otel::Span& span) {
        User user = w.users.find(recipient);
        w.outbox.send("email", user.email, "Your report " + report_id);
        span.set_attribute("report.delivered", true);
      });
}

}  // namespace kiq::examples::detail
