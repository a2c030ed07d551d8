// The tracing middlewares (private; users get them through kiq/tracing.hpp).
#pragma once

#include "instrumentation/job_hash.hpp"
#include "kiq/otel/tracer.hpp"

namespace kiq::tracing::detail {

// Thread-safety: immutable after construction except TracerSource's per-thread cache.
class TracingClientMiddleware final : public ClientMiddleware {
 public:
  explicit TracingClientMiddleware(TracingOptions options);
  bool call(ClientCall& call, const std::function<bool()>& next) override;

 private:
  bool repush(ClientCall& call, const std::function<bool()>& next);
  TracingOptions options_;
  TracerSource tracers_;
};

// Thread-safety: as above.
class TracingServerMiddleware final : public ServerMiddleware {
 public:
  explicit TracingServerMiddleware(TracingOptions options);
  void call(JobContext& job, const std::function<void()>& next) override;

 private:
  otel::SpanPtr start_process_span(otel::Tracer& tracer, const JobContext& job,
                                   const JobFields& fields, const otel::Context& extracted) const;
  void add_extras(otel::Span& span, const JobContext& job, const JobFields& fields) const;
  void record_failure(otel::Span& span, const JobContext& job, const std::exception* error) const;
  TracingOptions options_;
  TracerSource tracers_;
};

}  // namespace kiq::tracing::detail
