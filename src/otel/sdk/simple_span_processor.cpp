#include "kiq/otel/sdk/simple_span_processor.hpp"

#include "otel/internal/log.hpp"

namespace kiq::otel::sdk {

SimpleSpanProcessor::SimpleSpanProcessor(std::shared_ptr<SpanExporter> exporter)
    : exporter_(std::move(exporter)) {
  if (!exporter_) internal::warn("SimpleSpanProcessor created without an exporter");
}

SimpleSpanProcessor::~SimpleSpanProcessor() { shutdown(); }

void SimpleSpanProcessor::on_end(SpanData&& span) {
  if (!span.context.sampled() || !exporter_) return;
  std::lock_guard lock(mu_);
  if (shut_down_) return;
  try {
    exporter_->export_spans(std::span<const SpanData>(&span, 1));
  } catch (...) {
    internal::warn_once("simple-export-threw", "span exporter threw (contract violation)");
  }
}

bool SimpleSpanProcessor::force_flush(std::chrono::milliseconds timeout) {
  std::lock_guard lock(mu_);
  return shut_down_ || !exporter_ || exporter_->force_flush(timeout);
}

bool SimpleSpanProcessor::shutdown(std::chrono::milliseconds timeout) {
  std::lock_guard lock(mu_);
  if (shut_down_) return true;
  shut_down_ = true;
  return !exporter_ || exporter_->shutdown(timeout);
}

}  // namespace kiq::otel::sdk
