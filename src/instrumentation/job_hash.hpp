// Reading the tracing-relevant parts of a Sidekiq job hash (private to kiq_instrumentation).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kiq/middleware.hpp"
#include "kiq/otel/propagation.hpp"
#include "kiq/otel/span.hpp"
#include "kiq/tracing.hpp"

namespace kiq::tracing::detail {

// `wrapped` (ActiveJob's real class) if present, else `class`; "" when neither is a string.
std::string job_class_of(const Json& job);
std::string string_of(const Json& job, std::string_view key);

// A job timestamp as seconds since the epoch: floats are seconds (Sidekiq < 8), integers above
// 1e11 are milliseconds (Sidekiq 8). nullopt when absent, not a number, <= 0 or past 2255.
std::optional<double> epoch_seconds(const Json& job, std::string_view key);
otel::Timestamp to_timestamp(double epoch_seconds);

// Whether the job's `retry` value means "retried on failure" (true or a positive count).
bool retry_enabled(const Json& job);

// A propagation carrier over the top-level string keys of a job hash (what Ruby's Hash setter
// does): get() sees only string values; set() writes string values.
class JobCarrier final : public otel::TextMapCarrier {
 public:
  explicit JobCarrier(Json& job) : job_(&job), const_job_(&job) {}
  explicit JobCarrier(const Json& job) : job_(nullptr), const_job_(&job) {}
  std::optional<std::string_view> get(std::string_view key) const override;
  void set(std::string_view key, std::string_view value) override;

 private:
  Json* job_;
  const Json* const_job_;
};

// The options with `semconv` resolved from the environment when unset.
TracingOptions resolved(TracingOptions options);

// Resolves the tracer for a call: null when tracing is off (no-op provider).
class TracerSource {
 public:
  explicit TracerSource(std::shared_ptr<otel::TracerProvider> fixed) : fixed_(std::move(fixed)) {}
  otel::TracerPtr tracer() const;

 private:
  struct Cached {
    std::shared_ptr<otel::TracerProvider> provider;
    otel::TracerPtr tracer;
  };
  std::shared_ptr<otel::TracerProvider> fixed_;
  mutable std::atomic<std::shared_ptr<const Cached>> cache_;
};

// Span attributes shared by the publish and process spans.
otel::Attributes job_attributes(const Json& job, std::string_view queue,
                                const TracingOptions& options, bool process);
std::string span_name(const Json& job, std::string_view queue, const TracingOptions& options,
                      bool process);

// Marks the current thread as running `jid` for the job-attributes processor; restores the
// previous value on destruction. An empty jid suppresses stamping (used around kiq's own spans).
class CurrentJobScope {
 public:
  CurrentJobScope(std::string jid, std::string job_class);
  ~CurrentJobScope();
  CurrentJobScope(const CurrentJobScope&) = delete;
  CurrentJobScope& operator=(const CurrentJobScope&) = delete;

 private:
  std::string jid_, class_;
  const std::string* prev_jid_;
  const std::string* prev_class_;
};

}  // namespace kiq::tracing::detail
