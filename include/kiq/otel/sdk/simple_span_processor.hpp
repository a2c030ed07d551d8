// SimpleSpanProcessor: exports each SAMPLED span as soon as it ends, on the ending thread.
// Exports are serialized by a mutex (never concurrent). Meant for tests and debugging; use the
// BatchSpanProcessor in production.
//
// Thread-safety: thread-safe.
#pragma once

#include <memory>
#include <mutex>

#include "kiq/otel/sdk/exporter.hpp"
#include "kiq/otel/sdk/span_processor.hpp"

namespace kiq::otel::sdk {

class SimpleSpanProcessor final : public SpanProcessor {
 public:
  explicit SimpleSpanProcessor(std::shared_ptr<SpanExporter> exporter);
  ~SimpleSpanProcessor() override;
  void on_end(SpanData&& span) override;
  bool force_flush(std::chrono::milliseconds timeout = std::chrono::seconds(30)) override;
  bool shutdown(std::chrono::milliseconds timeout = std::chrono::seconds(30)) override;

 private:
  std::shared_ptr<SpanExporter> exporter_;
  std::mutex mu_;  // serializes export_spans
  bool shut_down_ = false;
};

}  // namespace kiq::otel::sdk
