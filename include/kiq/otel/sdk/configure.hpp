// configure(): one call that sets up tracing for a process from code options plus the standard
// OTEL_* environment (otel.md C.8), installs it globally and returns a guard that flushes and
// shuts it down.
//
//   int main() {
//     auto tracing = kiq::otel::sdk::configure({.service_name = "billing-worker"});
//     ...  // kiq::otel::get_tracer("app") now records and exports
//   }      // ~TracingGuard: flush + shutdown
//
// What it does, in order:
// 1. Global propagator from `propagators`, else OTEL_PROPAGATORS (default tracecontext,baggage)
//    - even when the SDK is disabled, as the spec requires.
// 2. If `disabled` or OTEL_SDK_DISABLED=true: installs the no-op provider and stops.
// 3. Resource = default resource (telemetry.sdk.*, OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME)
//    merged with `resource_attributes` and then `service_name` (code wins over environment).
// 4. Sampler = `sampler` or OTEL_TRACES_SAMPLER/_ARG; limits = `limits` or OTEL_*_LIMIT vars.
// 5. Exporters from `traces_exporter`, else OTEL_TRACES_EXPORTER (default "otlp"; a comma list
//    of otlp | console | none): otlp -> BatchSpanProcessor(OtlpHttpExporter) with `batch` or
//    OTEL_BSP_*, and `otlp` or OTEL_EXPORTER_OTLP_*; console -> SimpleSpanProcessor(Console).
//    The OTLP exporter comes from make_otlp_http_exporter() (linked kiq_otlp, or the module
//    libkiq_otlp.so loaded on demand); when neither is available configure() throws
//    std::runtime_error saying so.
//    Unknown names (zipkin, ...) are warned about and skipped. `extra_processors` are appended.
// 6. Installs the provider globally (unless install_global is false).
//
// Thread-safety: configure() may be called from any thread, but is meant to be called once at
// startup; TracingGuard is not thread-safe itself (one owner), the provider it holds is.
#pragma once

#include <chrono>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kiq/otel/attributes.hpp"
#include "kiq/otel/sdk/batch_span_processor.hpp"
#include "kiq/otel/sdk/exporters/otlp_http.hpp"
#include "kiq/otel/sdk/sampler.hpp"
#include "kiq/otel/sdk/span_limits.hpp"
#include "kiq/otel/sdk/span_processor.hpp"
#include "kiq/otel/sdk/tracer_provider.hpp"
#include "kiq/otel/tracer_provider.hpp"

namespace kiq::otel::sdk {

struct ConfigureOptions {
  std::string service_name;           // empty: from the environment or unknown_service:<exe>
  Attributes resource_attributes;     // merged over the environment's
  bool disabled = false;              // true: like OTEL_SDK_DISABLED=true
  SamplerPtr sampler;                 // null: OTEL_TRACES_SAMPLER / _ARG
  std::optional<SpanLimits> limits;   // nullopt: OTEL_SPAN_* / OTEL_ATTRIBUTE_* limits
  std::optional<std::string> traces_exporter;       // overrides OTEL_TRACES_EXPORTER
  std::optional<OtlpHttpExporterOptions> otlp;      // nullopt: OTEL_EXPORTER_OTLP_*
  std::optional<BatchSpanProcessorOptions> batch;   // nullopt: OTEL_BSP_*
  std::ostream* console_out = nullptr;              // console exporter stream (default stdout)
  std::vector<std::shared_ptr<SpanProcessor>> extra_processors;  // e.g. an in-memory exporter
  std::optional<std::string> propagators;           // overrides OTEL_PROPAGATORS
  bool install_global = true;
};

// Owns what configure() set up. Destruction (or shutdown()) flushes and shuts the provider down
// and, if it is still the global provider, restores the no-op provider. Move-only.
class TracingGuard {
 public:
  TracingGuard() = default;
  explicit TracingGuard(std::shared_ptr<TracerProvider> provider) : provider_(std::move(provider)) {}
  ~TracingGuard();
  TracingGuard(TracingGuard&& other) noexcept = default;
  TracingGuard& operator=(TracingGuard&& other) noexcept;
  TracingGuard(const TracingGuard&) = delete;
  TracingGuard& operator=(const TracingGuard&) = delete;

  // False when tracing is disabled (no-op provider installed).
  bool enabled() const { return provider_ != nullptr; }
  // The SDK provider; null when disabled.
  const std::shared_ptr<TracerProvider>& provider() const { return provider_; }
  // The provider to get tracers from: the SDK provider, or the no-op one when disabled.
  std::shared_ptr<otel::TracerProvider> api_provider() const;

  bool force_flush(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Idempotent; later calls return true.
  bool shutdown(std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  std::shared_ptr<TracerProvider> provider_;
};

TracingGuard configure(ConfigureOptions options = {});

}  // namespace kiq::otel::sdk
