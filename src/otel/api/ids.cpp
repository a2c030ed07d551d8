#include "kiq/otel/ids.hpp"

#include <cstring>

#include "otel/internal/hex.hpp"
#include "otel/internal/random.hpp"

namespace kiq::otel {

TraceId TraceId::random() { return internal::random_trace_id(); }

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

SpanId SpanId::random() { return internal::random_span_id(); }

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
