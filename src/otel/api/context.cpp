#include "kiq/otel/context.hpp"

namespace kiq::otel {
namespace {

// The calling thread's current context; changed only through Scope.
Context& thread_current() {
  thread_local Context current;
  return current;
}

}  // namespace

const SpanContext& Context::span_context() const {
  static const SpanContext kInvalid;
  return span_ ? span_->context() : kInvalid;
}

Context Context::with_span(SpanPtr span) const {
  Context c = *this;
  c.span_ = std::move(span);
  return c;
}

Context Context::with_baggage(Baggage baggage) const {
  Context c = *this;
  c.baggage_ = std::move(baggage);
  return c;
}

Context Context::with_untraced(bool untraced) const {
  Context c = *this;
  c.untraced_ = untraced;
  return c;
}

const Context& current_context() { return thread_current(); }

SpanPtr current_span() {
  const SpanPtr& s = thread_current().span();
  return s ? s : invalid_span();
}

Scope::Scope(Context context) : previous_(std::move(thread_current())) {
  thread_current() = std::move(context);
}

Scope::Scope(SpanPtr span) : previous_(thread_current()) {
  thread_current() = previous_.with_span(std::move(span));
}

Scope::~Scope() { thread_current() = std::move(previous_); }

}  // namespace kiq::otel
