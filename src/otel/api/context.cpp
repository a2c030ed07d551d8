#include "kiq/otel/context.hpp"

#include "otel/internal/no_destructor.hpp"
#include "otel/internal/thread_slot.hpp"

namespace kiq::otel {
namespace {

// The calling thread's current context; changed only through Scope. Null once the thread's
// thread_locals are being destroyed: code that runs after that on the thread (static
// destructors at exit) sees the empty context and its Scopes change nothing.
struct CurrentTag;
Context* thread_current() noexcept { return internal::thread_slot<Context, CurrentTag>(); }

const Context& empty_context() {
  static internal::NoDestructor<const Context> kEmpty;
  return *kEmpty;
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

const Context& current_context() {
  const Context* current = thread_current();
  return current ? *current : empty_context();
}

SpanPtr current_span() {
  const SpanPtr& s = current_context().span();
  return s ? s : invalid_span();
}

Scope::Scope(Context context) {
  if (Context* current = thread_current()) {
    previous_ = std::move(*current);
    *current = std::move(context);
  }
}

Scope::Scope(SpanPtr span) {
  if (Context* current = thread_current()) {
    previous_ = *current;
    *current = previous_.with_span(std::move(span));
  }
}

Scope::~Scope() {
  if (Context* current = thread_current()) *current = std::move(previous_);
}

}  // namespace kiq::otel
