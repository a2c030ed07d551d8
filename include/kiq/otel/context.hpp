// Context: an immutable bundle of the current span, the baggage and the "untraced" flag, plus
// the per-thread current context and the RAII Scope that changes it.
//
// A job's context is thread-local: a worker thread makes the job's span current with a Scope;
// other threads are unaffected. To carry a context to another thread, copy the Context value
// and open a Scope with it there.
//
// Thread-safety: Context is an immutable value type (copies share the span and baggage).
// current_context()/Scope act on the calling thread only. A Scope must be destroyed on the
// thread that created it, in reverse order of creation (it restores what it replaced).
// After a thread's thread_locals are destroyed (at thread exit; for the main thread, at exit()
// before static objects' destructors), current_context() on it is the empty Context and Scopes
// change nothing, so a static object's destructor may still use spans and scopes.
#pragma once

#include <memory>

#include "kiq/otel/baggage.hpp"
#include "kiq/otel/span.hpp"

namespace kiq::otel {

class Context {
 public:
  Context() = default;

  // The span of this context, or nullptr when it has none.
  const SpanPtr& span() const { return span_; }
  // The span context of span(), invalid when there is none.
  const SpanContext& span_context() const;
  const Baggage& baggage() const { return baggage_; }
  // Set by instrumentation around internal work that must not be traced: the SDK then returns
  // non-recording spans (no sampler call) while this context is the parent.
  bool untraced() const { return untraced_; }

  Context with_span(SpanPtr span) const;
  Context with_baggage(Baggage baggage) const;
  Context with_untraced(bool untraced = true) const;

 private:
  SpanPtr span_;
  Baggage baggage_;
  bool untraced_ = false;
};

// The calling thread's current context (empty Context when nothing was made current).
const Context& current_context();
// The current span; invalid_span() (never null) when none.
SpanPtr current_span();

// Makes a context (or a span, keeping the current baggage) current on this thread until
// destroyed, then restores the previous context.
class Scope {
 public:
  explicit Scope(Context context);
  explicit Scope(SpanPtr span);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
  Scope(Scope&&) = delete;
  Scope& operator=(Scope&&) = delete;

 private:
  Context previous_;
};

}  // namespace kiq::otel
