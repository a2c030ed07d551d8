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

}  // namespace kiq::testing
