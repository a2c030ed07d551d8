// sdk::TracerProvider: the OpenTelemetry SDK's provider. Owns the resource, sampler, span
// limits, id generator and span processors; its tracers create recording spans.
//
// Contracts: processors are fixed at construction. shutdown() runs once (shuts every
// processor down, flushing them); afterwards get_tracer() returns no-op tracers and tracers
// handed out earlier start non-recording spans. The destructor calls shutdown().
//
// Thread-safety: thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string_view>
#include <vector>

#include "kiq/otel/sdk/id_generator.hpp"
#include "kiq/otel/sdk/resource.hpp"
#include "kiq/otel/sdk/sampler.hpp"
#include "kiq/otel/sdk/span_limits.hpp"
#include "kiq/otel/sdk/span_processor.hpp"
#include "kiq/otel/tracer_provider.hpp"

namespace kiq::otel::sdk {

struct TracerProviderOptions {
  std::shared_ptr<const Resource> resource;  // null -> Resource::default_resource()
  SamplerPtr sampler;                        // null -> default_sampler() (ParentBased(AlwaysOn))
  SpanLimits limits;
  std::shared_ptr<IdGenerator> id_generator;  // null -> thread-local PRNG
  std::vector<std::shared_ptr<SpanProcessor>> processors;
};

class TracerProvider final : public otel::TracerProvider {
 public:
  explicit TracerProvider(TracerProviderOptions options = {});
  ~TracerProvider() override;
  TracerProvider(const TracerProvider&) = delete;
  TracerProvider& operator=(const TracerProvider&) = delete;

  // Tracers are cached per (name, version, schema_url).
  TracerPtr get_tracer(std::string_view name, std::string_view version = {},
                       std::string_view schema_url = {}) override;

  bool force_flush(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  bool shutdown(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  bool is_shut_down() const;

  const Resource& resource() const;
  const Sampler& sampler() const;
  const SpanLimits& limits() const;

  struct Shared;  // state shared with tracers and spans (implementation detail)

 private:
  struct Tracers;
  std::shared_ptr<Shared> shared_;
  std::unique_ptr<Tracers> tracers_;
};

}  // namespace kiq::otel::sdk
