// Tracing for jobs that process many items (the tutorial's UserSyncJob): one parent span with
// batch.size / batch.successful / batch.failed / batch.success_rate and a `low_success_rate`
// event {success_rate, failed_count} below a threshold, and one child span per item. A failing
// item records its exception and ERROR status on its own span; the batch continues.
//
//   kiq::tracing::BatchSpan batch(*tracer, "batch.user_sync", ids.size());
//   for (auto id : ids)
//     batch.item("user.sync", {{"user.id", id}}, [&](kiq::otel::Span&) { sync(id); });
//   batch.finish();   // or let the destructor do it
//
// Thread-safety: one BatchSpan per thread (items run sequentially on the creating thread).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "kiq/otel/tracer.hpp"

namespace kiq::tracing {

struct BatchOptions {
  double low_success_rate = 0.9;                  // event below this rate
  std::string success_attribute = "item.success";  // set true/false on each item span
};

struct BatchResult {
  std::size_t size = 0;
  std::size_t successful = 0;
  std::size_t failed = 0;
  double success_rate = 1.0;  // successful / size (1.0 for an empty batch)
};

class BatchSpan {
 public:
  // Starts the parent span (current while the BatchSpan lives) with batch.size = `size`.
  BatchSpan(otel::Tracer& tracer, std::string_view name, std::size_t size, BatchOptions options = {});
  ~BatchSpan();  // finish()
  BatchSpan(const BatchSpan&) = delete;
  BatchSpan& operator=(const BatchSpan&) = delete;

  // Runs `fn` inside a child span. Returns true on success; on std::exception the span gets
  // the `exception` event, ERROR status with the message and success_attribute=false, and false
  // is returned (the exception is swallowed: the batch continues).
  bool item(std::string_view name, otel::Attributes attributes,
            const std::function<void(otel::Span&)>& fn);

  // Sets the result attributes (and the event), ends the span. Idempotent.
  BatchResult finish();
  otel::Span& span() { return *span_; }

 private:
  otel::Tracer& tracer_;
  BatchOptions options_;
  otel::SpanPtr span_;
  std::optional<otel::Scope> scope_;
  BatchResult result_;
  bool finished_ = false;
};

}  // namespace kiq::tracing
