// SpanData: everything an exporter needs about one finished span. Produced by the SDK when a
// recording span ends; handed to processors and exporters; immutable from then on.
//
// Thread-safety: value type; exporters may read it from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kiq/otel/attributes.hpp"
#include "kiq/otel/span_context.hpp"
#include "kiq/otel/span_kind.hpp"
#include "kiq/otel/sdk/resource.hpp"

namespace kiq::otel::sdk {

struct EventData {
  std::string name;
  std::uint64_t time_unix_nano = 0;
  Attributes attributes;
  std::uint32_t dropped_attributes_count = 0;
};

struct LinkData {
  SpanContext context;
  Attributes attributes;
  std::uint32_t dropped_attributes_count = 0;
};

struct SpanData {
  SpanContext context;          // this span's ids, flags, tracestate
  SpanId parent_span_id;        // invalid (all zero) for a root span
  bool parent_is_remote = false;
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  std::uint64_t start_unix_nano = 0;
  std::uint64_t end_unix_nano = 0;
  Attributes attributes;
  std::uint32_t dropped_attributes_count = 0;
  std::vector<EventData> events;
  std::uint32_t dropped_events_count = 0;
  std::vector<LinkData> links;
  std::uint32_t dropped_links_count = 0;
  StatusCode status_code = StatusCode::kUnset;
  std::string status_description;  // only meaningful with kError
  std::shared_ptr<const Resource> resource;
  std::shared_ptr<const InstrumentationScope> scope;

  bool has_parent() const { return parent_span_id.valid(); }
};

}  // namespace kiq::otel::sdk
