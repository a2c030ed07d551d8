#include "kiq/otel/ids.hpp"

#include <algorithm>
#include <cstring>

#include "otel/internal/hex.hpp"
#include "otel/internal/random.hpp"

namespace kiq::otel {
namespace {

template <std::size_t N>
bool any_nonzero(const std::array<std::uint8_t, N>& b) {
  return std::any_of(b.begin(), b.end(), [](std::uint8_t v) { return v != 0; });
}

void fill_random(std::uint8_t* out, std::size_t n) {
  for (std::size_t i = 0; i < n; i += 8) {
    std::uint64_t r = internal::random_u64();
    std::memcpy(out + i, &r, std::min<std::size_t>(8, n - i));
  }
}

}  // namespace

TraceId TraceId::random() {
  std::array<std::uint8_t, kSize> b;
  do {
    fill_random(b.data(), kSize);
  } while (!any_nonzero(b));
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
  std::array<std::uint8_t, kSize> b;
  do {
    fill_random(b.data(), kSize);
  } while (!any_nonzero(b));
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
