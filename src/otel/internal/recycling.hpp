// Per-thread recycling of what every recording span allocates (its object and its record with
// the SpanData buffers), so the span hot path costs no malloc/free in steady state.
//
// RecyclingAllocator<T>: an allocator for std::allocate_shared that keeps up to kMaxCached
// freed single-object blocks in a per-thread free list. A block freed on another thread goes to
// that thread's list (blocks come from ::operator new, so any thread may reuse or free them).
//
// ObjectPool<T>: a per-thread stack of constructed objects (span records) reused as they are.
//
// Both caches are released at thread exit; after that point (other thread_local destructors
// may still end or drop spans) they fall back to the plain allocator.
//
// Thread-safety: every cache is thread-local; the functions may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

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

// ObjectPool<T, kMax>: a per-thread stack of up to kMax constructed T objects kept for reuse WITH
// their buffers (the point: a span record's strings and attribute list are reused, not freed
// and rebuilt). T must have a `T* pool_next` member (the intrusive link). take() returns a
// pooled object (in whatever state it was given back) or a new default-constructed one; the
// returned pointer gives the object back on destruction, on whichever thread that happens.
template <class T, std::uint32_t kMax>
class ObjectPool {
 public:
  struct GiveBack {
    void operator()(T* object) const noexcept { give(object); }
  };
  using Ptr = std::unique_ptr<T, GiveBack>;

  static Ptr take() {
    Cache& c = cache_;
    if (T* object = c.head) {
      c.head = object->pool_next;
      --c.count;
      return Ptr(object);
    }
    return Ptr(std::make_unique<T>().release());
  }

  static void give(T* object) noexcept {
    Cache& c = cache_;
    if (c.count < kMax && !c.dead) {
      if (!c.registered) register_drain();
      object->pool_next = c.head;
      c.head = object;
      ++c.count;
      return;
    }
    std::unique_ptr<T> drop(object);
  }

 private:
  // Trivially destructible, so it stays usable while other thread_locals are destroyed.
  struct Cache {
    T* head = nullptr;
    std::uint32_t count = 0;
    bool registered = false;  // the Drain below exists for this thread
    bool dead = false;        // the Drain ran: no more pooling on this thread
  };
  struct Drain {
    ~Drain() {
      Cache& c = cache_;
      c.dead = true;
      while (T* object = c.head) {
        c.head = object->pool_next;
        std::unique_ptr<T> drop(object);
      }
      c.count = 0;
    }
  };
  static void register_drain() noexcept {
    static thread_local Drain drain;  // destroyed at thread exit: frees the pooled objects
    (void)drain;
    cache_.registered = true;
  }

  static inline thread_local Cache cache_{};
};

}  // namespace kiq::otel::internal
