#include "kiq/otel/tracer.hpp"

#include <atomic>
#include <cstdint>
#include <mutex>

#include "kiq/otel/tracer_provider.hpp"

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

// Writers swap the pointer under `mu` and bump `generation`; readers keep a thread-local copy
// and only take `mu` when the generation moved, so the per-job read is one atomic load.
struct GlobalProvider {
  std::mutex mu;
  std::shared_ptr<TracerProvider> provider = noop_tracer_provider();
  std::atomic<std::uint64_t> generation{1};  // 0 never occurs: it marks an empty cache
};

GlobalProvider& global() {
  static GlobalProvider g;
  return g;
}

// This thread's copy of the global and the generation it belongs to (0: none yet). Holding the
// copy keeps a replaced object alive until this thread reads again (or exits).
struct Cache {
  std::uint64_t generation = 0;
  std::shared_ptr<TracerProvider> provider;
};

Cache& thread_cache() {
  thread_local Cache cache;
  return cache;
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
  static const TracerPtr kTracer = std::make_shared<NoopTracer>();
  return kTracer;
}

std::shared_ptr<TracerProvider> noop_tracer_provider() {
  static const std::shared_ptr<TracerProvider> kProvider = std::make_shared<NoopTracerProvider>();
  return kProvider;
}

void set_tracer_provider(std::shared_ptr<TracerProvider> provider) {
  if (!provider) provider = noop_tracer_provider();
  auto& g = global();
  // Drop this thread's copy, so a set-then-release on one thread frees the old object at once.
  thread_cache() = Cache{};
  std::lock_guard lock(g.mu);
  g.provider.swap(provider);
  g.generation.fetch_add(1, std::memory_order_release);
  // The previous provider (now in `provider`) is released outside the lock; threads that cached
  // it keep it alive until their next read.
}

std::uint64_t tracer_provider_generation() noexcept {
  return global().generation.load(std::memory_order_acquire);
}

std::shared_ptr<TracerProvider> tracer_provider() {
  Cache& cache = thread_cache();
  auto& g = global();
  if (cache.generation != g.generation.load(std::memory_order_acquire)) {
    std::lock_guard lock(g.mu);
    cache.provider = g.provider;
    cache.generation = g.generation.load(std::memory_order_relaxed);  // matches `provider`
  }
  return cache.provider;
}

TracerPtr get_tracer(std::string_view name, std::string_view version) {
  return tracer_provider()->get_tracer(name, version);
}

}  // namespace kiq::otel
