// The README's custom-spans example, compiled so it cannot rot: a job-like function that adds
// attributes to the current span, opens child spans with in_span, records an event, and
// handles one error while letting another propagate. Run: build/examples/custom_spans/custom_spans
#include <iostream>
#include <stdexcept>

#include <kiq/otel/sdk/configure.hpp>
#include <kiq/otel/tracer_provider.hpp>

using kiq::otel::Span;
using kiq::otel::StatusCode;

// A job body: `user_id` 0 simulates a failed lookup.
void send_welcome(std::int64_t user_id) {
  auto tracer = kiq::otel::get_tracer("app");
  kiq::otel::current_span()->set_attribute("user.id", user_id);  // the job's consumer span

  std::string email = tracer->in_span("job.fetch_user", {.attributes = {{"user.id", user_id}}},
                                      [&](Span& span) {
    if (user_id == 0) throw std::runtime_error("User not found");  // -> ERROR + exception event
    span.set_attribute("user.email", "grace@example.com");
    return std::string("grace@example.com");
  });

  tracer->in_span("job.send_email", [&](Span& span) {
    try {
      span.add_event("smtp.connected", {{"smtp.host", "mail.example.com"}, {"attempt", 1}});
      throw std::runtime_error("mailbox full");
    } catch (const std::exception& e) {  // handled: record it, mark the span, carry on
      span.record_exception(e);
      span.set_status(StatusCode::kError, e.what());
      span.set_attribute("notification.sent", false);
    }
  });
}

int main() {
  // OTEL_TRACES_EXPORTER=console prints spans; set OTEL_EXPORTER_OTLP_ENDPOINT to send them.
  auto tracing = kiq::otel::sdk::configure({.service_name = "custom-spans-example",
                                            .traces_exporter = "console"});
  auto tracer = kiq::otel::get_tracer("app");
  for (std::int64_t id : {42, 0}) {
    try {
      tracer->in_span("default process", {.kind = kiq::otel::SpanKind::kConsumer},
                      [&] { send_welcome(id); });
    } catch (const std::exception& e) {
      std::cout << "job " << id << " failed: " << e.what() << " (kiq would retry it)\n";
    }
  }
}
