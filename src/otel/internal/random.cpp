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

}  // namespace

thread_local constinit Xoshiro256 t_random{};

void seed_random(Xoshiro256& g) {
  std::random_device rd;
  std::uint64_t x = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  x ^= reinterpret_cast<std::uintptr_t>(&g);  // distinct per thread even if rd is weak
  for (auto& v : g.s) v = splitmix64(x);
  g.seeded = true;
}

}  // namespace kiq::otel::internal
