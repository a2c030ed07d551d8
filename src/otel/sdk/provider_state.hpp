// State shared by an sdk::TracerProvider, its tracers and its live spans (each holds a
// shared_ptr), so a span ending after the provider object is gone still reaches valid
// (shut down) processors. SpanData must NOT point at it: exporters that keep SpanData (the
// in-memory one) would otherwise form a cycle through the processors.
// The scopes of the provider's tracers live here too, so a span needs no reference of its own
// to its scope: its reference to this state keeps the scope alive.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <vector>

#include "kiq/otel/sdk/tracer_provider.hpp"
#include "otel/internal/random.hpp"

namespace kiq::otel::sdk {

struct TracerProvider::Shared {
  std::shared_ptr<const Resource> resource;
  SamplerPtr sampler;
  // The two samplers almost every program uses, decided inline by the tracer (same results as
  // their should_sample).
  enum class SamplerKind { kOther, kAlwaysOn, kParentBasedAlwaysOn };
  SamplerKind sampler_kind = SamplerKind::kOther;
  SpanLimits limits;
  std::shared_ptr<IdGenerator> id_generator;  // may be null: thread-local PRNG
  std::vector<std::shared_ptr<SpanProcessor>> processors;  // fixed after construction
  bool any_on_start = false;  // some processor may do something in on_start (not built-in)
  std::atomic<bool> shut_down{false};
  // One per tracer; appended under the provider's tracer mutex, never removed (a deque keeps
  // the addresses that tracers and spans hold stable).
  std::deque<std::shared_ptr<const InstrumentationScope>> scopes;

  TraceId new_trace_id() const {
    return id_generator ? id_generator->new_trace_id() : internal::random_trace_id();
  }
  SpanId new_span_id() const {
    return id_generator ? id_generator->new_span_id() : internal::random_span_id();
  }
};

}  // namespace kiq::otel::sdk
