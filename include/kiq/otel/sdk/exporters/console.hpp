// ConsoleSpanExporter: one readable line per span to a std::ostream, and a helper rendering
// spans as an indented tree per trace (for debugging and examples).
//
// Thread-safety: thread-safe (a mutex serializes writes to the stream).
#pragma once

#include <iosfwd>
#include <mutex>
#include <span>
#include <string>

#include "kiq/otel/sdk/exporter.hpp"

namespace kiq::otel::sdk {

class ConsoleSpanExporter final : public SpanExporter {
 public:
  // `out` must outlive the exporter; default std::cout.
  explicit ConsoleSpanExporter(std::ostream* out = nullptr);
  ExportResult export_spans(std::span<const SpanData> batch) override;
  bool shutdown(std::chrono::milliseconds timeout = std::chrono::seconds(30)) override;

 private:
  std::ostream* out_;
  std::mutex mu_;
  bool shut_down_ = false;
};

// e.g. `span "default process" trace=4bf9.. span=00f0.. parent=- kind=consumer 1.234ms
//       status=error("boom") attrs={messaging.system="sidekiq"} events=[exception]`
std::string format_span_line(const SpanData& span);

// One block per trace id (in order of first appearance); children indented under parents by
// start time; each line shows name, kind, duration, key attributes, events and status.
// Spans whose parent is absent from the list are shown as roots.
std::string render_trace_tree(std::span<const SpanData> spans);

// Attribute value as text: strings quoted, arrays as [a, b].
std::string attribute_value_to_string(const AttributeValue& value);

}  // namespace kiq::otel::sdk
