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

// The string at `key`; "" when absent or not a string. The view points into `job` (valid while
// that key is not reassigned).
std::string_view string_of(const Json& job, std::string_view key);

// A job timestamp as seconds since the epoch: floats are seconds (Sidekiq < 8), integers above
// 1e11 are milliseconds (Sidekiq 8). nullopt when absent, not a number, <= 0 or past 2255.
std::optional<double> epoch_seconds(const Json* value);  // null: absent
otel::Timestamp to_timestamp(double epoch_seconds);

// Whether a job's `retry` value means "retried on failure" (true or a positive count; null:
// absent).
bool retry_enabled(const Json* value);

// The entries of a job hash that the tracing middlewares read, found in ONE pass over the hash
// (a dozen map lookups, each a few string compares, cost more). Views and pointers into the
// hash: valid while it is not modified (use them before running the job). Non-string ids read
// as "", like string_of(); a hash that is not an object has none of them.
struct JobFields {
  std::string_view jid, job_class, wrapped;  // "jid", "class", "wrapped"
  const Json* retry = nullptr;
  const Json* created_at = nullptr;
  const Json* enqueued_at = nullptr;
  const Json* scheduled_at = nullptr;
  const Json* retry_count = nullptr;
  // The propagation keys W3C trace context and baggage read (see JobCarrier).
  const Json* traceparent = nullptr;
  const Json* tracestate = nullptr;
  const Json* baggage = nullptr;

  static JobFields of(const Json& job);
  // `wrapped` (ActiveJob's real class) if present, else `class`.
  std::string_view display_class() const { return wrapped.empty() ? job_class : wrapped; }
  // JobContext::retry_count(): nullopt unless an integer.
  std::optional<int> retries() const;
};

// A propagation carrier over the top-level string keys of a job hash (what Ruby's Hash setter
// does): get() sees only string values; set() writes string values.
class JobCarrier final : public otel::TextMapCarrier {
 public:
  explicit JobCarrier(Json& job) : job_(&job), const_job_(&job) {}
  explicit JobCarrier(const Json& job) : job_(nullptr), const_job_(&job) {}
  // Read-only, answering traceparent/tracestate/baggage from `fields` (JobFields::of(job), so
  // the usual extract costs no lookups in the hash) and other keys by lookup.
  JobCarrier(const Json& job, const JobFields& fields)
      : job_(nullptr), const_job_(&job), fields_(&fields) {}
  std::optional<std::string_view> get(std::string_view key) const override;
  void set(std::string_view key, std::string_view value) override;
  bool single_valued() const override { return true; }  // JSON object keys are unique

 private:
  Json* job_;
  const Json* const_job_;
  const JobFields* fields_ = nullptr;
};

// The options with `semconv` resolved from the environment when unset.
TracingOptions resolved(TracingOptions options);

// The global tracer (kiq's instrumentation scope on the global provider; null while that is the
// no-op provider) and the global propagator, borrowed for one middleware call without a lock or
// a reference-count change. The thread keeps owning copies, refreshed when the provider or
// propagator generation moved and only by the outermost scope on the thread: a nested call (a job
// enqueueing a job) sees the outer call's snapshot, so nothing borrowed is freed while in use.
// Thread-safety: a scope belongs to the thread that created it.
class GlobalsScope {
 public:
  GlobalsScope();
  ~GlobalsScope();
  GlobalsScope(const GlobalsScope&) = delete;
  GlobalsScope& operator=(const GlobalsScope&) = delete;

  otel::Tracer* tracer() const { return tracer_; }
  const otel::TextMapPropagator& propagator() const { return *propagator_; }

 private:
  otel::Tracer* tracer_;
  const otel::TextMapPropagator* propagator_;
};

// Resolves the tracer for a call: null when tracing is off (no-op provider).
// Thread-safe: immutable after construction (a fixed provider's tracer is resolved once).
class TracerSource {
 public:
  explicit TracerSource(std::shared_ptr<otel::TracerProvider> fixed);
  // Valid while `globals` lives.
  otel::Tracer* tracer(const GlobalsScope& globals) const;

 private:
  std::shared_ptr<otel::TracerProvider> fixed_;
  otel::TracerPtr fixed_tracer_;
};

// The name and start options of a job's publish or process span. One per thread and kind,
// refilled in place for every job (its strings keep their buffers, see otel::StartSpanOptions),
// so starting a job span allocates nothing in steady state.
struct JobSpanStart {
  otel::StartSpanOptions options;
  std::string name;
};

// This thread's JobSpanStart for the job's publish (process false) or process span, filled
// with the kind, the attributes shared by both spans and the name; the default parent (the
// current context) and no links: the caller may change those, starts the span, then calls
// release_parent(). Valid until the next call for the same kind on this thread (starting a
// span does not call it).
JobSpanStart& job_span_start(const JobFields& job, std::string_view queue,
                             const TracingOptions& options, bool process);
// Drops what the options refer to beyond the span start (a parent context keeps spans alive).
void release_parent(JobSpanStart& start);

// Marks the current thread as running `jid` for the job-attributes processor; restores the
// previous value on destruction. An empty jid suppresses stamping (used around kiq's own spans).
// The ids are copied into buffers the thread reuses for the next scope (no allocation per job).
class CurrentJobScope {
 public:
  CurrentJobScope(std::string_view jid, std::string_view job_class);
  ~CurrentJobScope();
  CurrentJobScope(const CurrentJobScope&) = delete;
  CurrentJobScope& operator=(const CurrentJobScope&) = delete;

 private:
  std::string jid_, class_;
  const std::string* prev_jid_;
  const std::string* prev_class_;
};

}  // namespace kiq::tracing::detail
