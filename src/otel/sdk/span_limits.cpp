#include "kiq/otel/sdk/span_limits.hpp"

#include "kiq/otel/sdk/batch_span_processor.hpp"
#include "kiq/otel/sdk/env.hpp"
#include "otel/internal/log.hpp"

namespace kiq::otel::sdk {
namespace {

// Reads a non-negative count; the first variable set wins (signal-specific before generic).
void read_count(std::size_t& field, const char* name, const char* fallback_name = nullptr) {
  auto v = env_int(name);
  if (!v && fallback_name) {
    name = fallback_name;
    v = env_int(name);
  }
  if (!v) return;
  if (*v < 0) {
    internal::warn("{}: negative limit {} ignored", name, *v);
    return;
  }
  field = static_cast<std::size_t>(*v);
}

}  // namespace

SpanLimits SpanLimits::from_environment() {
  SpanLimits l;
  read_count(l.attribute_count_limit, "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
             "OTEL_ATTRIBUTE_COUNT_LIMIT");
  read_count(l.attribute_value_length_limit, "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
             "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT");
  read_count(l.event_count_limit, "OTEL_SPAN_EVENT_COUNT_LIMIT");
  read_count(l.link_count_limit, "OTEL_SPAN_LINK_COUNT_LIMIT");
  read_count(l.attribute_per_event_count_limit, "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT");
  read_count(l.attribute_per_link_count_limit, "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT");
  return l;
}

BatchSpanProcessorOptions BatchSpanProcessorOptions::from_environment() {
  BatchSpanProcessorOptions o;
  read_count(o.max_queue_size, "OTEL_BSP_MAX_QUEUE_SIZE");
  read_count(o.max_export_batch_size, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE");
  if (auto d = env_duration_ms("OTEL_BSP_SCHEDULE_DELAY")) o.schedule_delay = *d;
  if (auto d = env_duration_ms("OTEL_BSP_EXPORT_TIMEOUT")) o.export_timeout = *d;
  if (o.max_queue_size == 0) {
    internal::warn("OTEL_BSP_MAX_QUEUE_SIZE: 0 is not allowed, using 2048");
    o.max_queue_size = 2048;
  }
  if (o.max_export_batch_size == 0) o.max_export_batch_size = 512;
  if (o.max_export_batch_size > o.max_queue_size) o.max_export_batch_size = o.max_queue_size;
  return o;
}

}  // namespace kiq::otel::sdk
