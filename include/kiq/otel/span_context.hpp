// SpanContext: the part of a span that propagates (ids, flags, tracestate, remote bit).
//
// Thread-safety: value type.
#pragma once

#include "kiq/otel/ids.hpp"
#include "kiq/otel/trace_state.hpp"

namespace kiq::otel {

class SpanContext {
 public:
  SpanContext() = default;
  SpanContext(TraceId trace_id, SpanId span_id, TraceFlags flags, bool is_remote,
              TraceState state = {})
      : trace_id_(trace_id), span_id_(span_id), flags_(flags), remote_(is_remote),
        state_(std::move(state)) {}

  static SpanContext invalid() { return {}; }

  // Valid = non-zero trace id and non-zero span id.
  bool valid() const { return trace_id_.valid() && span_id_.valid(); }
  bool is_remote() const { return remote_; }
  bool sampled() const { return flags_.sampled(); }
  const TraceId& trace_id() const { return trace_id_; }
  const SpanId& span_id() const { return span_id_; }
  TraceFlags trace_flags() const { return flags_; }
  const TraceState& trace_state() const { return state_; }

  friend bool operator==(const SpanContext&, const SpanContext&) = default;

 private:
  TraceId trace_id_;
  SpanId span_id_;
  TraceFlags flags_;
  bool remote_ = false;
  TraceState state_;
};

}  // namespace kiq::otel
