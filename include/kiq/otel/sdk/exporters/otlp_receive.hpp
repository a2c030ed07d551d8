// Decoding of OTLP trace export requests back into SpanData: for OTLP receivers (a dashboard's
// own /v1/traces endpoint, test collectors) and for round-trip tests of the exporter.
//
// Contract: bad input never crashes or throws; it yields nullopt and a one-line reason, the way
// a collector answers 400. Ids must have their exact sizes (16/8 bytes; 32/16 hex chars in
// JSON). Attribute values kiq cannot represent (bytes, key-value lists, nested or mixed arrays)
// are dropped and counted in the dropped_attributes_count of their owner. Spans of one
// ResourceSpans share one Resource object, spans of one ScopeSpans one InstrumentationScope.
// Span.flags / Link.flags give the trace flags (bits 0-7) and the is-remote bit (bit 9, when
// bit 8 says it is known).
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiq/otel/sdk/span_data.hpp"

namespace kiq::otel::sdk {

// Body of Content-Type application/x-protobuf (a serialized ExportTraceServiceRequest).
std::optional<std::vector<SpanData>> decode_otlp_protobuf(std::string_view body,
                                                          std::string* error = nullptr);
// Body of Content-Type application/json (OTLP/JSON: hex ids, int64 as string or number, enums
// as integers).
std::optional<std::vector<SpanData>> decode_otlp_json(std::string_view body,
                                                      std::string* error = nullptr);

}  // namespace kiq::otel::sdk
