// Batch span helper (see batch.hpp).
#include "kiq/instrumentation/batch.hpp"

namespace kiq::tracing {

BatchSpan::BatchSpan(otel::Tracer& tracer, std::string_view name, std::size_t size,
                     BatchOptions options)
    : tracer_(tracer), options_(std::move(options)) {
  otel::StartSpanOptions start;
  start.attributes.push_back({"batch.size", static_cast<std::int64_t>(size)});
  span_ = tracer_.start_span(name, std::move(start));
  scope_.emplace(span_);
  result_.size = size;
}

BatchSpan::~BatchSpan() { finish(); }

bool BatchSpan::item(std::string_view name, otel::Attributes attributes,
                     const std::function<void(otel::Span&)>& fn) {
  otel::StartSpanOptions start;
  start.attributes = std::move(attributes);
  otel::SpanPtr span = tracer_.start_span(name, std::move(start));
  bool ok = true;
  {
    otel::Scope scope(span);
    try {
      fn(*span);
    } catch (const std::exception& e) {
      ok = false;
      span->record_exception(e);
      span->set_status(otel::StatusCode::kError, e.what());
    }
  }
  span->set_attribute(options_.success_attribute, ok);
  span->end();
  ++(ok ? result_.successful : result_.failed);
  return ok;
}

BatchResult BatchSpan::finish() {
  if (finished_) return result_;
  finished_ = true;
  // Items never run count as neither successful nor failed; the rate is over the batch size.
  result_.success_rate =
      result_.size == 0 ? 1.0 : static_cast<double>(result_.successful) / static_cast<double>(result_.size);
  span_->set_attribute("batch.successful", static_cast<std::int64_t>(result_.successful));
  span_->set_attribute("batch.failed", static_cast<std::int64_t>(result_.failed));
  span_->set_attribute("batch.success_rate", result_.success_rate);
  if (result_.success_rate < options_.low_success_rate)
    span_->add_event("low_success_rate", {{"success_rate", result_.success_rate},
                                          {"failed_count", static_cast<std::int64_t>(result_.failed)}});
  scope_.reset();
  span_->end();
  return result_;
}

}  // namespace kiq::tracing
