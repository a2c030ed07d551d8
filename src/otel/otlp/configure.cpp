// configure(): environment + code options -> TracerProvider, installed globally.
#include "kiq/otel/sdk/configure.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "kiq/otel/propagation.hpp"
#include "kiq/otel/sdk/env.hpp"
#include "kiq/otel/sdk/exporters/console.hpp"
#include "kiq/otel/sdk/simple_span_processor.hpp"
#include "otel/otlp/log.hpp"

namespace kiq::otel::sdk {
namespace {

std::vector<std::string> split_list(std::string_view list) {
  std::vector<std::string> names;
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    std::string name;
    for (char c : item) {
      if (c != ' ' && c != '\t') name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(std::move(name));
    }
  }
  return names;
}

std::shared_ptr<const Resource> build_resource(const ConfigureOptions& options) {
  Resource resource = Resource::default_resource();
  if (!options.resource_attributes.empty()) {
    resource = resource.merge(Resource(options.resource_attributes));
  }
  if (!options.service_name.empty()) {
    resource = resource.merge(Resource(Attributes{{"service.name", options.service_name}}));
  }
  return std::make_shared<const Resource>(std::move(resource));
}

std::vector<std::shared_ptr<SpanProcessor>> build_processors(const ConfigureOptions& options) {
  std::string list = options.traces_exporter.value_or(
      env_string("OTEL_TRACES_EXPORTER").value_or("otlp"));
  std::vector<std::shared_ptr<SpanProcessor>> processors;
  for (const auto& name : split_list(list)) {
    if (name == "otlp") {
      // Linked in, or loaded from libkiq_otlp.so; throws with the reason when neither works.
      auto exporter = make_otlp_http_exporter(
          options.otlp.value_or(OtlpHttpExporterOptions::from_env()));
      processors.push_back(std::make_shared<BatchSpanProcessor>(
          std::move(exporter), options.batch.value_or(BatchSpanProcessorOptions::from_environment())));
    } else if (name == "console") {
      processors.push_back(std::make_shared<SimpleSpanProcessor>(
          std::make_shared<ConsoleSpanExporter>(options.console_out)));
    } else if (name != "none") {
      otlp::log_warn("OTEL_TRACES_EXPORTER: exporter '{}' is not supported by kiq (use otlp, "
                     "console or none); ignored", name);
    }
  }
  for (const auto& extra : options.extra_processors) {
    if (extra) processors.push_back(extra);
  }
  return processors;
}

}  // namespace

TracingGuard configure(ConfigureOptions options) {
  // Propagators are configured even when the SDK is disabled (spec).
  std::string propagators = options.propagators.value_or(
      env_string("OTEL_PROPAGATORS").value_or("tracecontext,baggage"));
  set_global_propagator(make_propagator(propagators));

  if (options.disabled || sdk_disabled_by_env()) {
    if (options.install_global) set_tracer_provider(nullptr);
    return TracingGuard();
  }

  TracerProviderOptions provider_options;
  provider_options.resource = build_resource(options);
  provider_options.sampler = options.sampler ? options.sampler : sampler_from_environment();
  provider_options.limits = options.limits.value_or(SpanLimits::from_environment());
  provider_options.processors = build_processors(options);
  auto provider = std::make_shared<TracerProvider>(std::move(provider_options));
  if (options.install_global) set_tracer_provider(provider);
  return TracingGuard(std::move(provider));
}

TracingGuard::~TracingGuard() { shutdown(); }

TracingGuard& TracingGuard::operator=(TracingGuard&& other) noexcept {
  if (this != &other) {
    shutdown();
    provider_ = std::move(other.provider_);
  }
  return *this;
}

std::shared_ptr<otel::TracerProvider> TracingGuard::api_provider() const {
  if (provider_) return provider_;
  return noop_tracer_provider();
}

bool TracingGuard::force_flush(std::chrono::milliseconds timeout) {
  return provider_ ? provider_->force_flush(timeout) : true;
}

bool TracingGuard::shutdown(std::chrono::milliseconds timeout) {
  if (!provider_) return true;
  auto provider = std::move(provider_);
  provider_.reset();
  // Stop handing out our tracers first, so nothing new is recorded into a shut-down provider.
  if (tracer_provider() == provider) set_tracer_provider(nullptr);
  return provider->shutdown(timeout);
}

}  // namespace kiq::otel::sdk
