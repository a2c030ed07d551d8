// Fast per-thread pseudo-random numbers for trace/span ids: splitmix64 (one 64-bit word of
// state, period 2^64, passes BigCrush), seeded from std::random_device once per thread (and
// again in a forked child, whose copy of the state would repeat the parent's ids). Not
// cryptographic (ids need uniqueness, not secrecy). Inline: ids are made three words at a time
// on every span start, and an out-of-line call plus a TLS lookup per word cost more than the
// generator itself.
//
// Thread-safety: each thread has its own generator.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

#include "kiq/otel/ids.hpp"

namespace kiq::otel::internal {

// Plain data with constant initialization, so the thread_local needs no per-access init guard
// or TLS wrapper call; seeded lazily on a thread's first id.
struct RandomState {
  std::uint64_t x;
  bool seeded;
};
extern thread_local constinit RandomState t_random;

// Seeds `g` (this thread's generator) from std::random_device.
[[gnu::noinline]] void seed_random(RandomState& g);

inline std::uint64_t random_u64() {
  RandomState& g = t_random;
  if (!g.seeded) [[unlikely]] seed_random(g);
  std::uint64_t z = (g.x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
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
