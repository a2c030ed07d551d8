// BatchSpanProcessor: queues SAMPLED finished spans and exports them in batches on its own
// thread, so exporters never run on the thread that ended the span.
//
// Contracts: the queue is bounded (max_queue_size); when full, the NEW span is dropped and
// counted (dropped_spans()), on_end never blocks. Exports happen when schedule_delay has passed,
// when max_export_batch_size spans are waiting, on force_flush (exports everything received
// before the call) and on shutdown (flushes, then shuts the exporter down; at the timeout the
// exporter is shut down at once, abandoning the export in flight, e.g. one retrying a
// collector that is down, and shutdown() returns false). Exports are never
// concurrent. export_timeout is handed to the exporter's force_flush; export_spans() itself must
// bound its own time (SpanExporter contract).
//
// Serializing exporters (SpanExporter::serializer() not null, e.g. OTLP/protobuf): on_end
// serializes the span on the calling thread and queues only its bytes, in buffers of up to
// max_export_batch_size spans that are reused after export (memory: the bytes of up to
// 2 x max_queue_size spans, kept until shutdown); the given SpanData is left as it was. Exports
// then go through export_serialized().
// Other exporters: exported spans stay in their queue slots until a new span is swapped in
// (their buffers then go back to the ending thread for reuse, never freed by the export
// thread): up to 2 x max_queue_size finished spans are retained until shutdown.
// on_end()/on_end_from() leave the given SpanData holding such an exported span's contents (or
// empty).
//
// Thread-safety: thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>

#include "kiq/otel/sdk/exporter.hpp"
#include "kiq/otel/sdk/span_processor.hpp"

namespace kiq::otel::sdk {

struct BatchSpanProcessorOptions {
  std::size_t max_queue_size = 2048;
  std::chrono::milliseconds schedule_delay{5000};
  std::chrono::milliseconds export_timeout{30000};
  std::size_t max_export_batch_size = 512;  // clamped to max_queue_size

  // OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_EXPORT_TIMEOUT,
  // OTEL_BSP_MAX_EXPORT_BATCH_SIZE over the defaults; garbage is warned about and ignored.
  static BatchSpanProcessorOptions from_environment();
};

class BatchSpanProcessor final : public SpanProcessor {
 public:
  explicit BatchSpanProcessor(std::shared_ptr<SpanExporter> exporter,
                              BatchSpanProcessorOptions options = {});
  ~BatchSpanProcessor() override;  // shutdown()
  BatchSpanProcessor(const BatchSpanProcessor&) = delete;
  BatchSpanProcessor& operator=(const BatchSpanProcessor&) = delete;

  void on_end(SpanData&& span) override;
  void on_end_from(SpanData&& span, const SpanOrigin& origin) override;
  bool force_flush(std::chrono::milliseconds timeout = std::chrono::seconds(30)) override;
  bool shutdown(std::chrono::milliseconds timeout = std::chrono::seconds(30)) override;

  // Spans lost since construction: dropped because the queue was full, or (serializing
  // exporters) because the span could not be serialized or buffered (e.g. out of memory).
  std::uint64_t dropped_spans() const;
  std::uint64_t exported_spans() const;  // spans handed to successful exports
  const BatchSpanProcessorOptions& options() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
  std::thread worker_;
};

}  // namespace kiq::otel::sdk
