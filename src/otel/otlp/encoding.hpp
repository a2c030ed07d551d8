// OTLP encodings of span batches (private to kiq_otlp; tests use it directly).
//
// Grouping contract: one ResourceSpans per distinct Resource object and, inside it, one
// ScopeSpans per distinct InstrumentationScope object, both in order of first appearance in the
// batch (spans of one provider share these objects, so identity grouping is exact and cheap).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "kiq/otel/sdk/exporter.hpp"
#include "kiq/otel/sdk/span_data.hpp"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace kiq::otel::otlp {

namespace pb = ::opentelemetry::proto;

// Span.flags / Link.flags bits (SpanFlags in trace.proto).
inline constexpr std::uint32_t kFlagsTraceFlagsMask = 0x000000FF;
inline constexpr std::uint32_t kFlagsHasIsRemote = 0x00000100;
inline constexpr std::uint32_t kFlagsIsRemote = 0x00000200;

// W3C flags of `flags`, plus "is-remote known" and, when `remote`, the is-remote bit.
std::uint32_t span_flags(TraceFlags flags, bool remote);

// The batch as generated message objects (the reference encoding; tests and benchmarks).
void to_proto(std::span<const sdk::SpanData> batch,
              pb::collector::trace::v1::ExportTraceServiceRequest& out);

// Serialized ExportTraceServiceRequest (Content-Type application/x-protobuf), written straight
// into the wire format (encoding_wire.cpp). Byte for byte what encode_protobuf_generated gives.
std::string encode_protobuf(std::span<const sdk::SpanData> batch);

// The same encoding for an exporter that encodes batch after batch: the output buffer is kept
// (no allocation nor zero-fill per batch once it has grown) and each Resource's and scope's
// encoded bytes are kept too (keyed by object identity, holding a reference so an address is
// never reused while cached; the objects are immutable).
//
// Thread-safety: none; one encoder per exporter (exports are serialized).
class WireEncoder {
 public:
  WireEncoder();
  ~WireEncoder();
  WireEncoder(const WireEncoder&) = delete;
  WireEncoder& operator=(const WireEncoder&) = delete;

  // The serialized request; valid until the next encode() or the encoder's destruction.
  std::string_view encode(std::span<const sdk::SpanData> batch);
  // The same bytes appended to `out` (not using the kept buffer).
  void encode_append(std::span<const sdk::SpanData> batch, std::string& out);

  // The request for spans serialized by serialize_span(), grouped as encode() groups them
  // (by resource, then scope, in order of first appearance), so the bytes equal encode() of
  // the same spans in the same order. Valid until the next encode*() call.
  std::string_view encode_serialized(std::span<const sdk::SerializedSpans> batch);

  // Drops the buffer's memory and the caches (e.g. after an unusually large batch).
  void release();

 private:
  struct Caches;
  std::string buffer_;
  std::unique_ptr<Caches> caches_;
};

// One span as it sits in ScopeSpans: the `spans` field (tag, length, Span message). Written at
// the start of `scratch` (reused; grown as needed); returns those bytes. Thread-safe.
std::string_view serialize_span(const sdk::SpanData& span, std::string& scratch);

// to_proto() then SerializeToString: same bytes as encode_protobuf, several times the CPU.
std::string encode_protobuf_generated(std::span<const sdk::SpanData> batch);

// OTLP/JSON ExportTraceServiceRequest (Content-Type application/json): lowerCamelCase keys, hex
// trace/span ids, enums as integers, 64-bit integers as decimal strings, non-finite doubles as
// "NaN" / "Infinity" / "-Infinity" (kiq's attribute model has no bytes values, so no base64).
std::string encode_json(std::span<const sdk::SpanData> batch);

}  // namespace kiq::otel::otlp
