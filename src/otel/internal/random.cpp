#include "otel/internal/random.hpp"

#include <random>

namespace kiq::otel::internal {

thread_local constinit RandomState t_random{};

void seed_random(RandomState& g) {
  std::random_device rd;
  std::uint64_t x = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  x ^= reinterpret_cast<std::uintptr_t>(&g);  // distinct per thread even if rd is weak
  g.x = x;
  g.seeded = true;
}

}  // namespace kiq::otel::internal
