#include "otel/internal/random.hpp"

#include <random>

namespace kiq::otel::internal {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// xoshiro256** state. Plain data with constant initialization, so the thread_local needs no
// per-access init guard; seeded lazily on a thread's first id.
struct Xoshiro256 {
  std::uint64_t s[4];
  bool seeded;
};

thread_local constinit Xoshiro256 t_gen{};

[[gnu::noinline]] void seed(Xoshiro256& g) {
  std::random_device rd;
  std::uint64_t x = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  x ^= reinterpret_cast<std::uintptr_t>(&g);  // distinct per thread even if rd is weak
  for (auto& v : g.s) v = splitmix64(x);
  g.seeded = true;
}

}  // namespace

std::uint64_t random_u64() {
  Xoshiro256& g = t_gen;
  if (!g.seeded) [[unlikely]] seed(g);
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

}  // namespace kiq::otel::internal
