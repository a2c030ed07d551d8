#include "kiq/otel/ids.hpp"

#include <cstring>

#include "otel/internal/hex.hpp"
#include "otel/internal/random.hpp"

namespace kiq::otel {

// Word-wise generation and zero check: ids are made twice per span start.
TraceId TraceId::random() {
  std::uint64_t hi, lo;
  do {
    hi = internal::random_u64();
    lo = internal::random_u64();
  } while ((hi | lo) == 0);
  std::array<std::uint8_t, kSize> b;
  std::memcpy(b.data(), &hi, 8);
  std::memcpy(b.data() + 8, &lo, 8);
  return TraceId(b);
}

std::optional<TraceId> TraceId::from_hex(std::string_view hex) {
  std::array<std::uint8_t, kSize> b;
  if (!internal::decode_lower_hex(hex, b.data(), kSize)) return std::nullopt;
  return TraceId(b);
}

void TraceId::write_hex(char out[2 * kSize]) const {
  internal::encode_lower_hex(bytes_.data(), kSize, out);
}

std::string TraceId::to_hex() const {
  std::string s(2 * kSize, '0');
  write_hex(s.data());
  return s;
}

SpanId SpanId::random() {
  std::uint64_t v;
  do {
    v = internal::random_u64();
  } while (v == 0);
  std::array<std::uint8_t, kSize> b;
  std::memcpy(b.data(), &v, 8);
  return SpanId(b);
}

std::optional<SpanId> SpanId::from_hex(std::string_view hex) {
  std::array<std::uint8_t, kSize> b;
  if (!internal::decode_lower_hex(hex, b.data(), kSize)) return std::nullopt;
  return SpanId(b);
}

void SpanId::write_hex(char out[2 * kSize]) const {
  internal::encode_lower_hex(bytes_.data(), kSize, out);
}

std::string SpanId::to_hex() const {
  std::string s(2 * kSize, '0');
  write_hex(s.data());
  return s;
}

}  // namespace kiq::otel
