// SpanProcessor (spec "Span processor"): hooks called synchronously at span start and end, only
// for recording spans.
//
// Contract: on_start/on_end run on the thread that starts/ends the span, must be fast, must not
// block and must not throw. on_end receives the finished span BY MOVE (the last processor of a
// provider gets the original, earlier ones a copy), so a batch processor can queue it without
// copying. Processors decide themselves whether to pass non-sampled (record-only) spans on;
// the built-in ones export sampled spans only. shutdown() happens once (includes force_flush).
//
// Thread-safety: implementations must accept concurrent on_start/on_end from any threads, and
// force_flush/shutdown from another thread.
#pragma once

#include <chrono>

#include "kiq/otel/context.hpp"
#include "kiq/otel/sdk/span_data.hpp"

namespace kiq::otel::sdk {

class SpanProcessor {
 public:
  virtual ~SpanProcessor() = default;
  // `span` is the new recording span; `parent` the context it was started in.
  virtual void on_start(Span& span, const Context& parent) { (void)span, (void)parent; }
  virtual void on_end(SpanData&& span) = 0;
  virtual bool force_flush(std::chrono::milliseconds timeout = std::chrono::seconds(30)) = 0;
  virtual bool shutdown(std::chrono::milliseconds timeout = std::chrono::seconds(30)) = 0;
};

}  // namespace kiq::otel::sdk
