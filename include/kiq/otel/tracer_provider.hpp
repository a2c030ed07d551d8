// TracerProvider API and the process-wide global provider.
//
// The global provider is the project's one documented piece of global mutable state (the
// global propagator in propagation.hpp is its sibling). Default: a no-op provider, so
// instrumented code costs ~nothing until an SDK provider is installed.
//
// Thread-safety: providers are thread-safe; set_tracer_provider()/tracer_provider() may race
// freely. A write takes a mutex and bumps a generation; a read is one atomic load plus a copy of
// a thread-local shared_ptr (the mutex only when the generation moved), so the per-job read does
// not contend. A replaced provider stays alive while any reader still holds it. Both may be
// called from static objects' destructors (e.g. a test fixture restoring the previous provider
// at exit): after the thread's copy is gone they read and write under the mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "kiq/otel/tracer.hpp"

namespace kiq::otel {

class TracerProvider {
 public:
  virtual ~TracerProvider() = default;
  // Never returns null. `name` identifies the instrumentation library (instrumentation scope).
  virtual TracerPtr get_tracer(std::string_view name, std::string_view version = {},
                               std::string_view schema_url = {}) = 0;
};

// The provider that hands out noop_tracer().
std::shared_ptr<TracerProvider> noop_tracer_provider();

// Installs the global provider; nullptr restores the no-op provider. Tracers obtained before
// keep pointing at the provider they came from.
void set_tracer_provider(std::shared_ptr<TracerProvider> provider);
// The global provider (never null).
std::shared_ptr<TracerProvider> tracer_provider();
// Bumped by every set_tracer_provider(); lets callers cache what they derive from the global
// provider (e.g. a tracer) and refresh it only when this changes. Never 0.
std::uint64_t tracer_provider_generation() noexcept;
// tracer_provider()->get_tracer(name, version).
TracerPtr get_tracer(std::string_view name, std::string_view version = {});

}  // namespace kiq::otel
