// Lowercase hex encoding/decoding helpers shared by ids and propagators.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kiq::otel::internal {

inline constexpr char kHexDigits[] = "0123456789abcdef";

// Value of a lowercase hex digit, or -1 (uppercase is rejected: W3C uses HEXDIGLC).
inline int lower_hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Decodes exactly 2*n lowercase hex chars into out[n]; false on any bad char.
inline bool decode_lower_hex(std::string_view hex, std::uint8_t* out, std::size_t n) {
  if (hex.size() != 2 * n) return false;
  for (std::size_t i = 0; i < n; ++i) {
    int hi = lower_hex_value(hex[2 * i]);
    int lo = lower_hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

inline void encode_lower_hex(const std::uint8_t* in, std::size_t n, char* out) {
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kHexDigits[in[i] >> 4];
    out[2 * i + 1] = kHexDigits[in[i] & 0xf];
  }
}

}  // namespace kiq::otel::internal
