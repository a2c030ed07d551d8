// Tracing for `kiq server` (see tracing_setup.hpp).
#include "cli/tracing_setup.hpp"

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "kiq/otel/sdk/batch_span_processor.hpp"
#include "kiq/otel/sdk/env.hpp"
#include "kiq/otel/sdk/exporters/otlp_http.hpp"
#include "kiq/client.hpp"
#include "kiq/tracing.hpp"

namespace kiq::cli {
namespace {

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v && *v;
}

// configure() options common to every command: service.name "kiq" unless the environment
// names the service.
otel::sdk::ConfigureOptions base_options() {
  otel::sdk::ConfigureOptions co;
  const char* attrs = std::getenv("OTEL_RESOURCE_ATTRIBUTES");
  bool named = env_set("OTEL_SERVICE_NAME") ||
               (attrs && std::string_view(attrs).find("service.name=") != std::string_view::npos);
  if (!named) co.service_name = "kiq";
  return co;
}

}  // namespace

bool tracing_requested_by_env() {
  return env_set("OTEL_TRACES_EXPORTER") || env_set("OTEL_EXPORTER_OTLP_ENDPOINT") ||
         env_set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
}

ExitGraceGuard setup_server_tracing(ServerOptions& options) {
  ExitGraceGuard out;
  if (tracing_requested_by_env()) {
    otel::sdk::ConfigureOptions co = base_options();
    const char* exporters = std::getenv("OTEL_TRACES_EXPORTER");
    bool plain_otlp = !exporters || !*exporters || std::string_view(exporters) == "otlp";
    if (plain_otlp && !otel::sdk::sdk_disabled_by_env()) {
      // The common case, built here so the job-attributes processor can wrap the batch
      // processor (no per-span copy); otherwise configure() builds the exporters.
      auto bsp = std::make_shared<otel::sdk::BatchSpanProcessor>(
          otel::sdk::make_otlp_http_exporter(),  // may load libkiq_otlp.so; throws if missing
          otel::sdk::BatchSpanProcessorOptions::from_environment());
      co.traces_exporter = "none";
      co.extra_processors = {tracing::make_job_attributes_processor(std::move(bsp))};
    } else {
      co.extra_processors = {tracing::make_job_attributes_processor()};
    }
    out.guard = otel::sdk::configure(std::move(co));
  }
  tracing::install(options);
  return out;
}

ClientTracing setup_client_tracing() {
  ClientTracing out;
  if (!tracing_requested_by_env()) return out;
  out.guard = otel::sdk::configure(base_options());
  if (out.guard.enabled()) {
    out.chain = tracing::client_chain();
    const std::size_t queue = otel::sdk::BatchSpanProcessorOptions::from_environment().max_queue_size;
    out.flush_every = std::clamp<std::size_t>(queue / 2, 1, Client::kDefaultBatchSize);
  }
  return out;
}

}  // namespace kiq::cli
