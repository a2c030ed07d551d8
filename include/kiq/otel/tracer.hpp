// Tracer: starts spans (OpenTelemetry trace API), and in_span(), the Ruby-style helper that runs
// a function inside a current span.
//
//   auto tracer = kiq::otel::get_tracer("billing", "1.0");
//   double total = tracer->in_span("charge", {.kind = SpanKind::kInternal}, [&](Span& span) {
//     span.set_attribute("user.id", 42);
//     span.add_event("card.validated");
//     return charge(card);  // an exception here is recorded, the span ends with Error status
//   });
//
// Thread-safety: Tracer implementations are thread-safe; one tracer is shared by all threads.
#pragma once

#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "kiq/otel/context.hpp"
#include "kiq/otel/span.hpp"

namespace kiq::otel {

// Parent choice for a new span: the calling thread's current context (default), an explicit
// Context, an explicit SpanContext (e.g. extracted), or a root span (no parent).
struct Root {};
inline constexpr Root kRoot{};
using Parent = std::variant<std::monostate, Context, SpanContext, Root>;

// What start_span reads, never consumes: the SDK copies the attributes and links into the new
// span's own (reused) buffers. So a caller that starts many similar spans may keep one
// StartSpanOptions per thread and refill it in place (assigning its strings, which keep their
// buffers) to start spans without any allocation in steady state; kiq's job spans do.
struct StartSpanOptions {
  SpanKind kind = SpanKind::kInternal;
  Parent parent;
  Attributes attributes;  // given to the sampler, then recorded (subject to limits)
  std::vector<Link> links;
  std::optional<Timestamp> start_time;  // default: now
};

class Tracer {
 public:
  virtual ~Tracer() = default;

  // Never returns null. The span is not made current (use Scope or in_span for that).
  SpanPtr start_span(std::string_view name) { return do_start_span(name, nullptr); }
  SpanPtr start_span(std::string_view name, const StartSpanOptions& options) {
    return do_start_span(name, &options);
  }

  // Starts a span, makes it current while `fn` runs (fn(Span&) or fn()), ends it and returns
  // fn's result. If fn throws: records the exception (event `exception`), sets status Error
  // with "Unhandled exception of type: <demangled type>", ends the span and rethrows.
  template <class F>
  decltype(auto) in_span(std::string_view name, const StartSpanOptions& options, F&& fn) {
    return run_in_span(start_span(name, options), std::forward<F>(fn));
  }
  template <class F>
  decltype(auto) in_span(std::string_view name, F&& fn) {
    return run_in_span(start_span(name), std::forward<F>(fn));
  }

 protected:
  // start_span. `options` null means all defaults, so the common call builds no
  // StartSpanOptions; otherwise the implementation only reads *options (see StartSpanOptions).
  virtual SpanPtr do_start_span(std::string_view name, const StartSpanOptions* options) = 0;

 private:
  struct EndGuard {
    Span* span;
    ~EndGuard() { span->end(); }
  };
  template <class F>
  static decltype(auto) run_in_span(SpanPtr span, F&& fn) {
    EndGuard guard{span.get()};
    Scope scope(span);
    try {
      if constexpr (std::is_invocable_v<F&, Span&>) {
        return std::forward<F>(fn)(*span);
      } else {
        return std::forward<F>(fn)();
      }
    } catch (...) {
      record_in_span_failure(*span);
      throw;
    }
  }
  // Records std::current_exception() and the Error status described above. Never throws.
  static void record_in_span_failure(Span& span) noexcept;
};

using TracerPtr = std::shared_ptr<Tracer>;

// A tracer whose spans never record: children of a valid parent carry the parent's context,
// otherwise the invalid context. Used with no SDK and after shutdown.
TracerPtr noop_tracer();

}  // namespace kiq::otel
