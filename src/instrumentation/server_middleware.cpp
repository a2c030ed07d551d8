// Process side: the CONSUMER span around each job (Ruby's Middlewares::Server::TracerMiddleware)
// plus kiq's extras (queue wait, schedule drift, retries, failure outcome).
#include <cmath>
#include <stdexcept>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "instrumentation/middlewares.hpp"
#include "kiq/job.hpp"
#include "kiq/otel/propagation.hpp"

namespace kiq::tracing::detail {
namespace {

std::string iso8601(double epoch) {
  auto secs = static_cast<std::time_t>(std::floor(epoch));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", tm);
}

}  // namespace

TracingServerMiddleware::TracingServerMiddleware(TracingOptions options)
    : options_(resolved(std::move(options))), tracers_(options_.tracer_provider) {}

otel::SpanPtr TracingServerMiddleware::start_process_span(otel::Tracer& tracer,
                                                          const JobContext& job,
                                                          const JobFields& fields,
                                                          const otel::Context& extracted) const {
  JobSpanStart& start = job_span_start(fields, job.queue(), options_, /*process=*/true);
  const otel::SpanContext& remote = extracted.span_context();
  switch (options_.propagation_style) {
    case PropagationStyle::kChild:
      start.options.parent = extracted;
      break;
    case PropagationStyle::kLink:
      start.options.parent = otel::kRoot;
      if (remote.valid()) start.options.links.push_back({remote, {}});
      break;
    case PropagationStyle::kNone:
      start.options.parent = otel::kRoot;
      break;
  }
  struct Release {
    JobSpanStart& start;
    ~Release() { release_parent(start); }
  } release{start};
  otel::SpanPtr span = tracer.start_span(start.name, start.options);
  if (auto t = epoch_seconds(fields.created_at)) span->add_event("created_at", {}, to_timestamp(*t));
  if (auto t = epoch_seconds(fields.enqueued_at)) span->add_event("enqueued_at", {}, to_timestamp(*t));
  return span;
}

void TracingServerMiddleware::add_extras(otel::Span& span, const JobContext& job,
                                         const JobFields& fields) const {
  // The SDK's clock (as the span's own times; no clock_gettime call per job).
  const double now = static_cast<double>(otel::now_unix_nanos()) / 1e9;
  if (auto enqueued = epoch_seconds(fields.enqueued_at)) {
    double wait = std::max(0.0, now - *enqueued);
    span.set_attribute("job.queue_wait_time_ms", static_cast<std::int64_t>(wait * 1000));
    if (wait * 1000 > static_cast<double>(options_.long_queue_wait.count()))
      span.add_event("long_queue_wait", {{"wait_time_seconds", static_cast<std::int64_t>(wait)}});
  }
  auto retry_count = fields.retries();  // JobContext::retry_count()
  // A retry runs at the retry's time, not the schedule's: drift only means something first time.
  if (auto scheduled = epoch_seconds(fields.scheduled_at); scheduled && !retry_count) {
    double drift = std::fabs(now - *scheduled);
    span.set_attribute("schedule.drift_seconds", static_cast<std::int64_t>(drift));
    if (drift > static_cast<double>(options_.schedule_drift.count()))
      span.add_event("schedule.drift",
                     {{"drift_seconds", static_cast<std::int64_t>(drift)},
                      {"drift_minutes", static_cast<std::int64_t>(drift / 60)},
                      {"expected_time", iso8601(*scheduled)},
                      {"actual_time", iso8601(now)}});
  }
  if (retry_count) {
    span.set_attribute("job.retry_count", static_cast<std::int64_t>(*retry_count));
    span.add_event("job.retry", {{"retry_count", static_cast<std::int64_t>(*retry_count)},
                                 {"error_class", std::string(string_of(job.job(), "error_class"))}});
  }
}

void TracingServerMiddleware::record_failure(otel::Span& span, const JobContext& job,
                                             const std::exception* error) const {
  std::string type = error ? otel::exception_type_name(*error) : otel::current_exception_type_name();
  span.record_current_exception();
  span.set_status(otel::StatusCode::kError, "Unhandled exception of type: " + type);
  if (options_.semconv.value_or(SemconvMode::kOld) != SemconvMode::kOld)
    span.set_attribute("error.type", type);
  FailureOutcome outcome = FailureOutcome::kRetry;
  try {
    if (error) {
      outcome = job.outcome_if_failed(*error);
    } else {
      outcome = job.outcome_if_failed(std::runtime_error("unknown exception"));
    }
  } catch (...) {
    return;  // a throwing retry_in must not hide the job's own exception
  }
  span.set_attribute("sidekiq.job.will_retry", outcome == FailureOutcome::kRetry);
  span.set_attribute("kiq.job.outcome", std::string(to_string(outcome)));
}

void TracingServerMiddleware::call(JobContext& job, const std::function<void()>& next) {
  GlobalsScope globals;
  otel::Tracer* tracer = tracers_.tracer(globals);
  if (!tracer) return next();

  const Json& hash = job.job();
  const JobFields fields = JobFields::of(hash);  // read before next(): the job may change the hash
  const JobCarrier carrier(hash, fields);
  otel::Context extracted = globals.propagator().extract(carrier, otel::Context());
  otel::SpanPtr span = start_process_span(*tracer, job, fields, extracted);
  add_extras(*span, job, fields);

  // Ruby runs the job with the extracted context current (baggage visible in every style) and
  // the process span as the current span.
  otel::Scope scope(extracted.with_span(span));
  // The hash's "jid" and "class" (what JobContext::jid()/job_class() return), copied here.
  CurrentJobScope current(fields.jid, fields.job_class);
  try {
    next();
  } catch (const std::exception& e) {
    record_failure(*span, job, &e);
    span->end();
    throw;
  } catch (...) {
    record_failure(*span, job, nullptr);
    span->end();
    throw;
  }
  span->end();
}

}  // namespace kiq::tracing::detail
