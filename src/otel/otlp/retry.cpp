#include "otel/otlp/retry.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <string>

namespace kiq::otel::otlp {

bool is_retryable_status(long status) {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) {
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) {
    value.remove_prefix(1);
  }
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) {
    value.remove_suffix(1);
  }
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    long long seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc()) return std::nullopt;  // absurdly large
    constexpr long long kMaxSeconds = 365LL * 24 * 3600;  // avoids overflow below
    return std::chrono::milliseconds(std::min(seconds, kMaxSeconds) * 1000);
  }
  // curl_getdate understands the three HTTP-date formats of RFC 9110.
  std::string text(value);
  time_t when = curl_getdate(text.c_str(), nullptr);
  if (when == -1) return std::nullopt;
  auto delta = std::chrono::system_clock::from_time_t(when) - now;
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(delta));
}

std::chrono::milliseconds backoff_delay(int retry, std::chrono::milliseconds initial,
                                        std::chrono::milliseconds max, double random01) {
  std::int64_t base = initial.count();
  for (int i = 0; i < retry && base < max.count(); ++i) base *= 2;
  base = std::min<std::int64_t>(base, max.count());
  random01 = std::clamp(random01, 0.0, 1.0);
  return std::chrono::milliseconds(base / 2 + static_cast<std::int64_t>(static_cast<double>(base - base / 2) * random01));
}

}  // namespace kiq::otel::otlp
