// OTLP/HTTP retry rules (otel.md D.2), as pure functions so tests can check them directly.
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace kiq::otel::otlp {

// 429, 502, 503, 504: the only statuses OTLP allows retrying.
bool is_retryable_status(long status);

// Retry-After value: delta-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT",
// interpreted against `now`; a date in the past means "now"). nullopt when unparseable.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

// Exponential backoff with jitter before retry `retry` (0-based): a duration in
// [base/2, base] where base = min(initial * 2^retry, max); `random01` in [0, 1) picks it.
std::chrono::milliseconds backoff_delay(int retry, std::chrono::milliseconds initial,
                                        std::chrono::milliseconds max, double random01);

}  // namespace kiq::otel::otlp
