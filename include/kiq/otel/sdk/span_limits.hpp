// Span limits (spec "Span Limits"): over a count limit the NEW item is dropped and counted in
// the matching dropped_*_count; over the length limit strings are truncated (per array element).
//
// Thread-safety: value type.
#pragma once

#include <cstddef>
#include <limits>

namespace kiq::otel::sdk {

struct SpanLimits {
  static constexpr std::size_t kUnlimited = std::numeric_limits<std::size_t>::max();

  std::size_t attribute_count_limit = 128;
  std::size_t attribute_value_length_limit = kUnlimited;  // characters (bytes) of a string
  std::size_t event_count_limit = 128;
  std::size_t link_count_limit = 128;
  std::size_t attribute_per_event_count_limit = 128;
  std::size_t attribute_per_link_count_limit = 128;

  // OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT (else OTEL_ATTRIBUTE_COUNT_LIMIT),
  // OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT (else OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT),
  // OTEL_SPAN_EVENT_COUNT_LIMIT, OTEL_SPAN_LINK_COUNT_LIMIT, OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT,
  // OTEL_LINK_ATTRIBUTE_COUNT_LIMIT; garbage is warned about and ignored.
  static SpanLimits from_environment();
};

}  // namespace kiq::otel::sdk
