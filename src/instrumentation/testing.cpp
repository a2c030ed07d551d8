// TracingHarness (see kiq/instrumentation/testing.hpp).
#include "kiq/instrumentation/testing.hpp"

#include "kiq/instrumentation/trace_tree.hpp"
#include "kiq/otel/sdk/simple_span_processor.hpp"

namespace kiq::testing {
namespace {

ServerChain server_chain(const tracing::TracingOptions& options) {
  ServerChain chain;
  chain.add(tracing::make_server_middleware(options));
  return chain;
}

}  // namespace

TracingHarness::TracingHarness(const JobRegistry& registry, tracing::TracingOptions options, Mode mode)
    : exporter_(std::make_shared<otel::sdk::InMemorySpanExporter>()) {
  otel::sdk::TracerProviderOptions po;
  po.processors.push_back(tracing::make_job_attributes_processor(
      std::make_shared<otel::sdk::SimpleSpanProcessor>(exporter_)));
  provider_ = std::make_shared<otel::sdk::TracerProvider>(std::move(po));
  previous_ = otel::tracer_provider();
  otel::set_tracer_provider(provider_);
  options.tracer_provider = provider_;
  jobs_ = std::make_unique<Harness>(registry, mode, server_chain(options), tracing::client_chain(options));
}

TracingHarness::~TracingHarness() {
  jobs_.reset();
  otel::set_tracer_provider(previous_);
  provider_->shutdown();
}

otel::TracerPtr TracingHarness::tracer(std::string_view name) { return provider_->get_tracer(name); }

std::vector<otel::sdk::SpanData> TracingHarness::spans() const { return exporter_->finished_spans(); }

std::optional<otel::sdk::SpanData> TracingHarness::find(std::string_view name) const {
  for (auto& s : spans())
    if (s.name == name) return s;
  return std::nullopt;
}

std::vector<otel::sdk::SpanData> TracingHarness::find_all(std::string_view name) const {
  std::vector<otel::sdk::SpanData> out;
  for (auto& s : spans())
    if (s.name == name) out.push_back(s);
  return out;
}

std::optional<otel::sdk::SpanData> TracingHarness::find_error() const {
  for (auto& s : spans())
    if (s.status_code == otel::StatusCode::kError) return s;
  return std::nullopt;
}

void TracingHarness::reset() { exporter_->reset(); }

std::string TracingHarness::render() const {
  auto all = spans();
  tracing::TreeOptions options;
  options.all_attributes = true;
  return tracing::render_traces(all, options);
}

const otel::AttributeValue* TracingHarness::attribute(const otel::sdk::SpanData& span, std::string_view key) {
  for (const auto& a : span.attributes)
    if (a.key == key) return &a.value;
  return nullptr;
}

const otel::sdk::EventData* TracingHarness::event(const otel::sdk::SpanData& span, std::string_view name) {
  for (const auto& e : span.events)
    if (e.name == name) return &e;
  return nullptr;
}

}  // namespace kiq::testing
