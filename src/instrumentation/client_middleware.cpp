// Enqueue side: the PRODUCER span and context injection (Ruby's Middlewares::Client::TracerMiddleware).
#include "instrumentation/middlewares.hpp"

#include "kiq/otel/propagation.hpp"

namespace kiq::tracing::detail {

TracingClientMiddleware::TracingClientMiddleware(TracingOptions options)
    : options_(resolved(std::move(options))), tracers_(options_.tracer_provider) {}

bool TracingClientMiddleware::call(ClientCall& call, const std::function<bool()>& next) {
  if (call.origin != PushOrigin::kClient) return repush(call, next);
  GlobalsScope globals;
  otel::Tracer* tracer = tracers_.tracer(globals);
  if (!tracer || !call.job.is_object()) return next();

  // Our own span must not be stamped with the jid of a job that is enqueueing it.
  CurrentJobScope not_a_job_span({}, {});
  const JobFields fields = JobFields::of(call.job);
  const JobSpanStart& start = job_span_start(fields, call.queue, options_, /*process=*/false);
  otel::SpanPtr span = tracer->start_span(start.name, start.options);
  if (auto created = epoch_seconds(fields.created_at))
    span->add_event("created_at", {}, to_timestamp(*created));

  bool pushed = false;
  try {
    otel::Scope scope(span);
    JobCarrier carrier(call.job);
    globals.propagator().inject(otel::current_context(), carrier);
    pushed = next();
  } catch (...) {
    std::string type = otel::current_exception_type_name();
    span->record_current_exception();
    span->set_status(otel::StatusCode::kError, "Unhandled exception of type: " + type);
    span->end();
    throw;
  }
  if (!pushed) span->set_attribute("kiq.job.pushed", false);  // a later middleware stopped it
  span->end();
  return pushed;
}

bool TracingClientMiddleware::repush(ClientCall& call, const std::function<bool()>& next) {
  // The poller moving a scheduled job or a retry: the job keeps the context it was created
  // with. Injecting here would overwrite it (Ruby's perform_in/retry + :child bug).
  if (!options_.trace_poller) return next();
  GlobalsScope globals;
  otel::Tracer* tracer = tracers_.tracer(globals);
  if (!tracer) return next();
  otel::StartSpanOptions start;
  start.parent = otel::kRoot;
  if (!options_.peer_service.empty()) start.attributes.push_back({"peer.service", options_.peer_service});
  start.attributes.push_back({"sidekiq.job.jid", std::string(string_of(call.job, "jid"))});
  return tracer->in_span("kiq.scheduler enqueue", std::move(start), [&] { return next(); });
}

}  // namespace kiq::tracing::detail
