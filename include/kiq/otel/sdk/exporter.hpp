// SpanExporter: the protocol-specific end of the pipeline (spec: "Span Exporter").
//
// Contract: export() is never called concurrently by the SDK's processors; it must not block
// indefinitely (bounded by its own timeout) and must not throw. After shutdown() every export()
// returns kFailure.
//
// Optional capability (the idea of opentelemetry-cpp's exporter-made "Recordable"): an exporter
// whose request body is a concatenation of independently serialized spans (OTLP protobuf) hands
// out a SpanSerializer. The batch processor then serializes each span on the thread that ends
// it, while the span's memory is still in that core's cache, queues only the bytes (the span's
// record goes straight back to its thread for reuse), and exports with export_serialized().
// Exporters without it (serializer() null) get SpanData through export_spans().
//
// Thread-safety: implementations must tolerate shutdown()/force_flush() from another thread
// than export(). A SpanSerializer is called concurrently from any threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kiq/otel/sdk/span_data.hpp"

namespace kiq::otel::sdk {

enum class ExportResult { kSuccess, kFailure };

// Serializes one finished span into its exporter's wire format. Thread-safe (const, no state).
class SpanSerializer {
 public:
  virtual ~SpanSerializer() = default;
  // The serialized span, written at the start of `scratch` (grown as needed, never shrunk, so
  // a caller that keeps it serializes without allocating). `span.resource` and `span.scope`
  // are not part of the output (the exporter writes them once per batch) and may be null.
  virtual std::string_view serialize(const SpanData& span, std::string& scratch) const = 0;
};

// Spans of one resource and scope serialized by the exporter's SpanSerializer, concatenated.
struct SerializedSpans {
  std::shared_ptr<const Resource> resource;
  std::shared_ptr<const InstrumentationScope> scope;
  std::string_view bytes;
  std::size_t count = 0;  // spans in `bytes`
};

class SpanExporter {
 public:
  virtual ~SpanExporter() = default;
  virtual ExportResult export_spans(std::span<const SpanData> batch) = 0;
  // The exporter's serializer, or null when it only takes SpanData (the default). Must return
  // the same answer for the exporter's lifetime.
  virtual std::shared_ptr<const SpanSerializer> serializer() const { return nullptr; }
  // Exports spans made by serializer(), as export_spans() does (same contract; one call is at
  // most one request). Only called when serializer() is not null.
  virtual ExportResult export_serialized(std::span<const SerializedSpans> batch) {
    (void)batch;
    return ExportResult::kFailure;
  }
  virtual bool force_flush(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    (void)timeout;
    return true;
  }
  virtual bool shutdown(std::chrono::milliseconds timeout = std::chrono::seconds(30)) = 0;
};

}  // namespace kiq::otel::sdk
