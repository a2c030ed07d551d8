#include "otel/internal/recycling.hpp"

#include <vector>

namespace kiq::otel::internal {
namespace {

constexpr std::size_t kMaxPooled = 64;              // lists kept per thread
constexpr std::size_t kMaxRecycledCapacity = 32;    // bigger lists are freed, not kept

// Set when this thread's pool is destroyed (thread exit); trivially destructible, so it can be
// read by later thread_local destructors.
thread_local bool t_pool_dead = false;

struct Pool {
  std::vector<Attributes> free;
  Pool() { free.reserve(kMaxPooled); }  // recycle_attributes() then never allocates
  ~Pool() { t_pool_dead = true; }
};

Pool& pool() {
  thread_local Pool p;
  return p;
}

}  // namespace

Attributes take_attributes(std::size_t capacity) {
  if (!t_pool_dead) {
    auto& free = pool().free;
    if (!free.empty()) {
      Attributes a = std::move(free.back());
      free.pop_back();
      if (a.capacity() < capacity) a.reserve(capacity);
      return a;
    }
  }
  Attributes a;
  a.reserve(capacity);
  return a;
}

void recycle_attributes(Attributes&& attributes) noexcept {
  const std::size_t cap = attributes.capacity();
  if (cap == 0 || cap > kMaxRecycledCapacity || t_pool_dead) return;
  auto& free = pool().free;
  if (free.size() >= kMaxPooled) return;
  attributes.clear();
  free.push_back(std::move(attributes));
}

}  // namespace kiq::otel::internal
