#include "kiq/otel/sdk/exporters/in_memory.hpp"

namespace kiq::otel::sdk {

ExportResult InMemorySpanExporter::export_spans(std::span<const SpanData> batch) {
  std::lock_guard lock(mu_);
  if (shut_down_) return ExportResult::kFailure;
  spans_.insert(spans_.end(), batch.begin(), batch.end());
  return ExportResult::kSuccess;
}

bool InMemorySpanExporter::shutdown(std::chrono::milliseconds) {
  std::lock_guard lock(mu_);
  shut_down_ = true;
  return true;
}

std::vector<SpanData> InMemorySpanExporter::finished_spans() const {
  std::lock_guard lock(mu_);
  return spans_;
}

std::size_t InMemorySpanExporter::size() const {
  std::lock_guard lock(mu_);
  return spans_.size();
}

void InMemorySpanExporter::reset() {
  std::lock_guard lock(mu_);
  spans_.clear();
}

}  // namespace kiq::otel::sdk
