// Hand-built SpanData for encoding and exporter tests (no SDK involved, so every field is
// controlled exactly).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kiq/otel/sdk/span_data.hpp"

namespace kiq::testing {

inline otel::TraceId trace_id_of(std::uint8_t seed) {
  std::array<std::uint8_t, 16> b{};
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(seed + i);
  return otel::TraceId(b);
}

inline otel::SpanId span_id_of(std::uint8_t seed) {
  std::array<std::uint8_t, 8> b{};
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(seed + 0x40 + i);
  return otel::SpanId(b);
}

inline std::shared_ptr<const otel::sdk::Resource> sample_resource(const std::string& service) {
  return std::make_shared<const otel::sdk::Resource>(
      otel::Attributes{{"service.name", service}, {"host.cores", std::int64_t{2}}});
}

inline std::shared_ptr<const otel::sdk::InstrumentationScope> sample_scope(
    const std::string& name, const std::string& version) {
  auto scope = std::make_shared<otel::sdk::InstrumentationScope>();
  scope->name = name;
  scope->version = version;
  return scope;
}

// A sampled root span with one attribute; callers adjust fields.
inline otel::sdk::SpanData sample_span(std::uint8_t seed = 1) {
  otel::sdk::SpanData span;
  span.context = otel::SpanContext(trace_id_of(seed), span_id_of(seed),
                                   otel::TraceFlags(otel::TraceFlags::kSampled), false);
  span.name = "span-" + std::to_string(seed);
  span.kind = otel::SpanKind::kInternal;
  span.start_unix_nano = 1700000000000000000ULL + seed;
  span.end_unix_nano = span.start_unix_nano + 1500;
  span.attributes = {{"seed", std::int64_t{seed}}};
  static const auto resource = sample_resource("otlp-test");
  static const auto scope = sample_scope("kiq.test", "1.0");
  span.resource = resource;
  span.scope = scope;
  return span;
}

inline std::vector<otel::sdk::SpanData> sample_batch(std::size_t n) {
  std::vector<otel::sdk::SpanData> spans;
  for (std::size_t i = 0; i < n; ++i) spans.push_back(sample_span(static_cast<std::uint8_t>(i + 1)));
  return spans;
}

// Spans using every field: parents (local and remote), tracestate, all attribute types, events,
// links (remote and local), dropped counts, statuses, two resources and scopes.
inline std::vector<otel::sdk::SpanData> rich_batch() {
  using namespace otel;
  std::vector<sdk::SpanData> spans;
  sdk::SpanData root = sample_span(1);
  root.kind = SpanKind::kServer;
  root.attributes = {{"b", true},
                     {"i", std::int64_t{-9007199254740993}},
                     {"d", 2.5},
                     {"s", std::string("text")},
                     {"ba", std::vector<bool>{true, false}},
                     {"ia", std::vector<std::int64_t>{1, -2}},
                     {"da", std::vector<double>{0.5}},
                     {"sa", std::vector<std::string>{"x", "y"}}};
  root.dropped_attributes_count = 1;
  root.status_code = StatusCode::kOk;
  spans.push_back(root);

  sdk::SpanData child = sample_span(2);
  child.context = SpanContext(root.context.trace_id(), span_id_of(2), TraceFlags(1), false,
                              TraceState::parse("vendor=abc,other=x").value_or(TraceState()));
  child.parent_span_id = root.context.span_id();
  child.kind = SpanKind::kClient;
  child.events.push_back({"checkpoint", 1700000000000000100ULL, {{"n", std::int64_t{5}}}, 2});
  child.dropped_events_count = 3;
  child.status_code = StatusCode::kError;
  child.status_description = "Unhandled exception of type: std::runtime_error";
  spans.push_back(child);

  sdk::SpanData remote = sample_span(3);
  remote.parent_span_id = span_id_of(77);
  remote.parent_is_remote = true;
  remote.kind = SpanKind::kConsumer;
  remote.links.push_back({SpanContext(trace_id_of(9), span_id_of(9), TraceFlags(1), true,
                                      TraceState::parse("k=v").value_or(TraceState())),
                          {{"link.reason", std::string("enqueued-by")}}, 1});
  remote.links.push_back({SpanContext(trace_id_of(8), span_id_of(8), TraceFlags(0), false), {}, 0});
  remote.dropped_links_count = 4;
  remote.resource = sample_resource("other-service");
  remote.scope = sample_scope("other.scope", "2.0");
  spans.push_back(remote);

  sdk::SpanData producer = sample_span(4);
  producer.kind = SpanKind::kProducer;
  producer.context = SpanContext(producer.context.trace_id(), producer.context.span_id(),
                                 TraceFlags(0), false);  // not sampled
  spans.push_back(producer);
  return spans;
}

}  // namespace kiq::testing
