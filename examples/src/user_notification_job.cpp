// UserNotificationJob (queue default): fetch the user, build the notification, send it on each
// channel, one span per step.
#include "args.hpp"
#include "jobs_internal.hpp"
#include "kiq/otel/context.hpp"

namespace kiq::examples::detail {
namespace {

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

}  // namespace

void user_notification(FakeWorld& w, JobContext&, const Json& args) {
  const std::int64_t user_id = int_arg(kUserNotificationJob, args, 0, "user_id");
  const std::string type = string_arg(kUserNotificationJob, args, 1, "notification_type");
  auto tracer = app_tracer();

  // Job-specific attributes on the automatic process span.
  auto job_span = otel::current_span();
  job_span->set_attribute("user.id", user_id);
  job_span->set_attribute("notification.type", type);

  User user = tracer->in_span("job.fetch_user", with_attributes({{"user.id", user_id}}),
                              [&](otel::Span& span) {
                                User u = w.users.find(user_id);
                                span.set_attribute("user.email", u.email);
                                span.set_attribute("user.locale", u.locale);
                                return u;
                              });

  Notification n = tracer->in_span("job.build_notification",
                                   with_attributes({{"notification.type", type}}),
                                   [&](otel::Span& span) {
                                     Notification built = build_notification(user, type);
                                     span.set_attribute("notification.subject", built.subject);
                                     span.set_attribute("notification.channels", join(built.channels, ","));
                                     return built;
                                   });

  for (const auto& channel : n.channels) {
    tracer->in_span("job.send_" + channel, with_attributes({{"notification.channel", channel}}),
                    [&](otel::Span& span) {
                      const std::string& to = channel == "sms" ? user.phone
                                              : channel == "push" ? fmt::format("device-{}", user.id)
                                                                  : user.email;
                      w.outbox.send(channel, to, n.subject);
                      span.set_attribute("notification.sent", true);
                    });
  }
}

}  // namespace kiq::examples::detail
