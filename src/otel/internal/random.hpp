// Fast per-thread pseudo-random numbers for trace/span ids: xoshiro256** seeded by splitmix64
// from std::random_device once per thread. Not cryptographic (ids need uniqueness, not secrecy).
// random_u64() is inline: ids are made three words at a time on every span start, and an
// out-of-line call plus a TLS lookup per word cost more than the generator itself.
//
// Thread-safety: each thread has its own generator.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

#include "kiq/otel/ids.hpp"

namespace kiq::otel::internal {

// xoshiro256** state. Plain data with constant initialization, so the thread_local needs no
// per-access init guard or TLS wrapper call; seeded lazily on a thread's first id.
struct Xoshiro256 {
  std::uint64_t s[4];
  bool seeded;
};
extern thread_local constinit Xoshiro256 t_random;

// Seeds `g` (this thread's generator) from std::random_device.
[[gnu::noinline]] void seed_random(Xoshiro256& g);

inline std::uint64_t random_u64() {
  Xoshiro256& g = t_random;
  if (!g.seeded) [[unlikely]] seed_random(g);
  auto rotl = [](std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  std::uint64_t* s = g.s;
  const std::uint64_t result = rotl(s[1] * 5, 7) * 9;
  const std::uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

// Random valid (never all-zero) ids; inline for the span start path.
inline TraceId random_trace_id() {
  std::uint64_t hi, lo;
  do {
    hi = random_u64();
    lo = random_u64();
  } while ((hi | lo) == 0);
  std::array<std::uint8_t, TraceId::kSize> b;
  std::memcpy(b.data(), &hi, 8);
  std::memcpy(b.data() + 8, &lo, 8);
  return TraceId(b);
}

inline SpanId random_span_id() {
  std::uint64_t v;
  do {
    v = random_u64();
  } while (v == 0);
  std::array<std::uint8_t, SpanId::kSize> b;
  std::memcpy(b.data(), &v, 8);
  return SpanId(b);
}

}  // namespace kiq::otel::internal
