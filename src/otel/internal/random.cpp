#include "otel/internal/random.hpp"

#include <pthread.h>

#include <random>

namespace kiq::otel::internal {

thread_local constinit RandomState t_random{};

namespace {

// A forked child is a copy of the thread that called fork(), generator included: without a
// reseed its ids would repeat the parent's. The handler runs in the child on that thread.
void reseed_after_fork() { t_random.seeded = false; }

}  // namespace

void seed_random(RandomState& g) {
  static const bool registered = pthread_atfork(nullptr, nullptr, reseed_after_fork) == 0;
  (void)registered;
  std::random_device rd;
  std::uint64_t x = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  x ^= reinterpret_cast<std::uintptr_t>(&g);  // distinct per thread even if rd is weak
  g.x = x;
  g.seeded = true;
}

}  // namespace kiq::otel::internal
