#include "kiq/otel/tracer.hpp"

#include <cstdint>
#include <cstdlib>

#include "kiq/otel/tracer_provider.hpp"
#include "otel/internal/cached_global.hpp"
#include "otel/internal/no_destructor.hpp"

namespace kiq::otel {
namespace {

// Returns spans carrying the parent's context and nothing else. Reuses the parent's span object
// when it is already non-recording, so starting a span costs no allocation in the common cases.
class NoopTracer final : public Tracer {
 public:
  SpanPtr do_start_span(std::string_view, const StartSpanOptions* options) override {
    if (!options) return from_context(current_context());
    if (auto* ctx = std::get_if<Context>(&options->parent)) return from_context(*ctx);
    if (auto* sc = std::get_if<SpanContext>(&options->parent)) {
      return sc->valid() ? make_non_recording_span(*sc) : invalid_span();
    }
    if (std::holds_alternative<Root>(options->parent)) return invalid_span();
    return from_context(current_context());
  }

 private:
  static SpanPtr from_context(const Context& ctx) {
    const SpanPtr& parent = ctx.span();
    if (!parent || !parent->context().valid()) return invalid_span();
    if (!parent->is_recording()) return parent;
    return make_non_recording_span(parent->context());
  }
};

class NoopTracerProvider final : public TracerProvider {
 public:
  TracerPtr get_tracer(std::string_view, std::string_view, std::string_view) override {
    return noop_tracer();
  }
};

struct ProviderTag;
using GlobalProvider = internal::CachedGlobal<TracerProvider, ProviderTag>;

// Released at exit by a hook registered on first use, i.e. in the order a static destroyed
// there would be: the installed provider is shut down and flushes (its destructor), and code
// that runs later (static destructors of objects built before the first use) still finds the
// global usable, holding the no-op provider.
void release_at_exit() { set_tracer_provider(nullptr); }

GlobalProvider& global() {
  static internal::NoDestructor<GlobalProvider> g(noop_tracer_provider());
  [[maybe_unused]] static const bool hooked = std::atexit(release_at_exit) == 0;
  return *g;
}

}  // namespace

void Tracer::record_in_span_failure(Span& span) noexcept {
  try {
    span.record_current_exception();
    span.set_status(StatusCode::kError,
                    "Unhandled exception of type: " + current_exception_type_name());
  } catch (...) {
    // Recording must never replace the user's exception (e.g. bad_alloc while recording).
  }
}

TracerPtr noop_tracer() {
  static internal::NoDestructor<const TracerPtr> kTracer(std::make_shared<NoopTracer>());
  return *kTracer;
}

std::shared_ptr<TracerProvider> noop_tracer_provider() {
  static internal::NoDestructor<const std::shared_ptr<TracerProvider>> kProvider(
      std::make_shared<NoopTracerProvider>());
  return *kProvider;
}

void set_tracer_provider(std::shared_ptr<TracerProvider> provider) {
  global().set(provider ? std::move(provider) : noop_tracer_provider());
}

std::uint64_t tracer_provider_generation() noexcept { return global().generation(); }

std::shared_ptr<TracerProvider> tracer_provider() { return global().get(); }

TracerPtr get_tracer(std::string_view name, std::string_view version) {
  return tracer_provider()->get_tracer(name, version);
}

}  // namespace kiq::otel
