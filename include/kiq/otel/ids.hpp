// Trace and span identifiers and trace flags (W3C Trace Context).
//
// Thread-safety: value types; const methods may be called concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace kiq::otel {

// 16-byte trace id. All-zero is the invalid id.
class TraceId {
 public:
  static constexpr std::size_t kSize = 16;
  constexpr TraceId() = default;
  explicit constexpr TraceId(const std::array<std::uint8_t, kSize>& bytes) : bytes_(bytes) {}

  // A random, valid id (thread-local generator; never all zero).
  static TraceId random();
  // 32 lowercase hex chars; uppercase or any other length -> nullopt.
  static std::optional<TraceId> from_hex(std::string_view hex);

  bool valid() const {  // inline: checked several times per span start
    std::uint64_t hi, lo;
    std::memcpy(&hi, bytes_.data(), 8);
    std::memcpy(&lo, bytes_.data() + 8, 8);
    return (hi | lo) != 0;
  }
  std::string to_hex() const;  // 32 lowercase hex chars
  void write_hex(char out[2 * kSize]) const;
  const std::array<std::uint8_t, kSize>& bytes() const { return bytes_; }

  friend bool operator==(const TraceId&, const TraceId&) = default;

 private:
  std::array<std::uint8_t, kSize> bytes_{};
};

// 8-byte span id. All-zero is the invalid id.
class SpanId {
 public:
  static constexpr std::size_t kSize = 8;
  constexpr SpanId() = default;
  explicit constexpr SpanId(const std::array<std::uint8_t, kSize>& bytes) : bytes_(bytes) {}

  static SpanId random();
  static std::optional<SpanId> from_hex(std::string_view hex);  // 16 lowercase hex chars

  bool valid() const {
    std::uint64_t v;
    std::memcpy(&v, bytes_.data(), 8);
    return v != 0;
  }
  std::string to_hex() const;
  void write_hex(char out[2 * kSize]) const;
  const std::array<std::uint8_t, kSize>& bytes() const { return bytes_; }

  friend bool operator==(const SpanId&, const SpanId&) = default;

 private:
  std::array<std::uint8_t, kSize> bytes_{};
};

// W3C trace-flags byte: bit 0 sampled, bit 1 random trace id (Level 2); other bits reserved.
class TraceFlags {
 public:
  static constexpr std::uint8_t kSampled = 0x01;
  static constexpr std::uint8_t kRandom = 0x02;

  constexpr TraceFlags() = default;
  explicit constexpr TraceFlags(std::uint8_t flags) : flags_(flags) {}

  constexpr bool sampled() const { return (flags_ & kSampled) != 0; }
  constexpr std::uint8_t value() const { return flags_; }

  friend constexpr bool operator==(TraceFlags, TraceFlags) = default;

 private:
  std::uint8_t flags_ = 0;
};

}  // namespace kiq::otel
