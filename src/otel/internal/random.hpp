// Fast per-thread pseudo-random numbers for trace/span ids: xoshiro256** seeded by splitmix64
// from std::random_device once per thread. Not cryptographic (ids need uniqueness, not secrecy).
//
// Thread-safety: each thread has its own generator.
#pragma once

#include <cstdint>

namespace kiq::otel::internal {

std::uint64_t random_u64();

}  // namespace kiq::otel::internal
