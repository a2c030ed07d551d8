// SpanProcessor (spec "Span processor"): hooks called synchronously at span start and end, only
// for recording spans.
//
// Contract: on_start/on_end run on the thread that starts/ends the span, must be fast, must not
// block and must not throw. on_end receives the finished span BY MOVE (the last processor of a
// provider gets the original, earlier ones a copy), so a batch processor can queue it without
// copying. Processors decide themselves whether to pass non-sampled (record-only) spans on;
// the built-in ones export sampled spans only. shutdown() happens once (includes force_flush).
// The SDK calls on_end_from(span, origin); its default fills span.resource and span.scope from
// `origin` and calls on_end(span), so ordinary processors only implement on_end(SpanData&&).
// A processor that keeps spans in reused slots (the batch processor) overrides it to copy the
// shared pointers only when they differ from the slot's (no refcount traffic per span).
//
// Thread-safety: implementations must accept concurrent on_start/on_end from any threads, and
// force_flush/shutdown from another thread.
#pragma once

#include <chrono>
#include <memory>
#include <utility>

#include "kiq/otel/context.hpp"
#include "kiq/otel/sdk/span_data.hpp"

namespace kiq::otel::sdk {

// Where a finished span comes from: its provider's resource and its tracer's scope.
struct SpanOrigin {
  const std::shared_ptr<const Resource>& resource;
  const std::shared_ptr<const InstrumentationScope>& scope;
};

class SpanProcessor {
 public:
  virtual ~SpanProcessor() = default;
  // `span` is the new recording span; `parent` the context it was started in.
  virtual void on_start(Span& span, const Context& parent) { (void)span, (void)parent; }
  virtual void on_end(SpanData&& span) = 0;
  // `span` has no resource/scope yet (see above).
  virtual void on_end_from(SpanData&& span, const SpanOrigin& origin) {
    span.resource = origin.resource;
    span.scope = origin.scope;
    on_end(std::move(span));
  }
  virtual bool force_flush(std::chrono::milliseconds timeout = std::chrono::seconds(30)) = 0;
  virtual bool shutdown(std::chrono::milliseconds timeout = std::chrono::seconds(30)) = 0;
};

}  // namespace kiq::otel::sdk
