// SpanExporter: the protocol-specific end of the pipeline (spec: "Span Exporter").
//
// Contract: export() is never called concurrently by the SDK's processors; it must not block
// indefinitely (bounded by its own timeout) and must not throw. After shutdown() every export()
// returns kFailure.
//
// Thread-safety: implementations must tolerate shutdown()/force_flush() from another thread
// than export().
#pragma once

#include <chrono>
#include <span>
#include <vector>

#include "kiq/otel/sdk/span_data.hpp"

namespace kiq::otel::sdk {

enum class ExportResult { kSuccess, kFailure };

class SpanExporter {
 public:
  virtual ~SpanExporter() = default;
  virtual ExportResult export_spans(std::span<const SpanData> batch) = 0;
  virtual bool force_flush(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    (void)timeout;
    return true;
  }
  virtual bool shutdown(std::chrono::milliseconds timeout = std::chrono::seconds(30)) = 0;
};

}  // namespace kiq::otel::sdk
