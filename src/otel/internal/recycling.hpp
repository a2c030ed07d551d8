// Per-thread recycling of the two allocations every recording span makes (its object and its
// attribute list), so the span hot path costs no malloc/free in steady state.
//
// RecyclingAllocator<T>: an allocator for std::allocate_shared that keeps up to kMaxCached
// freed single-object blocks in a per-thread free list. A block freed on another thread goes to
// that thread's list (blocks come from ::operator new, so any thread may reuse or free them).
//
// take_attributes()/recycle_attributes(): a per-thread stack of empty attribute vectors that
// keep their capacity. The batch processor recycles the lists of exported spans; new spans
// take them instead of allocating.
//
// Both caches are released at thread exit; after that point (other thread_local destructors
// may still end or drop spans) they fall back to the plain allocator.
//
// Thread-safety: every cache is thread-local; the functions may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "kiq/otel/attributes.hpp"

namespace kiq::otel::internal {

template <class T>
class RecyclingAllocator {
 public:
  using value_type = T;
  static constexpr std::uint32_t kMaxCached = 256;

  RecyclingAllocator() = default;
  template <class U>
  RecyclingAllocator(const RecyclingAllocator<U>&) noexcept {}  // NOLINT: rebinding

  T* allocate(std::size_t n) {
    Cache& c = cache_;
    if (n == 1 && c.head) {
      Node* node = c.head;
      c.head = node->next;
      --c.count;
      return reinterpret_cast<T*>(node);
    }
    return std::allocator<T>().allocate(n);
  }

  void deallocate(T* p, std::size_t n) noexcept {
    Cache& c = cache_;
    if (n == 1 && c.count < kMaxCached && !c.dead) {
      if (!c.registered) register_drain();
      Node* node = reinterpret_cast<Node*>(p);
      node->next = c.head;
      c.head = node;
      ++c.count;
      return;
    }
    std::allocator<T>().deallocate(p, n);
  }

  friend bool operator==(const RecyclingAllocator&, const RecyclingAllocator&) { return true; }

 private:
  static_assert(sizeof(T) >= sizeof(void*) && alignof(T) <= alignof(std::max_align_t));
  struct Node {
    Node* next;
  };
  // Trivially destructible, so it stays usable while other thread_locals are destroyed.
  struct Cache {
    Node* head = nullptr;
    std::uint32_t count = 0;
    bool registered = false;  // the Drain below exists for this thread
    bool dead = false;        // the Drain ran: no more caching on this thread
  };
  struct Drain {
    ~Drain() {
      Cache& c = cache_;
      c.dead = true;
      while (c.head) {
        Node* node = c.head;
        c.head = node->next;
        std::allocator<T>().deallocate(reinterpret_cast<T*>(node), 1);
      }
      c.count = 0;
    }
  };
  static void register_drain() noexcept {
    static thread_local Drain drain;  // destroyed at thread exit: frees the cached blocks
    (void)drain;
    cache_.registered = true;
  }

  static inline thread_local Cache cache_{};
};

// An empty attribute list, with at least `capacity` reserved (a recycled one when available).
Attributes take_attributes(std::size_t capacity);
// Takes `attributes` (cleared, buffer kept) for take_attributes() on this thread when its buffer
// is small and the pool has room; otherwise leaves it untouched for its owner to free.
void recycle_attributes(Attributes&& attributes) noexcept;

}  // namespace kiq::otel::internal
