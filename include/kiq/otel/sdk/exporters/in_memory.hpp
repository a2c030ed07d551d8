// InMemorySpanExporter: keeps exported spans in memory; what tests assert on.
//
// Thread-safety: thread-safe (finished_spans()/reset() may race with exports).
#pragma once

#include <mutex>
#include <vector>

#include "kiq/otel/sdk/exporter.hpp"

namespace kiq::otel::sdk {

class InMemorySpanExporter final : public SpanExporter {
 public:
  ExportResult export_spans(std::span<const SpanData> batch) override;
  bool shutdown(std::chrono::milliseconds timeout = std::chrono::seconds(30)) override;

  std::vector<SpanData> finished_spans() const;  // in export order
  std::size_t size() const;
  void reset();

 private:
  mutable std::mutex mu_;
  std::vector<SpanData> spans_;
  bool shut_down_ = false;
};

}  // namespace kiq::otel::sdk
