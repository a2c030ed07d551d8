// Integers read from a job hash. A hash is untrusted input (Ruby's integers are unbounded, and
// any client may write one), and nlohmann's get<int> silently truncates a wider value, so every
// int the engine reads from a hash saturates to int's range instead.
#pragma once

#include <climits>
#include <cstdint>
#include <optional>

#include "kiq/middleware.hpp"  // kiq::Json

namespace kiq {

// Precondition: value.is_number_integer().
inline int saturated_int(const Json& value) {
  if (value.is_number_unsigned()) {
    const std::uint64_t u = value.get<std::uint64_t>();
    return u > static_cast<std::uint64_t>(INT_MAX) ? INT_MAX : static_cast<int>(u);
  }
  const std::int64_t n = value.get<std::int64_t>();
  return n > INT_MAX ? INT_MAX : n < INT_MIN ? INT_MIN : static_cast<int>(n);
}

// A hash's "retry_count" value (retries so far), when there is one and it is an integer.
inline std::optional<int> retry_count_value(const Json* value) {
  if (value == nullptr || !value->is_number_integer()) return std::nullopt;
  return saturated_int(*value);
}

}  // namespace kiq
